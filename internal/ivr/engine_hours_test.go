package ivr

import (
	"strings"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/testutil"
)

// Business hours: the flow's open/closed decision by the caller's local time.

func TestBusinessHours(t *testing.T) {
	src := `
entry: main
hours:
  time_zone: America/New_York
  weekly:
    mon-fri: "09:00-17:00"
    sat: ["10:00-12:00", "13:00-14:00"]
    sun: closed
  holidays: ["12-25", "2026-07-03"]
  closed:
    - say: "We are closed."
    - hangup
menus:
  main:
    greeting: "Hello."
    options:
      "1": hangup
`
	f := testutil.MustParse(t, Parse, src)
	ny, _ := time.LoadLocation("America/New_York")
	tests := []struct {
		name string
		at   time.Time
		open bool
	}{
		{"tuesday 10:00 NY", time.Date(2026, 3, 10, 10, 0, 0, 0, ny), true},
		{"tuesday 08:59 NY", time.Date(2026, 3, 10, 8, 59, 0, 0, ny), false},
		{"tuesday 17:00 NY (end is exclusive)", time.Date(2026, 3, 10, 17, 0, 0, 0, ny), false},
		{"monday 13:00 UTC = 08:00 EST", time.Date(2026, 11, 23, 13, 0, 0, 0, time.UTC), false},
		{"monday 14:00 UTC = 09:00 EST", time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC), true},
		{"monday 13:00 UTC = 09:00 EDT in summer", time.Date(2026, 6, 1, 13, 0, 0, 0, time.UTC), true},
		{"saturday 12:30 NY (lunch)", time.Date(2026, 3, 14, 12, 30, 0, 0, ny), false},
		{"saturday 13:30 NY", time.Date(2026, 3, 14, 13, 30, 0, 0, ny), true},
		{"sunday", time.Date(2026, 3, 15, 11, 0, 0, 0, ny), false},
		{"friday 2026-07-03 holiday", time.Date(2026, 7, 3, 11, 0, 0, 0, ny), false},
		{"friday 2027-07-02 is not", time.Date(2027, 7, 2, 11, 0, 0, 0, ny), true},
		{"christmas every year", time.Date(2030, 12, 25, 11, 0, 0, 0, ny), false},
		{"christmas in NY while already the 26th in Tokyo", time.Date(2030, 12, 25, 23, 30, 0, 0, time.UTC).In(ny), false},
		{"zero time counts as open", time.Time{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := f.Hours.Open(tc.at); got != tc.open {
				t.Errorf("Open(%v) = %v, want %v", tc.at, got, tc.open)
			}
			res, err := f.Step(Request{Call: Call{Now: tc.at}})
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"gather(menu/main?attempt=1&lang=en-US)[say(en-US)]", "redirect(menu/main?attempt=1&lang=en-US)"}
			if !tc.open {
				want = []string{"say(en-US)", "hangup"}
			}
			eqStrings(t, "steps", summary(res.Steps), want)
		})
	}
}

func TestExampleHours(t *testing.T) {
	f := mustExample(t)
	ny, _ := time.LoadLocation("America/New_York")
	// Open around the clock...
	for h := range 24 {
		at := time.Date(2026, 3, 8+h%7, h, 30, 0, 0, ny)
		if !f.Hours.Open(at) {
			t.Errorf("example closed at %v", at)
		}
	}
	// ...except its (past) holiday, which shows the closed path.
	s := newSim(t, f)
	s.call.Now = time.Date(2025, 12, 25, 12, 0, 0, 0, ny)
	res := s.answer()
	eqStrings(t, "closed", summary(res.Steps), []string{"say(en-US)", "say(en-US)", "record(action/voicemail-done?lang=en-US&ref=closed.1)", "hangup"})
	eqStrings(t, "events", actions(res.Events), []string{"||closed", "||say", "||voicemail"})
	res = s.recorded()
	if got := res.Steps[0].(Say).Text; !strings.Contains(got, "next business day") {
		t.Errorf("thanks = %q", got)
	}
	// And today, whatever the real time, the example reaches main.
	s.call.Now = time.Now()
	res = s.answer()
	if g := s.gather(); g.Action.Path != "menu/main" {
		t.Errorf("now: %v", summary(res.Steps))
	}
}
