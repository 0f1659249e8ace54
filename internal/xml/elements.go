package xml

import (
	"fmt"

	"github.com/ivr-project/ivr/internal/ivr"
)

// spelling is how a dialect writes the elements TwiML and Plivo XML share.
type spelling struct {
	say, pause  string              // the speech and silence elements
	plivoVoice  bool                // voice names as Plivo spells them (see voice)
	number      func(string) string // a phone number, as the dialect writes it
	dialTimeout func(int) int       // the seconds a transfer rings, within the dialect's range
}

var spellings = [...]spelling{
	dialectTwilio: {say: "Say", pause: "Pause", number: func(n string) string { return n },
		dialTimeout: func(s int) int { return clamp(s, 5, 600) }}, // Twilio: 5-600
	dialectPlivo: {say: "Speak", pause: "Wait", plivoVoice: true, number: plivoNumber,
		dialTimeout: func(s int) int { return s }},
}

// prompt writes speech, Play or silence: the elements allowed both at the
// top and inside a gather.
func (d dialect) prompt(w *writer, s ivr.Step) error {
	sp := &spellings[d]
	switch s := s.(type) {
	case ivr.Say:
		if err := checkText("say text", s.Text); err != nil {
			return err
		}
		if err := checkNonNegative("loop", s.Loop); err != nil {
			return err
		}
		w.open(sp.say)
		if s.Voice != "" {
			w.attr("voice", voice(s.Voice, sp.plivoVoice))
		}
		if s.Language != "" {
			w.attr("language", s.Language)
		}
		if s.Loop > 1 {
			w.attrInt("loop", s.Loop)
		}
		w.endText(sp.say, s.Text)
	case ivr.Play:
		if err := checkText("play URL", s.URL); err != nil {
			return err
		}
		if err := checkNonNegative("loop", s.Loop); err != nil {
			return err
		}
		w.open("Play")
		if s.Loop > 1 {
			w.attrInt("loop", s.Loop)
		}
		w.endText("Play", s.URL)
	case ivr.Pause:
		if err := checkNonNegative("pause", s.Seconds); err != nil {
			return err
		}
		w.open(sp.pause)
		if s.Seconds > 0 {
			w.attrInt("length", s.Seconds)
		}
		w.endEmpty()
	case ivr.Gather:
		return fmt.Errorf("nested gather")
	default:
		return fmt.Errorf("%T is not allowed inside a gather (only Say, Play, Pause)", s)
	}
	return nil
}

// gatherPrompts finishes the gather element name the dialect opened: its
// nested prompts and the end tag.
func (d dialect) gatherPrompts(w *writer, name string, prompts []ivr.Step) error {
	if len(prompts) == 0 {
		w.endEmpty()
		return nil
	}
	w.endParent()
	for i, p := range prompts {
		p, err := deref(p)
		if err == nil {
			err = d.prompt(w, p)
		}
		if err != nil {
			return fmt.Errorf("prompt %d: %w", i, err)
		}
	}
	w.closeParent(name)
	return nil
}

// record writes a voicemail recording; the dialects differ only in how
// they ask for a transcript.
func (d dialect) record(w *writer, base string, s ivr.Record) error {
	if err := checkRecord(s); err != nil {
		return err
	}
	w.open("Record")
	w.attrURL("action", base, s.Action)
	w.attr("method", "POST")
	if s.MaxLengthSeconds > 0 {
		w.attrInt("maxLength", s.MaxLengthSeconds)
	}
	if s.FinishOnKey != "" {
		w.attr("finishOnKey", s.FinishOnKey)
	}
	if s.TimeoutSeconds > 0 {
		w.attrInt("timeout", s.TimeoutSeconds)
	}
	w.attrBool("playBeep", s.PlayBeep)
	if t := s.Transcription; t != nil {
		if d == dialectPlivo {
			w.attr("transcriptionType", "auto")
			w.attrURL("transcriptionUrl", base, *t)
			w.attr("transcriptionMethod", "POST")
		} else {
			w.attr("transcribe", "true")
			w.attrURL("transcribeCallback", base, *t)
		}
	}
	w.endEmpty()
	return nil
}

// ElementName is the element provider's dialect spells v with: what the
// reader read it from, what the writer writes.
func ElementName(provider string, v Verb) string {
	d := dialectTwilio
	if provider == ProviderPlivo {
		d = dialectPlivo
	}
	switch v := v.(type) {
	case Say:
		return spellings[d].say
	case Play:
		return "Play"
	case Pause:
		return spellings[d].pause
	case DTMF:
		if d == dialectPlivo {
			return "DTMF"
		}
		return "Play" // Twilio: <Play digits="...">
	case Gather:
		return v.Element
	case Dial:
		return "Dial"
	case Record:
		return "Record"
	case Redirect:
		return "Redirect"
	case Hangup:
		if v.Reject {
			return "Reject"
		}
		return "Hangup"
	case Unknown:
		return v.Name
	}
	return fmt.Sprintf("%T", v)
}
