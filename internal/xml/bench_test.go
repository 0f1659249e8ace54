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

// BenchmarkGatherHints is a speech gather with three hints (one to trim,
// one empty).
func BenchmarkGatherHints(b *testing.B) {
	steps := []ivr.Step{ivr.Gather{Action: ivr.Target{Path: "menu/main", Query: "attempt=1"}, Speech: true, DTMF: true,
		SpeechHints: []string{"billing", " support ", "", "opening hours"}, Prompts: []ivr.Step{ivr.Say{Text: "Say billing or support."}}}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Twilio(testBase, steps); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendTwilio is the typical response rendered into a new slice
// (Twilio) and appended to a buffer kept from one answer to the next
// (AppendTwilio, as the voice handler does with a pooled buffer): the
// document's allocation (about 1 KB here) and the zeroing of fresh memory
// are saved.
func BenchmarkAppendTwilio(b *testing.B) {
	steps := menuSteps()
	b.Run("new", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Twilio(testBase, steps); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("reused", func(b *testing.B) {
		var buf []byte
		b.ReportAllocs()
		for b.Loop() {
			var err error
			if buf, err = AppendTwilio(buf[:0], testBase, steps); err != nil {
				b.Fatal(err)
			}
		}
	})
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
