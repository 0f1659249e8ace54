package xml

import (
	"testing"

	"github.com/ivr-project/ivr/internal/ivr"
)

// TestElementNameRoundTrip: the names ElementName gives are the elements
// the writer wrote and the reader read, on both dialects.
func TestElementNameRoundTrip(t *testing.T) {
	steps := []ivr.Step{ivr.Say{Text: "Hello."}, ivr.Pause{Seconds: 1}, ivr.Play{URL: "https://x.example/a.mp3"}, ivr.Hangup{}}
	for provider, want := range map[string][]string{
		ProviderTwilio: {"Say", "Pause", "Play", "Hangup"},
		ProviderPlivo:  {"Speak", "Wait", "Play", "Hangup"},
	} {
		render := Twilio
		if provider == ProviderPlivo {
			render = Plivo
		}
		doc, err := render("https://ivr.example", steps)
		if err != nil {
			t.Fatal(err)
		}
		verbs, err := Parse(provider, doc)
		if err != nil {
			t.Fatal(err)
		}
		if len(verbs) != len(want) {
			t.Fatalf("%s: read %d verbs from %s", provider, len(verbs), doc)
		}
		for i, v := range verbs {
			if got := ElementName(provider, v); got != want[i] {
				t.Errorf("%s verb %d: %q, want %q", provider, i, got, want[i])
			}
		}
	}
	if got := ElementName(ProviderTwilio, Hangup{Reject: true}); got != "Reject" {
		t.Errorf("reject: %q", got)
	}
	if got := ElementName(ProviderTwilio, DTMF{Digits: "1"}); got != "Play" {
		t.Errorf("twilio DTMF: %q", got)
	}
}
