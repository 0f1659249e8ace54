package store

import (
	"reflect"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/ivr"
)

// oneAnswer is what an answer stores: its events, on one revision.
func oneAnswer() []Event {
	at := time.Date(2026, 12, 5, 11, 0, 0, 0, time.UTC)
	return []Event{
		{Event: ivr.Event{At: at, Kind: ivr.EventPlay}, Revision: "0123456789ab"},
		{Event: ivr.Event{At: at, Kind: ivr.EventSay}, Revision: "0123456789ab"},
		{Event: ivr.Event{At: at, Kind: ivr.EventEnter, Menu: "main"}, Revision: "0123456789ab"},
	}
}

// A typed row gives back its events: revisions by run, nodes derived,
// text cleaned, a zero At as the batch's now.
func TestTypedEventsRow(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	evs := append(oneAnswer(),
		Event{Event: ivr.Event{Kind: ivr.EventOption, Menu: "main", Heard: ivr.HeardKeys, Entry: "2", Key: "2"}, Revision: "r2"},
		Event{Event: ivr.Event{At: now, Kind: ivr.EventText, More: &ivr.EventMore{Text: "a\x00b", Vars: []string{"\xff"}}}},
	)
	b, err := typedEvents{}.append(nil, evs, now)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeEvents(nil, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(evs) {
		t.Fatalf("%d events, want %d", len(got), len(evs))
	}
	for i, want := range []struct{ rev, node, action string }{
		{"0123456789ab", "", "play"}, {"0123456789ab", "", "say"}, {"0123456789ab", "main", "enter"},
		{"r2", "main/2", "option 2"}, {"", "", "ab"},
	} {
		if g := got[i]; g.Revision != want.rev || g.Node != want.node || g.Action() != want.action {
			t.Errorf("event %d: %q %q %q, want %+v", i, g.Revision, g.Node, g.Action(), want)
		}
	}
	if !got[3].At.Equal(now) || got[4].Vars()[0] != "\uFFFD" || evs[4].Text() != "a\x00b" {
		t.Errorf("now %v, vars %q; the caller's event changed: %q", got[3].At, got[4].Vars(), evs[4].Text())
	}
	for _, bad := range [][]byte{nil, {2}, {typedRowVersion}, {typedRowVersion, 1, 1, 9}, {typedRowVersion, 0, 9}} {
		if _, err := decodeEvents(nil, bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// BenchmarkRequestRow: the bytes and allocations of an answer's row.
func BenchmarkRequestRow(b *testing.B) {
	evs := oneAnswer()
	var row []byte
	b.ReportAllocs()
	for b.Loop() {
		row, _ = typedEvents{}.append(nil, evs, time.Time{})
	}
	b.ReportMetric(float64(len(row)), "bytes/row")
}

// FuzzDecodeRow: whatever bytes a call_requests row holds, reading it
// never panics; what it reads writes back (its text cleaned once) and then
// reads back the same.
func FuzzDecodeRow(f *testing.F) {
	row, _ := typedEvents{}.append(nil, oneAnswer(), time.Time{})
	f.Add(row)
	f.Add([]byte(`[{"t":1,"a":"enter","m":"main"}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		evs, err := decodeEvents(nil, b)
		if err != nil || len(b) == 0 || b[0] != typedRowVersion {
			return
		}
		once := rowRoundTrip(t, evs)
		twice := rowRoundTrip(t, once)
		for i := range once {
			if twice[i].Revision != once[i].Revision || twice[i].Action() != once[i].Action() || twice[i].Input() != once[i].Input() {
				t.Fatalf("event %d changed: %#v -> %#v", i, once[i], twice[i])
			}
		}
	})
}

func rowRoundTrip(t *testing.T, evs []Event) []Event {
	t.Helper()
	b, err := typedEvents{}.append(nil, evs, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	back, err := decodeEvents(nil, b)
	if err != nil || len(back) != len(evs) {
		t.Fatalf("a read row does not write back: %v", err)
	}
	return back
}

// TestClean: clean says whether cleanText would change an event, for text
// in the common fields and in the rarer ones, ASCII or not.
func TestClean(t *testing.T) {
	for _, e := range []ivr.Event{
		{Menu: "main", Key: "1"},
		{Menu: "menú", Target: "caf\u00e9"},
		{Menu: "ma\x00in"},
		{Entry: "\xff"},
		{Menu: "main", More: &ivr.EventMore{Text: "héllo", Numbers: []string{"+1"}}},
		{Menu: "main", More: &ivr.EventMore{Reason: "a\x00"}},
		{Menu: "main", More: &ivr.EventMore{Error: "\xfe"}},
		{Menu: "main", More: &ivr.EventMore{Context: []ivr.ContextValue{{Name: "n", Value: "\x00"}}}},
		{Menu: "main", More: &ivr.EventMore{Vars: []string{"ok", "b\xc3"}}},
	} {
		c := e
		cleanText(&c)
		want := reflect.DeepEqual(c, e)
		if got := clean(&e); got != want {
			t.Errorf("clean(%+v %+v) = %v, want %v", e, e.More, got, want)
		}
	}
}
