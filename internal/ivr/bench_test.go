package ivr

import (
	"net/url"
	"testing"

	"github.com/ivr-project/ivr/internal/seal"
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

// BenchmarkStepCollectLookup: a caller enters an account number; the step
// asks for the lookup, then runs again with its result (fetch, switch, say,
// set, back to the menu with the variables sealed into the URL).
func BenchmarkStepCollectLookup(b *testing.B) {
	f := mustExample(b)
	box, err := seal.New(make([]byte, 32))
	if err != nil {
		b.Fatal(err)
	}
	req := Request{
		Call:    Call{Provider: "twilio", ID: "CA1", From: "+15551234567", To: "+15005550006", Now: openTime},
		Path:    "menu/account",
		Query:   url.Values{"attempt": {"1"}, "lang": {"en-US"}},
		Input:   Input{Digits: "123456#"},
		Sealer:  box,
		DemoAPI: "http://127.0.0.1:8080/demo",
	}
	result := LookupResult{Request: "account", OK: true, Values: map[string]string{"status": "active", "balance": "42.50", "name": "Ada Lovelace"}}
	b.ReportAllocs()
	for b.Loop() {
		req.Lookups = nil
		res, err := f.Step(req)
		if err != nil || res.Need == nil {
			b.Fatal(err, res)
		}
		req.Lookups = []LookupResult{result}
		if res, err = f.Step(req); err != nil || len(res.Steps) == 0 {
			b.Fatal(err, res)
		}
	}
}

// BenchmarkStepSealedState: a silent caller at a menu whose URL carries
// sealed variables (open, then seal again for the next URL).
func BenchmarkStepSealedState(b *testing.B) {
	f := mustExample(b)
	box, err := seal.New(make([]byte, 32))
	if err != nil {
		b.Fatal(err)
	}
	vs := vars{}.set("account", "123456").set("balance", "42.50").set("name", "Ada Lovelace").set("status", "active")
	req := Request{
		Call:   Call{Provider: "twilio", ID: "CA1", From: "+15551234567", To: "+15005550006", Now: openTime},
		Path:   "menu/account",
		Query:  url.Values{"attempt": {"2"}, "lang": {"en-US"}, "v": {box.SealFor(vs.encode(), []byte("twilio\x00CA1"))}},
		Sealer: box,
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Step(req); err != nil {
			b.Fatal(err)
		}
	}
}
