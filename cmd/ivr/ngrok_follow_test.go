package main

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ivr-project/ivr/internal/auth"
	"github.com/ivr-project/ivr/internal/carrier"
	"github.com/ivr-project/ivr/internal/testutil"
)

// With the ngrok agent in use, a restarted tunnel (a new public host) is
// noticed without restarting the server: requests signed for the new URL
// reach the menu, the old URL is refused, and the log says what to paste.
func TestServeFollowsAChangedNgrokTunnel(t *testing.T) {
	var tunnel atomic.Pointer[string]
	first := "https://first-tunnel.ngrok.app"
	tunnel.Store(&first)
	agent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"tunnels":[{"public_url":"` + *tunnel.Load() + `","proto":"https","config":{"addr":"http://localhost:1"}}]}`))
	}))
	defer agent.Close()
	base, stop, logs := startServer(t, map[string]string{
		"IVR_NGROK_API":     agent.URL,
		"IVR_NGROK_POLL":    "20ms",
		"TWILIO_AUTH_TOKEN": "tw-token",
	})
	defer stop()

	post := func(public string) *http.Response {
		t.Helper()
		form := url.Values{"CallSid": {"CA0001"}, "From": {"+15550001111"}, "To": {"+15550002222"}}
		req, _ := http.NewRequest(http.MethodPost, base+"/twilio/voice", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", auth.SignTwilio("tw-token", public+"/twilio/voice", form))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := post(first); resp.Header.Get(carrier.HeaderFallback) != "" {
		t.Fatalf("signed for the tunnel found at start: fallback %q", resp.Header.Get(carrier.HeaderFallback))
	}
	second := "https://second-tunnel.ngrok.app"
	tunnel.Store(&second)
	testutil.WaitFor(t, "the server to follow the new tunnel", func() bool {
		return post(second).Header.Get(carrier.HeaderFallback) == ""
	})
	if got := post(first).Header.Get(carrier.HeaderFallback); got != "bad_signature" {
		t.Errorf("signed for the old tunnel after the change: fallback %q, want bad_signature", got)
	}
	if !strings.Contains(logs.String(), "ngrok tunnel changed") || !strings.Contains(logs.String(), second+"/twilio/voice") {
		t.Errorf("the log does not say the tunnel changed and what to paste:\n%s", logs.String())
	}
}
