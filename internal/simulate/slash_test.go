package simulate

import (
	"io"
	"regexp"
	"strings"
	"testing"
)

// `ivr sign` never prints a webhook URL with a doubled slash, even when
// IVR_PUBLIC_URL ends in "/" (as people paste it).
func TestSignNoDoubledSlash(t *testing.T) {
	doubled := regexp.MustCompile(`[^:]//`)
	for _, public := range []string{"https://abc.ngrok.app/", "https://abc.ngrok.app//", "https://example.com/ivr/"} {
		env := map[string]string{"IVR_PUBLIC_URL": public, "TWILIO_AUTH_TOKEN": "tw", "PLIVO_AUTH_TOKEN": "pl"}
		for _, args := range [][]string{
			{"--provider", "twilio"},
			{"--provider", "plivo"},
			{"--provider", "twilio", "/twilio/voice/menu/main", "Digits=1"},
		} {
			var out strings.Builder
			if err := Sign(args, func(k string) string { return env[k] }, &out, io.Discard); err != nil {
				t.Fatalf("sign %v: %v", args, err)
			}
			// The URL only: a base64 signature may hold "//".
			u := regexp.MustCompile(`curl (?:--globoff )?(\S+)`).FindStringSubmatch(out.String())
			if u == nil || doubled.MatchString(u[1]) {
				t.Errorf("IVR_PUBLIC_URL=%s, sign %v prints a doubled slash:\n%s", public, args, out.String())
			}
		}
	}
}
