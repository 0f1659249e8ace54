package xml

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/ivr-project/ivr/internal/ivr"
)

// dial writes a transfer to one or more numbers and SIP URIs.
//
// Twilio: <Dial> holds <Number> and <Sip> nouns; a whisper is each noun's
// url (TwiML run on the answering party's leg before the parties are
// connected) and the context rides as X-IVR-<Name> URI headers of <Sip>.
// Plivo: <Dial confirmSound confirmKey> (the sound played to the answering
// party, the key it must press) holds <Number> and <User>; the context is
// <User sipHeaders="IVR-Name=value,..."> (Plivo sends them as X-PH-IVR-Name).
func (d dialect) dial(w *writer, base string, s ivr.Dial) error {
	if err := checkDial(s); err != nil {
		return err
	}
	sp := &spellings[d]
	w.open("Dial")
	if s.CallerID != "" {
		w.attr("callerId", sp.number(s.CallerID))
	}
	if s.TimeoutSeconds > 0 {
		w.attrInt("timeout", sp.dialTimeout(s.TimeoutSeconds))
	}
	if s.Action != nil {
		w.attrURL("action", base, *s.Action)
		w.attr("method", "POST")
	}
	if d == dialectPlivo && s.Whisper != nil {
		w.attrURL("confirmSound", base, *s.Whisper)
		if s.AcceptKey != "" {
			w.attr("confirmKey", s.AcceptKey)
		}
	}
	w.endParent()
	for _, n := range s.Numbers {
		d.dialTarget(w, base, s, n)
	}
	w.closeParent("Dial")
	return nil
}

// dialTarget writes one party of a dial.
func (d dialect) dialTarget(w *writer, base string, s ivr.Dial, n string) {
	sip := IsSIP(n)
	if d == dialectPlivo {
		if !sip {
			w.open("Number")
			w.endText("Number", plivoNumber(n))
			return
		}
		w.open("User")
		if h := plivoSIPHeaders(s.Context); h != "" {
			w.attr("sipHeaders", h)
		}
		w.endText("User", n)
		return
	}
	name := "Number"
	if sip {
		name = "Sip"
		n += twilioSIPHeaders(s.Context)
	}
	w.open(name)
	if s.Whisper != nil {
		w.attrURL("url", base, *s.Whisper)
		w.attr("method", "POST")
	}
	w.endText(name, n)
}

// IsSIP reports whether a dial target is a SIP URI rather than a number.
func IsSIP(n string) bool {
	return strings.HasPrefix(n, "sip:") || strings.HasPrefix(n, "sips:")
}

// SIPHeaderName is the header a context field is sent as: "account_id" ->
// "X-IVR-Account-Id" (Plivo adds its own X-PH- prefix to "IVR-Account-Id").
func SIPHeaderName(field string) string {
	parts := strings.FieldsFunc(field, func(r rune) bool { return r == '_' || r == '-' })
	for i, p := range parts {
		parts[i] = strings.ToUpper(p[:1]) + strings.ToLower(p[1:])
	}
	return "X-IVR-" + strings.Join(parts, "-")
}

// twilioSIPHeaders is the "?X-IVR-A=1&X-IVR-B=2" to append to a SIP URI;
// values are percent-encoded.
func twilioSIPHeaders(ctx []ivr.ContextValue) string {
	if len(ctx) == 0 {
		return ""
	}
	var b strings.Builder
	for i, c := range ctx {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(SIPHeaderName(c.Name))
		b.WriteByte('=')
		b.WriteString(strings.ReplaceAll(url.QueryEscape(c.Value), "+", "%20"))
	}
	return b.String()
}

// maxPlivoHeaderValue caps a value in sipHeaders.
const maxPlivoHeaderValue = 48

// plivoSIPHeaders is Plivo's sipHeaders list "IVR-A=1,IVR-B=2". Plivo
// takes letters, digits and a few marks in a value: anything else becomes _.
func plivoSIPHeaders(ctx []ivr.ContextValue) string {
	var b strings.Builder
	for i, c := range ctx {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strings.TrimPrefix(SIPHeaderName(c.Name), "X-"))
		b.WriteByte('=')
		v := strings.Map(func(r rune) rune {
			if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("+-._@", r)) {
				return r
			}
			return '_'
		}, c.Value)
		if len(v) > maxPlivoHeaderValue {
			v = v[:maxPlivoHeaderValue]
		}
		b.WriteString(v)
	}
	return b.String()
}

// checkAcceptKey: "" or one of 0-9 * #.
func checkAcceptKey(k string) error {
	if k == "" || len(k) == 1 && strings.Contains(dtmfKeys, k) {
		return nil
	}
	return fmt.Errorf("accept key %q is not one of 0-9 * #", k)
}
