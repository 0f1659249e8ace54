package config

import (
	"slices"
	"strings"
	"testing"
)

// In local mode an unset provider token is the provider's development
// token; a token set always wins; production never uses one.
func TestDevelopmentTokens(t *testing.T) {
	for _, mode := range []string{"", "local"} {
		c, err := Load(env(map[string]string{"IVR_MODE": mode}))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(c.TwilioTokens, []string{DevTwilioToken}) || c.PlivoToken != DevPlivoToken || !slices.Equal(c.DevTokens, []string{"twilio", "plivo"}) {
			t.Fatalf("mode %q: tokens %q %q dev %v", mode, c.TwilioTokens, c.PlivoToken, c.DevTokens)
		}
		if len(c.CallbackProblems()) != 2 {
			t.Errorf("mode %q: a development token cannot place callbacks: %v", mode, c.CallbackProblems())
		}
	}
	c, err := Load(env(map[string]string{"TWILIO_AUTH_TOKEN": "real-twilio"}))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.TwilioTokens, []string{"real-twilio"}) || c.PlivoToken != DevPlivoToken || !slices.Equal(c.DevTokens, []string{"plivo"}) {
		t.Fatalf("the environment's token wins: %q %q dev %v", c.TwilioTokens, c.PlivoToken, c.DevTokens)
	}
	for _, p := range []string{"twilio", "plivo"} {
		tok, dev, err := ProviderToken(env(map[string]string{"IVR_MODE": "production"}), p)
		if err != nil || tok != "" || dev {
			t.Errorf("production %s: %q %v %v, want no token", p, tok, dev, err)
		}
		name := strings.ToUpper(p) + "_AUTH_TOKEN"
		if tok, dev, _ := ProviderToken(env(map[string]string{name: "set"}), p); tok != "set" || dev {
			t.Errorf("local %s set: %q %v", p, tok, dev)
		}
	}
	_, err = Load(env(map[string]string{"IVR_MODE": "production", "IVR_CALL_CENTER_NUMBER": "+14155550100",
		"IVR_ADMIN_TOKEN": "a", "IVR_PUBLIC_URL": "https://ivr.example.com", "IVR_STATE_KEY": strings.Repeat("ab", 32)}))
	if err == nil || !strings.Contains(err.Error(), "TWILIO_AUTH_TOKEN") || !strings.Contains(err.Error(), "PLIVO_AUTH_TOKEN") {
		t.Fatalf("production without tokens must still be refused: %v", err)
	}
}
