package server

import (
	"net/http"
	"net/netip"
	"testing"

	promtest "github.com/prometheus/client_golang/prometheus/testutil"
)

// TestAllowlistThroughRouter: with an allowlist, a signed request from an
// address outside it gets the fallback (counted as refused), a spoofed
// X-Forwarded-For from an untrusted peer changes nothing, and the same header
// from a trusted proxy is believed.
func TestAllowlistThroughRouter(t *testing.T) {
	allow := []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}
	proxy := []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32")}
	cases := []struct {
		name, remote, xff string
		allowed           bool
	}{
		{"inside", "198.51.100.7:4000", "", true},
		{"outside", "203.0.113.9:4000", "", false},
		{"spoofed XFF from untrusted peer", "203.0.113.9:4000", "198.51.100.7", false},
		{"XFF through trusted proxy", "10.0.0.1:4000", "198.51.100.7", true},
		{"trusted proxy forwarding an outsider", "10.0.0.1:4000", "203.0.113.9", false},
	}
	for _, provider := range []string{"twilio", "plivo"} {
		for _, c := range cases {
			t.Run(provider+"/"+c.name, func(t *testing.T) {
				a := newTestApp(t, func(d *Deps) {
					d.Config.TwilioAllow, d.Config.PlivoAllow = allow, allow
					d.Config.TrustedProxies = proxy
				})
				r := a.request(provider, http.MethodPost, "/"+provider+"/voice", callForm(provider))
				r.RemoteAddr = c.remote
				if c.xff != "" {
					r.Header.Set("X-Forwarded-For", c.xff)
				}
				w := a.serve(r)
				if c.allowed {
					assertMenu(t, w)
					return
				}
				assertFallback(t, provider, w)
				if got := promtest.ToFloat64(a.deps.Metrics.Refused.WithLabelValues(provider, "ip_not_allowed")); got != 1 {
					t.Errorf("refused{reason=ip_not_allowed} = %v, want 1", got)
				}
			})
		}
	}
}

// TestBasicAuthThroughRouter: the first request without credentials is
// challenged with 401 + WWW-Authenticate; the retry with them (the signature
// unchanged: credentials are not part of the signed URL) gets the menu.
func TestBasicAuthThroughRouter(t *testing.T) {
	a := newTestApp(t, func(d *Deps) {
		d.Config.TwilioBasicUser, d.Config.TwilioBasicPass = "twilio", "s3cret"
	})
	first := a.serve(a.request("twilio", http.MethodPost, "/twilio/voice", callForm("twilio")))
	if first.Code != http.StatusUnauthorized || first.Header().Get("WWW-Authenticate") == "" {
		t.Fatalf("want 401 with WWW-Authenticate, got %d %v", first.Code, first.Header())
	}
	wrong := a.request("twilio", http.MethodPost, "/twilio/voice", callForm("twilio"))
	wrong.SetBasicAuth("twilio", "guess")
	if w := a.serve(wrong); w.Code != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d, want 401", w.Code)
	}
	retry := a.request("twilio", http.MethodPost, "/twilio/voice", callForm("twilio"))
	retry.SetBasicAuth("twilio", "s3cret")
	assertMenu(t, a.serve(retry))
}
