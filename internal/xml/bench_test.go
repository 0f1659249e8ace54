package xml

import (
	"testing"

	"github.com/ivr-project/ivr/internal/ivr"
)

// The typical response: one menu (Gather with two Says) and its Redirect.

func BenchmarkTwilioMenu(b *testing.B) {
	benchmarkMenu(b, Twilio, testBase)
}

func BenchmarkPlivoMenu(b *testing.B) {
	benchmarkMenu(b, Plivo, testBasePlivo)
}

func benchmarkMenu(b *testing.B, render func(string, []ivr.Step) ([]byte, error), base string) {
	steps := menuSteps()
	b.ReportAllocs()
	var n int
	for b.Loop() {
		doc, err := render(base, steps)
		if err != nil {
			b.Fatal(err)
		}
		n = len(doc)
	}
	b.SetBytes(int64(n))
}

func BenchmarkFallback(b *testing.B) {
	f := FallbackConfig{Text: "Sorry, please hold.", Number: "+15550100000"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Fallback(ProviderTwilio, f); err != nil {
			b.Fatal(err)
		}
	}
}
