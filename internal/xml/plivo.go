package xml

import (
	"fmt"

	"github.com/ivr-project/ivr/internal/ivr"
)

// plivo writes Plivo XML (https://www.plivo.com/docs/voice/xml/,
// https://www.plivo.com/docs/messaging/xml/message).
type plivo struct{}

// mixed: Plivo allows <Message> in a call flow.
func (plivo) mixed(int, int) error { return nil }

func (p plivo) step(w *writer, base string, s ivr.Step) error {
	switch s := s.(type) {
	case ivr.Say, ivr.Play, ivr.Pause:
		return p.prompt(w, s)
	case ivr.Gather:
		if err := checkGather(s); err != nil {
			return err
		}
		if s.Speech {
			p.getInput(w, base, s)
		} else {
			p.getDigits(w, base, s)
		}
		return p.prompts(w, s)
	case ivr.Dial:
		if err := checkDial(s); err != nil {
			return err
		}
		w.open("Dial")
		if s.CallerID != "" {
			w.attr("callerId", plivoNumber(s.CallerID))
		}
		if s.TimeoutSeconds > 0 {
			w.attrInt("timeout", s.TimeoutSeconds)
		}
		if s.Action != nil {
			w.attrURL("action", base, *s.Action)
			w.attr("method", "POST")
		}
		w.endParent()
		for _, n := range s.Numbers {
			w.open("Number")
			w.endText("Number", plivoNumber(n))
		}
		w.closeParent("Dial")
	case ivr.Record:
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
		w.endEmpty()
	case ivr.Redirect:
		w.open("Redirect")
		w.attr("method", "POST")
		w.endURL("Redirect", base, s.Target)
	case ivr.Hangup:
		w.open("Hangup")
		w.endEmpty()
	case ivr.Message:
		if err := checkText("message text", s.Text); err != nil {
			return err
		}
		if err := checkNumber("message from (src)", s.From); err != nil {
			return err
		}
		if err := checkNumber("message to (dst)", s.To); err != nil {
			return err
		}
		w.open("Message")
		w.attr("src", plivoNumber(s.From))
		w.attr("dst", plivoNumber(s.To))
		w.attr("type", "sms")
		w.endText("Message", s.Text)
	default:
		return unknownStep(s)
	}
	return nil
}

// prompt writes Speak, Play or Wait: the elements allowed both at the top and
// inside <GetDigits>/<GetInput>.
func (plivo) prompt(w *writer, s ivr.Step) error {
	switch s := s.(type) {
	case ivr.Say:
		if err := checkText("say text", s.Text); err != nil {
			return err
		}
		if err := checkNonNegative("loop", s.Loop); err != nil {
			return err
		}
		w.open("Speak")
		if s.Voice != "" {
			w.attr("voice", voice(s.Voice, true))
		}
		if s.Language != "" {
			w.attr("language", s.Language)
		}
		if s.Loop > 1 {
			w.attrInt("loop", s.Loop)
		}
		w.endText("Speak", s.Text)
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
		w.open("Wait")
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

// finishKey is Plivo's spelling of "no finish key".
func finishKey(k string) string {
	if k == "" {
		return "none"
	}
	return k
}

// getDigits opens <GetDigits> (DTMF only): timeout is the wait for the first
// key, digitTimeout the wait between keys.
func (plivo) getDigits(w *writer, base string, g ivr.Gather) {
	w.open("GetDigits")
	w.attrURL("action", base, g.Action)
	w.attr("method", "POST")
	if g.TimeoutSeconds > 0 {
		w.attrInt("timeout", g.TimeoutSeconds)
	}
	if g.InterDigitSeconds > 0 {
		w.attrInt("digitTimeout", g.InterDigitSeconds)
	}
	if g.NumDigits > 0 {
		w.attrInt("numDigits", g.NumDigits)
	}
	w.attr("finishOnKey", finishKey(g.FinishOnKey))
	w.attrBool("redirect", true)
}

// getInput opens <GetInput> (speech, with or without keys). Plivo only
// accepts executionTimeout 5-60 and digitEndTimeout 2-10 (or "auto").
func (plivo) getInput(w *writer, base string, g ivr.Gather) {
	w.open("GetInput")
	w.attrURL("action", base, g.Action)
	w.attr("method", "POST")
	if g.DTMF {
		w.attr("inputType", "dtmf speech")
	} else {
		w.attr("inputType", "speech")
	}
	if g.TimeoutSeconds > 0 {
		w.attrInt("executionTimeout", clamp(g.TimeoutSeconds, 5, 60))
	}
	if g.DTMF {
		if g.InterDigitSeconds > 0 {
			w.attrInt("digitEndTimeout", clamp(g.InterDigitSeconds, 2, 10))
		}
		if g.NumDigits > 0 {
			w.attrInt("numDigits", g.NumDigits)
		}
		w.attr("finishOnKey", finishKey(g.FinishOnKey))
	}
	if g.Language != "" {
		w.attr("language", g.Language)
	}
	if h := hints(g.SpeechHints); h != "" {
		w.attr("hints", h)
	}
	w.attrBool("redirect", true)
}

// prompts finishes the element getDigits or getInput opened: its nested
// prompts and the end tag.
func (p plivo) prompts(w *writer, g ivr.Gather) error {
	name := "GetDigits"
	if g.Speech {
		name = "GetInput"
	}
	if len(g.Prompts) == 0 {
		w.endEmpty()
		return nil
	}
	w.endParent()
	for i, s := range g.Prompts {
		s, err := deref(s)
		if err == nil {
			err = p.prompt(w, s)
		}
		if err != nil {
			return fmt.Errorf("prompt %d: %w", i, err)
		}
	}
	w.closeParent(name)
	return nil
}

// plivoNumber writes an E.164 number as Plivo's XML examples do: country
// code and number without the leading "+" (Plivo's own webhooks send From
// and To that way too). Anything else (a SIP URI, a short code) is kept.
func plivoNumber(n string) string {
	if len(n) > 1 && n[0] == '+' && n[1] >= '1' && n[1] <= '9' {
		return n[1:]
	}
	return n
}
