package carrier

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/auth"
)

const public = "https://ivr.example.com"

// verifiers are the server's signature middlewares, as it mounts them.
func verifiers(token, master string) map[string]func(http.Handler) http.Handler {
	res := auth.URLResolver{PublicBase: public}
	fail := func(w http.ResponseWriter, _ *http.Request, f *auth.Failure) {
		http.Error(w, f.Reason, http.StatusForbidden)
	}
	pcfg := auth.PlivoConfig{AuthToken: token, MasterAuthToken: master, URL: res, Nonces: auth.NewMemoryNonces(100, time.Hour)}
	return map[string]func(http.Handler) http.Handler{
		"twilio":   auth.TwilioMiddleware(auth.TwilioConfig{AuthToken: token, URL: res}, fail),
		"plivo-v3": auth.PlivoV3Middleware(pcfg, fail),
		"plivo-v2": auth.PlivoV2Middleware(pcfg, fail),
	}
}

// TestSignedRequestsPassTheServersCheck: every request Sign builds, GET and
// POST, on both providers (Plivo with and without the main account's token),
// is accepted by the server's own signature check.
func TestSignedRequestsPassTheServersCheck(t *testing.T) {
	for _, master := range []string{"", "main-token"} {
		vs := verifiers("sub-token", master)
		for name, mw := range vs {
			provider := strings.SplitN(name, "-", 2)[0]
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				c := NewCall(provider, "", "+14155550100", "+14155550199")
				s := Signer{Provider: provider, Token: "sub-token", Master: master}
				req, err := s.Sign(method, public+"/"+provider+"/voice/menu/main?attempt=2", c.Params())
				if err != nil {
					t.Fatal(err)
				}
				hr, err := req.HTTP(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				reached := false
				w := httptest.NewRecorder()
				mw(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true })).ServeHTTP(w, hr)
				if !reached {
					t.Errorf("%s %s (master %q): refused %d %s", name, method, master, w.Code, w.Body.String())
				}
			}
		}
	}
}

func TestSignRefuses(t *testing.T) {
	s := Signer{Provider: Twilio, Token: "t"}
	for _, tc := range []struct{ method, url string }{
		{"PUT", public + "/twilio/voice"},
		{"POST", "/twilio/voice"},
		{"POST", "ftp://host/twilio/voice"},
	} {
		if _, err := s.Sign(tc.method, tc.url, nil); err == nil {
			t.Errorf("%s %s: signed", tc.method, tc.url)
		}
	}
	if _, err := (Signer{Provider: "other"}).Sign("POST", public, nil); err == nil {
		t.Error("an unknown provider signed")
	}
}

// TestCall: ids look like the providers', the first request rings and the
// next are in progress, and every parameter goes by the provider's name.
func TestCall(t *testing.T) {
	tw := NewCall(Twilio, "", "+1", "+2")
	if !regexp.MustCompile(`^CA[0-9a-f]{32}$`).MatchString(tw.ID) || !regexp.MustCompile(`^AC[0-9a-f]{32}$`).MatchString(tw.Account) {
		t.Errorf("twilio ids %q %q", tw.ID, tw.Account)
	}
	pl := NewCall(Plivo, "ACignored", "1", "2")
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(pl.ID) || pl.Account != "" {
		t.Errorf("plivo ids %q %q", pl.ID, pl.Account)
	}
	for _, c := range []Call{tw, pl} {
		n := c.Names()
		if got := c.Params(); got.Get(n.CallID) != c.ID || got.Get("CallStatus") != "ringing" {
			t.Errorf("%s first request %v", c.Provider, got)
		}
		c.Answered = true
		if got := c.Params().Get("CallStatus"); got != "in-progress" {
			t.Errorf("%s later request: CallStatus %q", c.Provider, got)
		}
		if got := c.Input("GetDigits", "12", "#", "", ""); got.Get(n.Digits) != "12" {
			t.Errorf("%s input %v", c.Provider, got)
		}
		if got := c.Input("GetInput", "", "", "sales", ""); got.Get(n.Speech) != "sales" {
			t.Errorf("%s speech %v", c.Provider, got)
		}
		got := c.Input("GetInput", "", "", "sales", "0.2")
		if conf, ok := n.SpeechConfidence(got.Get); !ok || conf != 0.2 {
			t.Errorf("%s confidence %v: %v %v", c.Provider, got, conf, ok)
		}
		if conf, ok := n.SpeechConfidence(c.Input("GetInput", "", "", "sales", "").Get); !ok || conf != 0.92 {
			t.Errorf("%s default confidence %v %v", c.Provider, conf, ok)
		}
		if got := c.DialResult("no-answer"); got.Get(n.DialStatus[0]) != "no-answer" {
			t.Errorf("%s dial result %v", c.Provider, got)
		}
		if got := c.Recording("#"); !strings.HasPrefix(got.Get(n.RecordingURL), "https://") {
			t.Errorf("%s recording %v", c.Provider, got)
		}
		path, v := c.Hangup(42, true)
		if path != n.StatusPath || v.Get(n.Duration) != "42" || v.Get("CallStatus") != "completed" || v.Get(n.CallID) != c.ID {
			t.Errorf("%s hangup %s %v", c.Provider, path, v)
		}
	}
	if n := NewNonce(); !regexp.MustCompile(`^[0-9]{20}$`).MatchString(n) {
		t.Errorf("nonce %q", n)
	}
}

// TestSpeechConfidence: Twilio's Confidence and Plivo's
// SpeechConfidenceScore are read as numbers from 0 to 1; anything else is
// no confidence at all.
func TestSpeechConfidence(t *testing.T) {
	for _, n := range []Names{TwilioNames, PlivoNames} {
		for in, want := range map[string]float64{"0.2": 0.2, "0": 0, "1": 1, " 0.9 ": 0.9, "": -1, "abc": -1, "1.5": -1, "-0.1": -1, "NaN": -1, "0x1p-2": -1} {
			got, ok := n.SpeechConfidence(func(name string) string {
				if name == n.Confidence {
					return in
				}
				return ""
			})
			if want < 0 && ok || want >= 0 && (!ok || got != want) {
				t.Errorf("%s %s=%q: %v %v, want %v", n.Provider, n.Confidence, in, got, ok, want)
			}
		}
	}
}

// FuzzSpeechConfidence: whatever a provider sends as the confidence, the
// reader never panics and only ever gives a number from 0 to 1.
func FuzzSpeechConfidence(f *testing.F) {
	for _, s := range []string{"0.92", "1", "0", "", "1e-3", "NaN", "-0", "0.9.9", "٠.٥"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, n := range []Names{TwilioNames, PlivoNames} {
			v, ok := n.SpeechConfidence(func(string) string { return s })
			if ok && !(v >= 0 && v <= 1) {
				t.Fatalf("%q read as %v", s, v)
			}
		}
	})
}
