package voice

import (
	"strings"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/ivr"
)

func TestWithLookupEvents(t *testing.T) {
	fetch := ivr.EventFetch
	ms := time.Millisecond
	evs := []ivr.Event{{Menu: "m", Kind: ivr.EventEnter}, {Menu: "m", Kind: fetch, More: &ivr.EventMore{Request: "a"}}, {Menu: "m", Kind: fetch, More: &ivr.EventMore{Request: "b", Reason: "lookup failed"}},
		{Menu: "m", Kind: fetch, More: &ivr.EventMore{Request: "d", Reason: "no x in the answer"}}, {Menu: "m", Kind: ivr.EventSay}}
	done := []ivr.Event{{Kind: fetch, More: &ivr.EventMore{Request: "a", Outcome: "ok", Status: 200, Duration: 5 * ms}}, {Kind: fetch, More: &ivr.EventMore{Request: "b", Outcome: "timeout", Duration: 300 * ms}},
		{Kind: fetch, More: &ivr.EventMore{Request: "d", Outcome: "ok", Status: 200, Duration: 7 * ms}}, {Kind: fetch, More: &ivr.EventMore{Request: "c", Outcome: "ok", Duration: ms}}}
	var got []string
	for _, e := range withLookupEvents(evs, done) {
		got = append(got, e.Menu+":"+e.Action())
	}
	want := "m:enter|m:fetch a: ok, HTTP 200, 5ms|m:fetch b: timeout, 300ms, on_error|m:fetch d: failed (no x in the answer), HTTP 200, 7ms, on_error|m:say|m:fetch c: ok, 1ms"
	if strings.Join(got, "|") != want {
		t.Fatalf("got  %s\nwant %s", strings.Join(got, "|"), want)
	}
	if evs[1].Action() != "fetch a: ok" {
		t.Fatal("the engine's events were changed in place")
	}
}

// TestLookupEventTimes: a fetch's event is timed when its lookup ended, not
// when the step began, and what the step did after it is not earlier.
func TestLookupEventTimes(t *testing.T) {
	start := time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)
	end := start.Add(800 * time.Millisecond)
	evs := []ivr.Event{{At: start, Menu: "m", Kind: ivr.EventCollected}, {At: start, Menu: "m", Kind: ivr.EventFetch, More: &ivr.EventMore{Request: "a"}},
		{At: start, Menu: "m", Kind: ivr.EventSay}}
	got := withLookupEvents(evs, []ivr.Event{{At: end, Kind: ivr.EventFetch, More: &ivr.EventMore{Request: "a", Outcome: "ok", Status: 200, Duration: 800 * time.Millisecond}}})
	for i, want := range []time.Time{start, end, end} {
		if !got[i].At.Equal(want) {
			t.Errorf("event %d (%s) at %s, want %s", i, got[i].Action(), got[i].At.Format(time.StampMilli), want.Format(time.StampMilli))
		}
	}
}
