package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/testutil"
)

// TestAddEventBatchInterleavedCalls: a batch in which calls interleave (as
// the writer's queue does under load) keeps each call's events in order,
// including calls with more events than one INSERT takes.
func TestAddEventBatchInterleavedCalls(t *testing.T) {
	ctx := context.Background()
	db := openT(t, testutil.SQLiteDSN(t))
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ev := func(i int) Event {
		return Event{Event: legacyEvent(t0.Add(time.Duration(i)*time.Second), "m", "", string(rune('a'+i%26)))}
	}
	var batch []CallEvents
	var wantA []Event
	for i := 0; i < 3*(1<<maxRowsLog2)+5; i++ {
		batch = append(batch, CallEvents{Provider: "twilio", CallID: "CA-A", From: "+1", To: "+2", Events: []Event{ev(i)}})
		wantA = append(wantA, ev(i))
		if i%7 == 0 {
			batch = append(batch, CallEvents{Provider: "plivo", CallID: "B", Events: []Event{ev(i)}})
		}
	}
	if err := db.AddEventBatch(ctx, batch); err != nil {
		t.Fatal(err)
	}
	a, err := db.GetCall(ctx, "twilio", "CA-A")
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Events) != len(wantA) {
		t.Fatalf("call A has %d events, want %d", len(a.Events), len(wantA))
	}
	for i, e := range a.Events {
		if !e.At.Equal(wantA[i].At) || e.Action() != wantA[i].Action() {
			t.Fatalf("event %d = %+v, want %+v", i, e, wantA[i])
		}
	}
	if b, err := db.GetCall(ctx, "plivo", "B"); err != nil || len(b.Events) == 0 {
		t.Fatalf("call B: %+v %v", b, err)
	}
	if len(batch[0].Events) != 1 {
		t.Fatal("coalescing must not change the caller's batch")
	}
}

// TestAddEventBatchCallRows: the new calls of a batch are stored with
// their own numbers, start, revision and events whether a chunk of the
// insert shares its provider, called number and revision (bound once) or
// not, for the calls inserted without a lookup (answers) and the others.
func TestAddEventBatchCallRows(t *testing.T) {
	ctx := context.Background()
	db := openT(t, testutil.SQLiteDSN(t))
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	type want struct {
		provider, id, from, to, revision string
		start                            time.Time
	}
	var (
		batch []CallEvents
		wants []want
	)
	add := func(provider, id, to, revision string, isNew bool) {
		n := len(batch)
		w := want{provider, id, fmt.Sprintf("+1555%07d", n), to, revision, t0.Add(time.Duration(n) * time.Second)}
		evs := []Event{
			{Event: legacyEvent(w.start, "main", "", "say"), Revision: revision},
			{Event: legacyEvent(w.start.Add(time.Millisecond), "main", "", "gather"), Revision: revision},
		}
		batch = append(batch, CallEvents{Provider: provider, CallID: id, From: w.from, To: to, Events: evs, New: isNew})
		wants = append(wants, w)
	}
	for i := range 1 << maxRowsLog2 { // one full chunk of one number and revision
		add("twilio", fmt.Sprintf("CA-a-%03d", i), "+2", "r1", true)
	}
	for i := range 4 { // a chunk of four numbers and revisions
		add("twilio", fmt.Sprintf("CA-b-%d", i), fmt.Sprint("+", 4+i%2), fmt.Sprint("r", 2+i/2), true)
	}
	add("plivo", "P-1", "+2", "r1", true)  // one provider
	add("twilio", "CA-c", "+9", "", false) // looked up first: not an answer
	add("plivo", "P-2", "+8", "r4", false)
	if err := db.AddEventBatch(ctx, batch); err != nil {
		t.Fatal(err)
	}
	for _, w := range wants {
		var from, to, revision string
		var start int64
		var events []byte
		err := db.sql.QueryRowContext(ctx, `SELECT from_number, to_number, revision, started_at, events FROM calls WHERE provider = ? AND call_id = ?`,
			w.provider, w.id).Scan(&from, &to, &revision, &start, &events)
		if err != nil {
			t.Fatalf("%s/%s: %v", w.provider, w.id, err)
		}
		if from != w.from || to != w.to || revision != w.revision || start != w.start.UnixMicro() {
			t.Errorf("%s/%s = from %q to %q revision %q start %d, want %q %q %q %d", w.provider, w.id, from, to, revision, start,
				w.from, w.to, w.revision, w.start.UnixMicro())
		}
		c, err := db.GetCall(ctx, w.provider, w.id)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Events) != 2 || !c.Events[0].At.Equal(w.start) || c.Events[1].Revision != w.revision {
			t.Errorf("%s/%s events = %+v, want 2 from %s on revision %q", w.provider, w.id, c.Events, w.start, w.revision)
		}
	}

	// A batch whose answers include one of a call stored already (the
	// provider retried it) between new calls: each call gets its own events.
	batch, wants = nil, nil
	add("twilio", "CA-a-000", "+2", "r1", true)
	add("twilio", "CA-d", "+2", "r1", true)
	add("twilio", "CA-e", "+2", "r1", false)
	if err := db.AddEventBatch(ctx, batch); err != nil {
		t.Fatal(err)
	}
	for id, n := range map[string]int{"CA-a-000": 4, "CA-d": 2, "CA-e": 2, "CA-a-001": 2} {
		if c, err := db.GetCall(ctx, "twilio", id); err != nil || len(c.Events) != n {
			t.Errorf("twilio/%s: %d events (%v), want %d", id, len(c.Events), err, n)
		}
	}
}
