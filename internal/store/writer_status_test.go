package store

import (
	"context"
	"testing"
	"time"
)

// insightsT reads the insights of revision rev1 (every period).
func insightsT(t *testing.T, d *DB) *Insights {
	t.Helper()
	in, err := d.Insights(ctxT(t), InsightFilter{Revision: "rev1"})
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// countDeltas is the number of rollup delta rows (PostgreSQL).
func countDeltas(t *testing.T, d *DB) int {
	t.Helper()
	var n int
	if err := d.sql.QueryRow(`SELECT count(*) FROM insight_call_deltas`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestStatusLeavesSummaryToWriter: the final status of a call whose events
// are still in the writer's queue (the mixed load test's order) is stored
// at once, the call counted in progress, and the writer's batch summarises
// the call once, with its events: on PostgreSQL one rollup delta (+1), not
// three (+1 at the status, -1 +1 in the batch).
func TestStatusLeavesSummaryToWriter(t *testing.T) {
	forEachStore(t, func(t *testing.T, newDSN newDSN) {
		d := openT(t, newDSN(t))
		ctx := ctxT(t)
		w := NewWriter(d, 100, nil)
		w.linger = time.Hour // Run leaves the queue alone: Flush writes it
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { w.Run(runCtx); close(done) }()
		t.Cleanup(func() { stop(); <-done })
		for !w.running.Load() {
			time.Sleep(time.Millisecond)
		}

		start := at(100)
		ev := func(sec int, menu, action string) Event {
			return Event{Event: legacyEvent(start.Add(time.Duration(sec)*time.Second), menu, "", action), Revision: "rev1"}
		}
		w.EnqueueOwned("twilio", "CAmixed", "+1555", "+1999", []Event{ev(0, "main", "enter")})
		w.EnqueueOwned("twilio", "CAmixed", "+1555", "+1999", []Event{ev(5, "main", "option 3")})
		if err := w.UpdateStatus(ctx, d, StatusUpdate{Provider: "twilio", CallID: "CAmixed", From: "+1555", To: "+1999",
			Status: "completed", Final: true, DurationSeconds: 42, At: start.Add(42 * time.Second)}); err != nil {
			t.Fatal(err)
		}
		c, err := d.GetCall(ctx, "twilio", "CAmixed")
		if err != nil {
			t.Fatal(err)
		}
		if c.Status != "completed" || c.EndedAt == nil {
			t.Errorf("after the status: status %q, ended %v; want completed, set", c.Status, c.EndedAt)
		}
		if d.Driver() == DriverPostgres {
			if n := countDeltas(t, d); n != 0 {
				t.Errorf("after the status: %d rollup deltas, want 0 (the summary is the batch's)", n)
			}
		}
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		var revision, lastMenu string
		if err := d.sql.QueryRow(`SELECT revision, last_menu FROM calls WHERE call_id = 'CAmixed'`).Scan(&revision, &lastMenu); err != nil {
			t.Fatal(err)
		}
		if revision != "rev1" || lastMenu != "main" {
			t.Errorf("revision %q, last menu %q; want rev1, main", revision, lastMenu)
		}
		if in := insightsT(t, d); in.Calls != 1 || in.Abandoned != 1 || in.InProgress != 0 {
			t.Errorf("insights: %+v; want 1 call, abandoned", in)
		}
		if d.Driver() == DriverPostgres {
			if n := countDeltas(t, d); n != 1 {
				t.Errorf("%d rollup deltas, want 1 (the call summarised once)", n)
			}
		}
	})
}

// heldSink is a DB whose batches wait, before touching it, until released.
type heldSink struct {
	*DB
	taken, release chan struct{}
}

func (s heldSink) AddEventBatch(ctx context.Context, batch []CallEvents) error {
	s.taken <- struct{}{}
	<-s.release
	return s.DB.AddEventBatch(ctx, batch)
}

// TestStatusDuringBatch: the final status arrives while the writer's batch
// of the call's events is being written but has not reached the call yet.
// The call is summarised with its events either way; on PostgreSQL, whose
// status upsert tells that it created the call's row (so the batch writes
// the call after it), once.
func TestStatusDuringBatch(t *testing.T) {
	forEachStore(t, func(t *testing.T, newDSN newDSN) {
		d := openT(t, newDSN(t))
		ctx := ctxT(t)
		sink := heldSink{d, make(chan struct{}), make(chan struct{})}
		w := NewWriter(sink, 100, nil)
		w.linger = 0
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { w.Run(runCtx); close(done) }()
		t.Cleanup(func() { stop(); <-done })
		for !w.running.Load() {
			time.Sleep(time.Millisecond)
		}
		start := at(100)
		w.EnqueueOwned("twilio", "CAheld", "+1555", "+1999", []Event{{Event: legacyEvent(start, "main", "", "enter"), Revision: "rev1"}})
		<-sink.taken
		status := make(chan error, 1)
		go func() {
			status <- w.UpdateStatus(ctx, d, StatusUpdate{Provider: "twilio", CallID: "CAheld", Status: "completed", Final: true, At: start.Add(30 * time.Second)})
		}()
		if err := <-status; err != nil {
			t.Fatal(err)
		}
		close(sink.release)
		for w.Depth() > 0 {
			time.Sleep(time.Millisecond)
		}
		var lastMenu string
		if err := d.sql.QueryRow(`SELECT last_menu FROM calls WHERE call_id = 'CAheld'`).Scan(&lastMenu); err != nil {
			t.Fatal(err)
		}
		if in := insightsT(t, d); lastMenu != "main" || in.Calls != 1 || in.Abandoned != 1 || in.InProgress != 0 {
			t.Errorf("last menu %q, insights %+v; want main, 1 call, abandoned", lastMenu, in)
		}
		if d.Driver() == DriverPostgres {
			if n := countDeltas(t, d); n != 1 {
				t.Errorf("%d rollup deltas, want 1 (the call summarised once)", n)
			}
		}
	})
}

// TestCloseStaleSummarisesFinal: a final call whose summary was left to a
// writer batch that never ran (the process died) counts as in progress,
// and closing stale calls summarises it.
func TestCloseStaleSummarisesFinal(t *testing.T) {
	forEachStore(t, func(t *testing.T, newDSN newDSN) {
		d := openT(t, newDSN(t))
		ctx := ctxT(t)
		if err := d.AddEvents(ctx, "twilio", "CAdied", "+1555", "+1999", []Event{{Event: legacyEvent(at(0), "main", "", "enter"), Revision: "rev1"}}); err != nil {
			t.Fatal(err)
		}
		leave := func(bool) bool { return true } // to a batch that never runs
		if err := d.updateStatus(ctx, StatusUpdate{Provider: "twilio", CallID: "CAdied", Status: "completed", Final: true, At: at(30)}, leave); err != nil {
			t.Fatal(err)
		}
		if in := insightsT(t, d); in.Calls != 1 || in.InProgress != 1 {
			t.Errorf("before closing: %+v; want 1 call in progress", in)
		}
		n, err := d.CloseStaleCalls(ctx, at(3600), 10)
		if err != nil || n != 0 {
			t.Fatalf("CloseStaleCalls: %d closed, %v; want 0 (the call is final)", n, err)
		}
		if in := insightsT(t, d); in.Calls != 1 || in.Abandoned != 1 || in.InProgress != 0 {
			t.Errorf("after closing: %+v; want 1 call, abandoned", in)
		}
	})
}
