package ivr

import (
	"net/url"
	"testing"
	"time"
	"unsafe"

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

// BenchmarkEventSize is the events of an answer (enter, then a key in the
// next step's option) as the engine records them (a slice of 4) and the
// server hands them on (a copy with the flow revision): Event with its rare
// fields behind More against the flat layout it had before (every field in
// the event, 352 bytes). What More saves: 1.6 KB of 2.4 KB per answer
// (832 B against 2,432 B: the slice of 4 is 512 B instead of 1,408, the
// copy 352 B instead of 896), and about 60 % of the time.
func BenchmarkEventSize(b *testing.B) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	b.Run("flat", func(b *testing.B) {
		b.ReportMetric(float64(unsafe.Sizeof(flatEvent{})), "event-bytes")
		b.ReportAllocs()
		for b.Loop() {
			evs := make([]flatEvent, 0, 4)
			evs = append(evs, flatEvent{At: now, Kind: EventEnter, Menu: "main"},
				flatEvent{At: now, Kind: EventOption, Menu: "main", Heard: HeardKeys, Entry: "1", Key: "1"})
			sinkFlatEvs, sinkFlat = evs, withRevision(evs, "r1")
		}
	})
	b.Run("More", func(b *testing.B) {
		b.ReportMetric(float64(unsafe.Sizeof(Event{})), "event-bytes")
		b.ReportAllocs()
		for b.Loop() {
			evs := make([]Event, 0, 4)
			evs = append(evs, Event{At: now, Kind: EventEnter, Menu: "main"},
				Event{At: now, Kind: EventOption, Menu: "main", Heard: HeardKeys, Entry: "1", Key: "1"})
			sinkEvs, sinkMore = evs, withRevision(evs, "r1")
		}
	})
}

// revised is an event with the flow revision it ran on, as the store keeps it.
type revised[E any] struct {
	E        E
	Revision string
	Node     string
	_, _     *int // the store's recording and notice
}

func withRevision[E any](evs []E, rev string) []revised[E] {
	out := make([]revised[E], len(evs))
	for i, e := range evs {
		out[i] = revised[E]{E: e, Revision: rev}
	}
	return out
}

var (
	sinkFlatEvs []flatEvent
	sinkEvs     []Event
	sinkFlat    []revised[flatEvent]
	sinkMore    []revised[Event]
)

// flatEvent is Event as it was before More: every field in the event.
type flatEvent struct {
	At                     time.Time
	Kind                   EventKind
	Heard                  HeardKind
	Menu, Entry            string
	Digits                 int
	Confidence             float64
	Key, Target, Var       string
	Vars, Numbers          []string
	Request, Outcome       string
	Status                 int
	Duration               time.Duration
	Error                  Failure
	Reason                 string
	Branch                 int
	Cond, URL, Label, Text string
	Context                []ContextValue
}
