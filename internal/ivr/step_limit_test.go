package ivr

import (
	"slices"
	"strings"
	"testing"

	"github.com/ivr-project/ivr/internal/testutil"
)

// pingPong is two menus whose on_max_timeouts send a silent caller to each
// other: nothing in them ever ends a silent call.
const pingPong = `entry: a
%s
menus:
  a:
    greeting: "A. Press 1 to hang up."
    max_timeouts: 2
    options: {"1": hangup}
    on_max_timeouts: {goto: b}
  b:
    greeting: "B. Press 1 to hang up."
    options: {"1": hangup}
    on_max_timeouts: {goto: a}
`

// silentCall plays a silent caller through f until the call ends (no
// Gather) or 500 webhooks went by; it returns the webhooks taken, the last
// result and every event.
func silentCall(t *testing.T, f *Flow) (int, Result, []Event) {
	t.Helper()
	s := newSim(t, f)
	res := s.answer()
	evs := slices.Clone(res.Events)
	for n := 1; n < 500; n++ {
		if !slices.ContainsFunc(res.Steps, func(st Step) bool { _, ok := st.(Gather); return ok }) {
			return n, res, evs
		}
		res = s.silence()
		evs = append(evs, res.Events...)
	}
	return 500, res, evs
}

// TestStepLimitEndsSilentLoop: a silent caller between two menus that send
// each other on_max_timeouts used to loop forever; the call's step limit
// ends it: with the call center when the flow has one, else goodbye and
// hang up, recorded as a step_limit event.
func TestStepLimitEndsSilentLoop(t *testing.T) {
	for _, tc := range []struct {
		name, top string
		limit     int
		last      string
	}{
		{"default, no call center", "", DefaultStepLimit, "hangup"},
		{"call center", `call_center: "+15550001111"`, DefaultStepLimit, "dial(+15550001111"},
		{"own limit and actions", "step_limit: 3\non_step_limit: [{say: \"Too quiet.\"}, hangup]", 3, "hangup"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := testutil.MustParse(t, Parse, strings.Replace(pingPong, "%s", tc.top, 1))
			n, res, evs := silentCall(t, f)
			if n >= 500 {
				t.Fatalf("the silent call never ended: %v", summary(res.Steps))
			}
			got := summary(res.Steps)
			if !strings.HasPrefix(got[len(got)-1], tc.last) {
				t.Errorf("the call ends with %v, want %s", got, tc.last)
			}
			gaveUp, limited := 0, 0
			for _, e := range evs {
				switch e.Kind {
				case EventMaxTimeouts:
					gaveUp++
				case EventStepLimit:
					limited++
				}
			}
			if limited != 1 || gaveUp != tc.limit+1 {
				t.Errorf("%d step_limit events after %d menus ran out of tries; want 1 after %d", limited, gaveUp, tc.limit+1)
			}
		})
	}
}

// TestCheckWarnsSilentCycle: check warns about menus a silent caller never
// leaves (the flow still loads: the step limit ends such calls).
func TestCheckWarnsSilentCycle(t *testing.T) {
	f := testutil.MustParse(t, Parse, strings.Replace(pingPong, "%s", "", 1))
	ws := f.Warnings()
	if len(ws) != 2 || !strings.Contains(ws[0].Msg, "silent caller") || ws[0].Line == 0 {
		t.Fatalf("warnings %v; want one per menu of the silent cycle a -> b -> a", ws)
	}
	for _, w := range ws {
		if !strings.Contains(w.Msg, `"a"`) || !strings.Contains(w.Msg, `"b"`) {
			t.Errorf("warning %q does not name the cycle's menus", w.Msg)
		}
	}
	if ws := mustExample(t).Warnings(); len(ws) != 0 {
		t.Errorf("the example flow gets warnings: %v", ws)
	}
	fixed := strings.Replace(strings.Replace(pingPong, "%s", "", 1), "on_max_timeouts: {goto: a}", "on_max_timeouts: hangup", 1)
	if ws := testutil.MustParse(t, Parse, fixed).Warnings(); len(ws) != 0 {
		t.Errorf("a silent caller leaves b, yet: %v", ws)
	}
}
