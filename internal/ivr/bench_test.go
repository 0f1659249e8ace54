package ivr

import (
	"net/url"
	"testing"
)

// BenchmarkStepMenuOption: a caller presses 1 in main (goto billing).
func BenchmarkStepMenuOption(b *testing.B) {
	f := mustExample(b)
	req := Request{
		Call:  Call{Provider: "twilio", ID: "CA1", From: "+15551234567", To: "+15005550006", Now: openTime},
		Path:  "menu/main",
		Query: url.Values{"attempt": {"1"}, "lang": {"en-US"}},
		Input: Input{Digits: "1"},
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Step(req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStepAnswer: a new call (hours check, answer actions, main menu).
func BenchmarkStepAnswer(b *testing.B) {
	f := mustExample(b)
	req := Request{Call: Call{Provider: "twilio", From: "+15551234567", To: "+15005550006", Now: openTime}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Step(req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseExample(b *testing.B) {
	data := Example()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("example.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}
