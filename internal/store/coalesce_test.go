package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// TestAddEventBatchInterleavedCalls: a batch in which calls interleave (as
// the writer's queue does under load) keeps each call's events in order,
// including calls with more events than one INSERT takes.
func TestAddEventBatchInterleavedCalls(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
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
