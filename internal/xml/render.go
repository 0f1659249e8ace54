package xml

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ivr-project/ivr/internal/ivr"
)

// Providers, as in ivr.Call.Provider and the routes "/twilio/..." and "/plivo/...".
const (
	ProviderTwilio = "twilio"
	ProviderPlivo  = "plivo"
)

// Content types of the rendered documents (contract: text/xml for Twilio,
// application/xml for Plivo).
const (
	ContentTypeTwilio = "text/xml; charset=utf-8"
	ContentTypePlivo  = "application/xml; charset=utf-8"
)

// Twilio renders steps as a TwiML <Response>. base is the absolute voice base
// URL, e.g. "https://abc.ngrok.app/twilio/voice/"; every ivr.Target becomes
// base + target.String(). An error means a step Twilio cannot express; the
// caller should answer its fallback instead.
func Twilio(base string, steps []ivr.Step) ([]byte, error) {
	return render(dialectTwilio, base, steps)
}

// Plivo renders steps as a Plivo XML <Response>; see Twilio for base and
// errors.
func Plivo(base string, steps []ivr.Step) ([]byte, error) {
	return render(dialectPlivo, base, steps)
}

// AppendTwilio is Twilio appending the document to dst (a buffer the caller
// reuses: see BenchmarkAppendTwilio for what it saves).
func AppendTwilio(dst []byte, base string, steps []ivr.Step) ([]byte, error) {
	return appendDoc(dialectTwilio, dst, base, steps)
}

// AppendPlivo is Plivo appending the document to dst.
func AppendPlivo(dst []byte, base string, steps []ivr.Step) ([]byte, error) {
	return appendDoc(dialectPlivo, dst, base, steps)
}

// dialect picks one provider's writer. It is a concrete type (not an
// interface) so the writer stays on the stack.
type dialect int

const (
	dialectTwilio dialect = iota
	dialectPlivo
)

func dialectFor(provider string) (dialect, error) {
	switch provider {
	case ProviderTwilio:
		return dialectTwilio, nil
	case ProviderPlivo:
		return dialectPlivo, nil
	}
	return 0, fmt.Errorf("render: unknown provider %q", provider)
}

func (d dialect) name() string {
	if d == dialectPlivo {
		return ProviderPlivo
	}
	return ProviderTwilio
}

// step writes one top-level step: the elements both dialects have here
// (elements.go), a gather and a message in the dialect's own file.
func (d dialect) step(w *writer, base string, s ivr.Step) error {
	switch s := s.(type) {
	case ivr.Say, ivr.Play, ivr.Pause:
		return d.prompt(w, s)
	case ivr.Dial:
		return d.dial(w, base, s)
	case ivr.Record:
		return d.record(w, base, s)
	case ivr.Redirect:
		w.open("Redirect")
		w.attr("method", "POST")
		w.endURL("Redirect", base, s.Target)
	case ivr.Hangup:
		w.open("Hangup")
		w.endEmpty()
	case ivr.Gather:
		if d == dialectPlivo {
			return plivo{}.gather(w, base, s)
		}
		return twilio{}.gather(w, base, s)
	case ivr.Message:
		if d == dialectPlivo {
			return plivo{}.message(w, s)
		}
		return twilio{}.message(w, s)
	default:
		return unknownStep(s)
	}
	return nil
}

// mixed reports an error for a response that has nMessages Message steps
// among nSteps, when the provider does not allow the mix.
func (d dialect) mixed(nMessages, nSteps int) error {
	if d == dialectPlivo {
		return plivo{}.mixed(nMessages, nSteps)
	}
	return twilio{}.mixed(nMessages, nSteps)
}

func render(d dialect, base string, steps []ivr.Step) ([]byte, error) {
	return appendDoc(d, nil, base, steps)
}

// appendDoc appends the document to dst (grown to the document's likely
// size first).
func appendDoc(d dialect, dst []byte, base string, steps []ivr.Step) ([]byte, error) {
	w := writer{b: slices.Grow(dst, sizeHint(base, steps))}
	w.b = append(w.b, header...)
	if len(steps) == 0 {
		w.b = append(w.b, "<Response></Response>\n"...)
		return w.b, nil
	}
	w.b = append(w.b, "<Response>\n"...)
	w.depth = 1
	messages := 0
	for i, s := range steps {
		s, err := deref(s)
		if err == nil {
			if _, ok := s.(ivr.Message); ok {
				messages++
			}
			err = d.step(&w, base, s)
		}
		if err != nil {
			return nil, fmt.Errorf("render %s: step %d (%T): %w", d.name(), i, steps[i], err)
		}
	}
	if messages > 0 {
		if err := d.mixed(messages, len(steps)); err != nil {
			return nil, fmt.Errorf("render %s: %w", d.name(), err)
		}
	}
	w.b = append(w.b, "</Response>\n"...)
	return w.b, nil
}

// deref turns a pointer to a step into the step, so the engine may hand over
// either; a nil step or nil pointer is an error.
func deref(s ivr.Step) (ivr.Step, error) {
	switch p := s.(type) {
	case nil:
		return nil, fmt.Errorf("nil step")
	case *ivr.Say:
		return derefPtr(p)
	case *ivr.Play:
		return derefPtr(p)
	case *ivr.Pause:
		return derefPtr(p)
	case *ivr.Gather:
		return derefPtr(p)
	case *ivr.Dial:
		return derefPtr(p)
	case *ivr.Record:
		return derefPtr(p)
	case *ivr.Redirect:
		return derefPtr(p)
	case *ivr.Hangup:
		return derefPtr(p)
	case *ivr.Message:
		return derefPtr(p)
	}
	return s, nil
}

func derefPtr[T ivr.Step](p *T) (ivr.Step, error) {
	if p == nil {
		return nil, fmt.Errorf("nil %T", p)
	}
	return *p, nil
}

func unknownStep(s ivr.Step) error {
	return fmt.Errorf("unknown step type %T", s)
}

// Checks shared by both dialects.

func checkText(what, s string) error {
	if strings.TrimSpace(s) == "" {
		return fmt.Errorf("empty %s", what)
	}
	return nil
}

func checkNonNegative(what string, n int) error {
	if n < 0 {
		return fmt.Errorf("negative %s %d", what, n)
	}
	return nil
}

const dtmfKeys = "0123456789*#"

// checkGatherKey: "" (no finish key) or exactly one of 0-9 * #.
func checkGatherKey(k string) error {
	if k == "" || (len(k) == 1 && strings.Contains(dtmfKeys, k)) {
		return nil
	}
	return fmt.Errorf("finish key %q is not one of 0-9 * #", k)
}

// checkRecordKeys: "" (provider default) or a set of 0-9 * #.
func checkRecordKeys(k string) error {
	for _, c := range k {
		if !strings.ContainsRune(dtmfKeys, c) {
			return fmt.Errorf("finish keys %q: only 0-9 * # allowed", k)
		}
	}
	return nil
}

// checkNumber: a phone number or address that is not empty and cannot be
// read as a list (Plivo splits dst on "<").
func checkNumber(what, n string) error {
	if strings.TrimSpace(n) == "" {
		return fmt.Errorf("empty %s", what)
	}
	if strings.ContainsAny(n, "<>,") {
		return fmt.Errorf("%s %q contains one of < > ,", what, n)
	}
	return nil
}

func checkGather(g ivr.Gather) error {
	if !g.DTMF && !g.Speech {
		return fmt.Errorf("gather accepts neither DTMF nor speech")
	}
	for _, c := range []struct {
		what string
		n    int
	}{
		{"numDigits", g.NumDigits},
		{"timeout", g.TimeoutSeconds},
		{"inter-digit timeout", g.InterDigitSeconds},
	} {
		if err := checkNonNegative(c.what, c.n); err != nil {
			return err
		}
	}
	return checkGatherKey(g.FinishOnKey)
}

func checkDial(d ivr.Dial) error {
	if len(d.Numbers) == 0 {
		return fmt.Errorf("dial without numbers")
	}
	for _, n := range d.Numbers {
		if err := checkNumber("number", n); err != nil {
			return err
		}
	}
	for _, c := range d.Context {
		if c.Name == "" {
			return fmt.Errorf("context field without a name")
		}
	}
	if err := checkAcceptKey(d.AcceptKey); err != nil {
		return err
	}
	return checkNonNegative("timeout", d.TimeoutSeconds)
}

func checkRecord(r ivr.Record) error {
	if err := checkNonNegative("maxLength", r.MaxLengthSeconds); err != nil {
		return err
	}
	if err := checkNonNegative("timeout", r.TimeoutSeconds); err != nil {
		return err
	}
	return checkRecordKeys(r.FinishOnKey)
}

// attrHints writes ` name="a,b"`: the speech hints joined with "," (both
// providers' separator), trimmed, the empty ones skipped; nothing when none
// is left. Written straight into the document, not joined first: what it
// saves on a gather with hints (BenchmarkGatherHints): the joined string's
// 1-4 allocations.
func (w *writer) attrHints(name string, hs []string) {
	n := 0
	for _, h := range hs {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		if n == 0 {
			w.b = append(w.b, ' ')
			w.b = append(w.b, name...)
			w.b = append(w.b, `="`...)
		} else {
			w.b = append(w.b, ',')
		}
		w.b = appendEscaped(w.b, h, true)
		n++
	}
	if n > 0 {
		w.b = append(w.b, '"')
	}
}

// voice writes "man"/"woman" in the provider's spelling and passes any other
// voice name through.
func voice(v string, upper bool) string {
	for _, basic := range [...]string{"man", "woman"} {
		if strings.EqualFold(v, basic) {
			if upper {
				return strings.ToUpper(basic)
			}
			return basic
		}
	}
	return v
}

func clamp(n, lo, hi int) int {
	return max(lo, min(n, hi))
}

// sizeHint estimates the rendered size so the output slice is usually
// allocated once: strings as they are plus a generous allowance per element
// for tags, attributes and indentation.
func sizeHint(base string, steps []ivr.Step) int {
	n := len(header) + 32
	for _, s := range steps {
		n += stepSize(len(base), s)
	}
	return n + n/8
}

func stepSize(base int, s ivr.Step) int {
	const tag = 64
	switch s := s.(type) {
	case ivr.Say:
		return tag + len(s.Text) + len(s.Voice) + len(s.Language)
	case ivr.Play:
		return tag + len(s.URL)
	case ivr.Gather:
		n := 4*tag + base + len(s.Action.Path) + len(s.Action.Query) + len(s.Language)
		for _, h := range s.SpeechHints {
			n += len(h) + 1
		}
		for _, p := range s.Prompts {
			n += stepSize(base, p) + 4
		}
		return n
	case ivr.Dial:
		n := 2*tag + len(s.CallerID)
		if s.Action != nil {
			n += base + len(s.Action.Path) + len(s.Action.Query)
		}
		if s.Whisper != nil {
			n += len(s.Numbers) * (base + len(s.Whisper.Path) + len(s.Whisper.Query) + 32)
		}
		for _, num := range s.Numbers {
			n += 32 + len(num)
		}
		for _, c := range s.Context {
			n += len(s.Numbers) * (3 * (len(c.Name) + len(c.Value) + 8))
		}
		return n
	case ivr.Record:
		n := 2*tag + base + len(s.Action.Path) + len(s.Action.Query)
		if t := s.Transcription; t != nil {
			n += 2*tag + base + len(t.Path) + len(t.Query)
		}
		return n
	case ivr.Redirect:
		return tag + base + len(s.Target.Path) + len(s.Target.Query)
	case ivr.Message:
		return tag + len(s.Text) + len(s.To) + len(s.From)
	}
	return tag
}
