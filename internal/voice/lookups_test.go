package voice

import (
	"strings"
	"testing"

	"github.com/ivr-project/ivr/internal/ivr"
)

func TestWithLookupEvents(t *testing.T) {
	evs := []ivr.Event{{Menu: "m", Action: "enter"}, {Menu: "m", Action: "fetch a: ok"}, {Menu: "m", Action: "fetch b: failed (lookup failed), on_error"},
		{Menu: "m", Action: "fetch d: failed (no x in the answer), on_error"}, {Menu: "m", Action: "say"}}
	done := []ivr.Event{{Input: "fetch a", Action: "fetch a: ok, HTTP 200, 5ms"}, {Input: "fetch b", Action: "fetch b: timeout, 300ms"},
		{Input: "fetch d", Action: "fetch d: ok, HTTP 200, 7ms"}, {Input: "fetch c", Action: "fetch c: ok, 1ms"}}
	var got []string
	for _, e := range withLookupEvents(evs, done) {
		got = append(got, e.Menu+":"+e.Action)
	}
	want := "m:enter|m:fetch a: ok, HTTP 200, 5ms|m:fetch b: timeout, 300ms, on_error|m:fetch d: failed (no x in the answer), HTTP 200, 7ms, on_error|m:say|m:fetch c: ok, 1ms"
	if strings.Join(got, "|") != want {
		t.Fatalf("got  %s\nwant %s", strings.Join(got, "|"), want)
	}
	if evs[1].Action != "fetch a: ok" {
		t.Fatal("the engine's events were changed in place")
	}
}
