package ivr

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/testutil"
)

const hoursFlow = `
hours:
  time_zone: America/New_York
  weekly: {mon-fri: "09:00-17:00"}
  holidays: [2026-12-25]
  overrides:
    - {date: 2026-12-24, open: "09:00-13:00"}
    - {date: 2026-12-31, closed: true}
    - {date: 2026-12-25, open: "10:00-12:00"}
    - {date: 12-26, open: "10:00-11:00"}
  closed: [{say: "Closed."}, hangup]
menus:
  main:
    greeting: "Press 0 for a person."
    options:
      "0":
        switch:
          - if: 'open && now_weekday <= 5'
            do: {transfer: "+15550001111"}
          - if: 'now_hour >= 17 || now_weekday == 6'
            do: [{say: "We are closed for the evening."}, voicemail]
          - else: [{say: "Closed today."}, hangup]
`

func ny(t *testing.T, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	tm, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func TestHoursOverrides(t *testing.T) {
	f := testutil.MustParse(t, Parse, hoursFlow)
	for _, c := range []struct {
		at   string
		open bool
	}{
		{"2026-12-17 14:00", true},  // a Thursday: weekly hours
		{"2026-12-24 12:59", true},  // Christmas Eve, shorter hours
		{"2026-12-24 14:00", false}, // closed after 13:00 that day
		{"2026-12-25 11:00", true},  // the override wins over the holiday
		{"2026-12-25 13:00", false},
		{"2026-12-31 10:00", false}, // closed all day
		{"2027-12-31 10:00", true},  // the dated override was for 2026 only
		{"2026-12-26 10:30", true},  // every-year override on a Saturday
		{"2027-12-26 11:30", false},
	} {
		if got := f.Hours.Open(ny(t, c.at)); got != c.open {
			t.Errorf("Open(%s) = %v, want %v", c.at, got, c.open)
		}
	}
}

// TestOpenCondition: the same keypress takes different paths by the
// request's clock, with a date override in play (no sleeping: the test sets
// Call.Now).
func TestOpenCondition(t *testing.T) {
	f := testutil.MustParse(t, Parse, hoursFlow)
	const dial = "dial(+15550001111 -> action/dial-done?lang=en-US&menu=main&ref=main.0.0.b0.0)"
	for _, c := range []struct {
		answered, pressed, want string
	}{
		{"2026-12-17 12:30", "2026-12-17 13:30", dial},                // a Thursday: weekly hours
		{"2026-12-24 12:30", "2026-12-24 12:45", dial},                // Christmas Eve, before 13:00
		{"2026-12-24 12:30", "2026-12-24 13:30", "say(en-US) hangup"}, // the override closed the line at 13:00
		{"2026-12-17 12:30", "2026-12-17 18:00", "say(en-US) say(en-US) record(action/voicemail-done?lang=en-US&menu=main&ref=main.0.0.b1.1) hangup"},
	} {
		s := newSim(t, f)
		s.call.Now = ny(t, c.answered)
		s.answer()
		s.call.Now = ny(t, c.pressed)
		got := strings.Join(summary(s.press("0").Steps), " ")
		if got != c.want {
			t.Errorf("answered %s, pressed 0 at %s: %s, want %s", c.answered, c.pressed, got, c.want)
		}
	}
}

func TestClockNamesInConditions(t *testing.T) {
	f := testutil.MustParse(t, Parse, hoursFlow)
	s := newSim(t, f)
	s.call.Now = ny(t, "2026-12-19 10:00") // a Saturday, closed: the answer URL says so
	if got := summary(s.answer().Steps); strings.Join(got, " ") != "say(en-US) hangup" {
		t.Fatalf("answer on Saturday = %v", got)
	}
	r := &runner{f: f, call: Call{Now: ny(t, "2026-12-20 23:30")}} // Sunday
	env := r.condEnv()
	if env["open"] != false || env["now_hour"] != 23 || env["now_weekday"] != 7 {
		t.Errorf("env = open %v, now_hour %v, now_weekday %v; want false 23 7", env["open"], env["now_hour"], env["now_weekday"])
	}
	// Without hours: always open, hours in UTC.
	g := testutil.MustParse(t, Parse, "menus: {main: {greeting: hi, options: {\"1\": hangup}}}")
	r = &runner{f: g, call: Call{Now: time.Date(2026, 12, 21, 4, 0, 0, 0, time.UTC)}}
	env = r.condEnv()
	if env["open"] != true || env["now_hour"] != 4 || env["now_weekday"] != 1 {
		t.Errorf("no hours: env = open %v, now_hour %v, now_weekday %v; want true 4 1", env["open"], env["now_hour"], env["now_weekday"])
	}
}

const splitFlow = `
menus:
  main:
    greeting: "Hello."
    options:
      "1":
        - split:
            - {label: short, weight: 50, do: [{say: "Short."}, {goto: billing}]}
            - {label: long, weight: 50, do: [{say: "A longer greeting."}]}
        - goto: billing
  billing:
    greeting: "Billing."
    options:
      "1":
        split:
          - {label: short, weight: 50, do: hangup}
          - {label: long, weight: 50, do: voicemail}
`

func variantsOf(evs []Event) []string {
	var out []string
	for _, e := range evs {
		if e.Kind == EventVariant {
			out = append(out, e.Label())
		}
	}
	return out
}

// TestSplitDistribution: 1,000 calls through a 50/50 split land 40-60 % in
// each variant, and every step of a call takes the same variant.
func TestSplitDistribution(t *testing.T) {
	f := testutil.MustParse(t, Parse, splitFlow)
	counts := map[string]int{}
	for i := range 1000 {
		s := newSim(t, f)
		s.call.ID = fmt.Sprintf("CA%032x", i*7919+13)
		s.answer()
		first := variantsOf(s.press("1").Events)
		second := variantsOf(s.press("1").Events)
		if len(first) != 1 || len(second) != 1 || first[0] != second[0] {
			t.Fatalf("call %s: variants %v then %v, want one and the same", s.call.ID, first, second)
		}
		counts[first[0]]++
	}
	t.Logf("1000 calls: short %d, long %d", counts["short"], counts["long"])
	for _, l := range []string{"short", "long"} {
		if counts[l] < 400 || counts[l] > 600 {
			t.Errorf("%s got %d of 1000 calls, want 400-600", l, counts[l])
		}
	}
}

func TestSplitWeights(t *testing.T) {
	bs := []Branch{{Label: "a", Weight: 0}, {Label: "b", Weight: 3}, {Label: "c", Weight: 1}}
	n := map[string]int{}
	for i := range 4000 {
		n[pickVariant(fmt.Sprint("call-", i), bs).Label]++
	}
	if n["a"] != 0 || n["b"] < 2800 || n["b"] > 3200 || n["c"] < 800 || n["c"] > 1200 {
		t.Errorf("weights 0:3:1 over 4000 calls gave %v", n)
	}
	if pickVariant("x", []Branch{{Label: "a"}}) != nil {
		t.Error("all weights 0: want no variant")
	}
}

func TestTranscribe(t *testing.T) {
	f := testutil.MustParse(t, Parse, `
menus:
  main:
    greeting: "Hi."
    options:
      "1": {voicemail: {transcribe: true}}
      "2": voicemail
`)
	s := newSim(t, f)
	s.answer()
	var rec Record
	for _, st := range s.press("1").Steps {
		if r, ok := st.(Record); ok {
			rec = r
		}
	}
	if rec.Transcription == nil || rec.Transcription.String() != "action/transcription?menu=main" {
		t.Fatalf("transcribe: Record.Transcription = %v", rec.Transcription)
	}
	s.answer()
	for _, st := range s.press("2").Steps {
		if r, ok := st.(Record); ok && r.Transcription != nil {
			t.Errorf("plain voicemail asks for a transcript: %v", r.Transcription)
		}
	}
}

func TestControlsProblems(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{`hours: {time_zone: UTC, weekly: {mon: open}, closed: hangup, overrides: [{date: 2026-12-24}]}`, "an override needs date: and either open:"},
		{`hours: {time_zone: UTC, weekly: {mon: open}, closed: hangup, overrides: [{date: 2026-12-24, closed: true, open: "09:00-10:00"}]}`, "not both"},
		{`hours: {time_zone: UTC, weekly: {mon: open}, closed: hangup, overrides: [{date: 2026-13-24, closed: true}]}`, "bad date"},
		{`hours: {time_zone: UTC, weekly: {mon: open}, closed: hangup, overrides: [{date: 2026-12-24, closed: true}, {date: 2026-12-24, open: "09:00-10:00"}]}`, "already overridden at line 1"},
		{`hours: {time_zone: UTC, weekly: {mon: open}, closed: hangup, overrides: [{date: 2026-12-24, open: "13:00-09:00"}]}`, "end before they start"},
		{`hours: {time_zone: UTC, weekly: {mon: open}, closed: hangup, overrides: [{date: 2026-12-24, closed: false}]}`, "closed: false says nothing"},
		{`menus: {main: {greeting: hi, options: {"1": {split: [{label: a, weight: 1, do: hangup}]}}}}`, "at least two"},
		{`menus: {main: {greeting: hi, options: {"1": {split: [{label: a, weight: 1, do: hangup}, {label: a, weight: 1, do: hangup}]}}}}`, "already used"},
		{`menus: {main: {greeting: hi, options: {"1": {split: [{label: a, weight: 0, do: hangup}, {label: b, weight: 0, do: hangup}]}}}}`, "every weight is 0"},
		{`menus: {main: {greeting: hi, options: {"1": {split: [{label: "a b", weight: 1, do: hangup}, {label: b, weight: 1, do: hangup}]}}}}`, "split label"},
		{`menus: {main: {greeting: hi, options: {"1": {split: [{label: a, do: hangup}, {label: b, weight: 1, do: hangup}]}}}}`, "needs label:, weight: and do:"},
		{`menus: {main: {greeting: hi, options: {"1": [{split: [{label: a, weight: 1, do: hangup}, {label: b, weight: 1, do: top}]}, hangup]}}}`, "never run"},
		{`menus: {main: {greeting: hi, options: {"1": {switch: [{if: 'opn', do: hangup}]}}}}`, "did you mean \"open\""},
		{`menus: {main: {greeting: hi, options: {"1": {switch: [{if: 'now_hour == "9"', do: hangup}]}}}}`, "condition:"},
		{`menus: {main: {greeting: hi, options: {"1": {set: {open: "1"}}}}}`, "reserved name"},
		{`menus: {main: {greeting: hi, options: {"1": {voicemail: {transcribe: maybe}}}}}`, "transcribe"},
	} {
		_, err := Parse("t.yaml", []byte(c.src))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s\n  error %v\n  want it to say %q", c.src, err, c.want)
		}
	}
}

func TestClosure(t *testing.T) {
	f := testutil.MustParse(t, Parse, `
call_center: "+15550009999"
menus:
  main:
    greeting: "Hello."
    options: {"1": hangup}
`)
	for _, c := range []struct {
		closure Closure
		want    string
	}{
		{Closure{Message: "Closed for the storm.", Then: ClosureVoicemail}, "say(en-US) record(action/voicemail-done?lang=en-US) hangup"},
		{Closure{Message: "Closed for the storm.", Then: ClosureHangup}, "say(en-US) hangup"},
		{Closure{Message: "Closed.", Then: ClosureTransfer}, "say(en-US) dial(+15550009999) hangup"},
		{Closure{Then: ClosureTransfer, To: "+15550001111"}, "dial(+15550001111) hangup"},
	} {
		s := newSim(t, f)
		res, err := f.Step(Request{Call: s.call, Closure: &c.closure})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(summary(res.Steps), " "); got != c.want {
			t.Errorf("%+v: %s, want %s", c.closure, got, c.want)
		}
		if res.Events[0].Action() != "closure "+c.closure.Then {
			t.Errorf("first event %+v", res.Events[0])
		}
	}
	// A call already in a menu goes on: only the answer URL is closed.
	s := newSim(t, f)
	s.answer()
	g := s.gather()
	q := map[string][]string{"attempt": {"1"}}
	res, err := f.Step(Request{Call: s.call, Path: g.Action.Path, Query: q, Input: Input{Digits: "1"}, Closure: &Closure{Then: ClosureHangup, Message: "x"}})
	if err != nil || strings.Join(actions(res.Events), ",") != "main|1|option 1,main||hangup" {
		t.Errorf("in a menu during a closure: %v %v", actions(res.Events), err)
	}
	// The voicemail's return thanks the caller.
	if got := summary(s.do(PathVoicemailDone, "", Input{}).Steps); strings.Join(got, " ") != "say(en-US) hangup" {
		t.Errorf("voicemail done after a closure: %v", got)
	}
	if _, err := f.Step(Request{Call: s.call, Closure: &Closure{Then: "dance"}}); err == nil {
		t.Error("closure with an unknown then: want an error")
	}
	g2 := testutil.MustParse(t, Parse, "menus: {main: {greeting: hi, options: {\"1\": hangup}}}")
	if _, err := g2.Step(Request{Call: s.call, Closure: &Closure{Then: ClosureTransfer}}); err == nil {
		t.Error("closure transfer without any number: want an error")
	}
}
