package server

import (
	"net/http"
	"testing"

	"github.com/ivr-project/ivr/internal/carrier"
)

// A fallback or refusal names its reason in a response header (a reason
// code, never a secret), so tools playing the provider's side can say why;
// the flow's own answers carry neither header.
func TestFallbackHeaderNamesTheReason(t *testing.T) {
	for _, p := range []string{"twilio", "plivo"} {
		a := newTestApp(t)
		w := a.serve(a.request(p, http.MethodPost, "/"+p+"/voice", callForm(p)))
		if w.Header().Get(carrier.HeaderFallback) != "" || w.Header().Get(carrier.HeaderRefused) != "" {
			t.Errorf("%s menu carries a fallback header: %v", p, w.Header())
		}
		r := a.request(p, http.MethodPost, "/"+p+"/voice", callForm(p))
		r.Header.Set("X-Twilio-Signature", "AAAAAAAAAAAAAAAAAAAAAAAAAAA=")
		r.Header.Set("X-Plivo-Signature-V3", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
		w = a.serve(r)
		if got := w.Header().Get(carrier.HeaderFallback); got != "bad_signature" {
			t.Errorf("%s bad signature: %s = %q, want bad_signature", p, carrier.HeaderFallback, got)
		}
		w = a.serve(a.request(p, http.MethodPost, "/"+p+"/nowhere", callForm(p)))
		if got := w.Header().Get(carrier.HeaderFallback); got != "not_found" {
			t.Errorf("%s unknown path: %s = %q, want not_found", p, carrier.HeaderFallback, got)
		}
		status := map[string]string{"twilio": "/twilio/status", "plivo": "/plivo/hangup"}[p]
		r = a.request(p, http.MethodPost, status, callForm(p))
		r.Header.Set("X-Twilio-Signature", "AAAAAAAAAAAAAAAAAAAAAAAAAAA=")
		r.Header.Set("X-Plivo-Signature-V3", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
		w = a.serve(r)
		if got := w.Header().Get(carrier.HeaderRefused); got != "bad_signature" {
			t.Errorf("%s refused callback: %s = %q, want bad_signature", p, carrier.HeaderRefused, got)
		}
	}
}
