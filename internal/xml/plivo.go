package xml

import (
	"github.com/ivr-project/ivr/internal/ivr"
)

// plivo writes Plivo XML (https://www.plivo.com/docs/voice/xml/,
// https://www.plivo.com/docs/messaging/xml/message).
type plivo struct{}

// mixed: Plivo allows <Message> in a call flow.
func (plivo) mixed(int, int) error { return nil }

// gather writes <GetInput> for speech (with or without keys), else
// <GetDigits>, with its prompts.
func (p plivo) gather(w *writer, base string, g ivr.Gather) error {
	if err := checkGather(g); err != nil {
		return err
	}
	if g.Speech {
		p.getInput(w, base, g)
		return dialectPlivo.gatherPrompts(w, "GetInput", g.Prompts)
	}
	p.getDigits(w, base, g)
	return dialectPlivo.gatherPrompts(w, "GetDigits", g.Prompts)
}

// message writes an SMS sent during the call.
func (plivo) message(w *writer, s ivr.Message) error {
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
	w.attrHints("hints", g.SpeechHints)
	w.attrBool("redirect", true)
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
