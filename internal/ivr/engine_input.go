package ivr

import (
	"strings"
)

// Keys that answer a collect's read-back.
const (
	confirmAccept = "1"
	confirmReject = "2"
)

// confirmWords are spoken answers to a read-back (English and Spanish).
var confirmWords = map[string]string{
	"yes": confirmAccept, "yeah": confirmAccept, "yep": confirmAccept, "correct": confirmAccept, "right": confirmAccept,
	"one": confirmAccept, "si": confirmAccept, "sí": confirmAccept, "correcto": confirmAccept, "uno": confirmAccept,
	"no": confirmReject, "nope": confirmReject, "wrong": confirmReject, "incorrect": confirmReject,
	"two": confirmReject, "incorrecto": confirmReject, "dos": confirmReject,
}

// confirmHints are the speech hints of a read-back's Gather.
var confirmHints = []string{"yes", "no", "correct", "wrong"}

// finish is the key that ends an entry at m: its collect's, else its own.
func (m *Menu) finish() string {
	if m.Collect != nil {
		return m.Collect.FinishKey
	}
	return m.FinishKey
}

// repeat reports whether in is m's repeat key alone (returned).
func (m *Menu) repeat(in Input) (string, bool) {
	if m.RepeatKey == "" || strings.TrimSpace(in.Digits) == "" {
		return "", false
	}
	d, ok := cleanDigits(in.Digits, m.finish())
	return d, ok && d == m.RepeatKey
}

// unsure reports whether in is speech the recognizer is less sure of than
// m's min_confidence, and an event with what was heard (no words).
func (m *Menu) unsure(in Input) (Event, bool) {
	sp := m.Speech
	if sp == nil || sp.MinConfidence <= 0 || !in.HasConfidence ||
		strings.TrimSpace(in.Digits) != "" || strings.TrimSpace(in.Speech) == "" {
		return Event{}, false
	}
	if in.Confidence >= sp.MinConfidence {
		return Event{}, false
	}
	return Event{Heard: HeardUnsureSpeech, Confidence: in.Confidence}, true
}

// askConfirm says m's read-back and waits for 1 or 2 (st.Confirm > 0).
func (r *runner) askConfirm(m *Menu, st state) {
	c := m.Collect
	prompts := make([]Step, 0, len(c.Confirm))
	for i := range c.Confirm {
		prompts = append(prompts, r.prompt(&c.Confirm[i], m))
	}
	g := r.gather(m, st, prompts)
	g.NumDigits, g.FinishOnKey = 1, ""
	if g.Speech {
		g.SpeechHints = confirmHints
	}
	r.steps = append(r.steps, g, Redirect{Target: g.Action})
	r.mark(EventConfirm, m.ID)
}

// confirmReply reads the answer to m's read-back: 1 runs the collect's
// actions; 2, or a second silence, asks for the entry again (no failure
// counted); the repeat key or a first silence says the read-back again;
// anything else is a wrong entry, then the read-back again.
func (r *runner) confirmReply(m *Menu, waited int, next state, in Input) {
	if key, ok := m.repeat(in); ok {
		r.add(Event{Kind: EventRepeatKey, Menu: m.ID, Heard: HeardKeys, Entry: key})
		next.Confirm = waited
		r.askConfirm(m, next)
		return
	}
	answer, heard := m.confirmAnswer(in)
	heard.Menu = m.ID
	silent := heard.Heard == HeardSilence
	switch {
	case answer == confirmAccept:
		heard.Kind = EventConfirmed
		r.add(heard)
		r.run(m.Collect.Actions, m, fallMenu)
	case answer == confirmReject, silent && waited >= 2:
		heard.Kind = EventConfirmRejected
		r.add(heard)
		r.render(m, next, nil, false)
	case silent:
		heard.Kind = EventTimeout
		r.add(heard)
		next.Confirm = 2
		r.askConfirm(m, next)
	default:
		next.Invalid = min(next.Invalid+1, maxCount)
		heard.Kind = EventInvalid
		r.add(heard)
		if next.Invalid >= m.MaxFailures {
			r.giveUp(m, EventMaxFailures, m.OnMaxFailures)
			return
		}
		next.Confirm = 1
		r.askConfirm(m, next)
	}
}

// confirmAnswer reads a reply to a read-back: "1", "2" or "" (anything
// else), and an event with what was heard (HeardSilence for no input).
func (m *Menu) confirmAnswer(in Input) (string, Event) {
	if strings.TrimSpace(in.Digits) != "" {
		d, ok := cleanDigits(in.Digits, "")
		if !ok {
			return "", Event{Heard: HeardBadKeys}
		}
		if d == confirmAccept || d == confirmReject {
			return d, Event{Heard: HeardKeys, Entry: d}
		}
		return "", Event{Heard: HeardKeys, Entry: d}
	}
	s := strings.TrimSpace(in.Speech)
	if s == "" {
		return "", Event{Heard: HeardSilence}
	}
	if heard, unsure := m.unsure(in); unsure || m.Speech == nil {
		if m.Speech == nil {
			heard = Event{Heard: HeardSpeechIgnored}
		}
		return "", heard
	}
	// What is recorded is the answer, never the transcript: a caller may
	// say the value again ("no, it is 1 2 3").
	ws := words(s)
	for _, w := range ws {
		if a, ok := confirmWords[w]; ok {
			return a, spokenAnswer(a)
		}
	}
	if d := spokenDigits(ws); d == confirmAccept || d == confirmReject {
		return d, spokenAnswer(d)
	}
	return "", Event{Heard: HeardSpeechIgnored}
}

func spokenAnswer(a string) Event {
	if a == confirmAccept {
		return Event{Heard: HeardSpeech, Entry: "yes"}
	}
	return Event{Heard: HeardSpeech, Entry: "no"}
}
