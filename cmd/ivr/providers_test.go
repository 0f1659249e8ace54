package main

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/ivr-project/ivr/internal/carrier"
	"github.com/ivr-project/ivr/internal/testutil"
)

// IVR_PROVIDERS=plivo: no Twilio route and no Twilio URL in the banner; and
// an IVR_PUBLIC_URL ending in "/" prints no doubled slash.
func TestServeProvidersAndBanner(t *testing.T) {
	out := &testutil.Buffer{}
	base, stop, _ := startServerOut(t, map[string]string{
		"IVR_PROVIDERS":     "plivo",
		"IVR_PUBLIC_URL":    "https://abc.ngrok.app/",
		"TWILIO_AUTH_TOKEN": "tw-token",
		"PLIVO_AUTH_TOKEN":  "pl-token",
	}, out)
	defer stop()
	banner := out.String()
	if strings.Contains(strings.ToLower(banner), "twilio") {
		t.Errorf("banner names Twilio though IVR_PROVIDERS=plivo:\n%s", banner)
	}
	if !strings.Contains(banner, "https://abc.ngrok.app/plivo/voice") {
		t.Errorf("banner lacks the Plivo answer URL:\n%s", banner)
	}
	if regexp.MustCompile(`[^:]//`).MatchString(banner) {
		t.Errorf("banner has a doubled slash:\n%s", banner)
	}
	form := url.Values{"CallSid": {"CA1"}, "From": {"+15550001111"}, "To": {"+15550002222"}}
	resp, err := http.DefaultClient.Do(send(signed(carrier.Twilio, "tw-token", "https://abc.ngrok.app/twilio/voice", form), base))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("signed Twilio request with Twilio disabled = %d, want 404", resp.StatusCode)
	}
}

// With both providers on (the default), both are printed.
func TestPrintWebhooksBoth(t *testing.T) {
	var b strings.Builder
	printWebhooks(&b, "https://x.example//", "http://localhost:8080", map[string]bool{"twilio": true, "plivo": true}, true)
	for _, want := range []string{"https://x.example/twilio/voice", "https://x.example/plivo/hangup", "http://localhost:8080/admin/"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("banner lacks %s:\n%s", want, b.String())
		}
	}
}

// With IVR_NGROK_API=off nobody looked for an ngrok agent: the start-up
// text does not say none was found.
func TestPrintWebhooksNgrokOff(t *testing.T) {
	var b strings.Builder
	printWebhooks(&b, "", "http://localhost:8080", map[string]bool{"twilio": true}, false)
	if strings.Contains(b.String(), "ngrok") || !strings.Contains(b.String(), "IVR_PUBLIC_URL is not set") {
		t.Errorf("ngrok off:\n%s", b.String())
	}
	b.Reset()
	printWebhooks(&b, "", "http://localhost:8080", map[string]bool{"twilio": true}, true)
	if !strings.Contains(b.String(), "no ngrok agent was found") {
		t.Errorf("ngrok looked for:\n%s", b.String())
	}
}
