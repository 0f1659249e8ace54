package xml

import (
	"fmt"

	"github.com/ivr-project/ivr/internal/ivr"
)

// twilio writes TwiML (https://www.twilio.com/docs/voice/twiml,
// https://www.twilio.com/docs/messaging/twiml).
type twilio struct{}

func (twilio) mixed(nMessages, nSteps int) error {
	if nMessages < nSteps {
		return fmt.Errorf("voice TwiML has no <Message>: a response holds either only Message steps or none")
	}
	return nil
}

func (t twilio) step(w *writer, base string, s ivr.Step) error {
	switch s := s.(type) {
	case ivr.Say, ivr.Play, ivr.Pause:
		return t.prompt(w, s)
	case ivr.Gather:
		return t.gather(w, base, s)
	case ivr.Dial:
		if err := checkDial(s); err != nil {
			return err
		}
		w.open("Dial")
		if s.CallerID != "" {
			w.attr("callerId", s.CallerID)
		}
		if s.TimeoutSeconds > 0 {
			w.attrInt("timeout", clamp(s.TimeoutSeconds, 5, 600)) // Twilio: 5-600
		}
		if s.Action != nil {
			w.attrURL("action", base, *s.Action)
			w.attr("method", "POST")
		}
		w.endParent()
		for _, n := range s.Numbers {
			w.open("Number")
			w.endText("Number", n)
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
		w.open("Message")
		if s.To != "" {
			w.attr("to", s.To)
		}
		if s.From != "" {
			w.attr("from", s.From)
		}
		w.endText("Message", s.Text)
	default:
		return unknownStep(s)
	}
	return nil
}

// prompt writes Say, Play or Pause: the verbs allowed both at the top and
// inside <Gather>.
func (twilio) prompt(w *writer, s ivr.Step) error {
	switch s := s.(type) {
	case ivr.Say:
		if err := checkText("say text", s.Text); err != nil {
			return err
		}
		if err := checkNonNegative("loop", s.Loop); err != nil {
			return err
		}
		w.open("Say")
		if s.Voice != "" {
			w.attr("voice", voice(s.Voice, false))
		}
		if s.Language != "" {
			w.attr("language", s.Language)
		}
		if s.Loop > 1 {
			w.attrInt("loop", s.Loop)
		}
		w.endText("Say", s.Text)
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
		w.open("Pause")
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

func (t twilio) gather(w *writer, base string, g ivr.Gather) error {
	if err := checkGather(g); err != nil {
		return err
	}
	w.open("Gather")
	switch {
	case g.DTMF && g.Speech:
		w.attr("input", "dtmf speech")
	case g.Speech:
		w.attr("input", "speech")
	default:
		w.attr("input", "dtmf")
	}
	w.attrURL("action", base, g.Action)
	w.attr("method", "POST")
	// One timeout covers the first input and the gap between keys.
	if timeout := g.TimeoutSeconds; timeout > 0 {
		w.attrInt("timeout", timeout)
	} else if g.InterDigitSeconds > 0 {
		w.attrInt("timeout", g.InterDigitSeconds)
	}
	if g.Speech {
		w.attr("speechTimeout", "auto")
	}
	if g.DTMF {
		if g.NumDigits > 0 {
			w.attrInt("numDigits", g.NumDigits)
		}
		w.attr("finishOnKey", g.FinishOnKey) // "" disables Twilio's default "#"
	}
	if g.Speech {
		if g.Language != "" {
			w.attr("language", g.Language)
		}
		if h := hints(g.SpeechHints); h != "" {
			w.attr("hints", h)
		}
	}
	if len(g.Prompts) == 0 {
		w.endEmpty()
		return nil
	}
	w.endParent()
	for i, p := range g.Prompts {
		p, err := deref(p)
		if err == nil {
			err = t.prompt(w, p)
		}
		if err != nil {
			return fmt.Errorf("prompt %d: %w", i, err)
		}
	}
	w.closeParent("Gather")
	return nil
}
