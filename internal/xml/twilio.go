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

// message writes an SMS reply (messaging TwiML).
func (twilio) message(w *writer, s ivr.Message) error {
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
	return nil
}

func (twilio) gather(w *writer, base string, g ivr.Gather) error {
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
		w.attrHints("hints", g.SpeechHints)
	}
	return dialectTwilio.gatherPrompts(w, "Gather", g.Prompts)
}
