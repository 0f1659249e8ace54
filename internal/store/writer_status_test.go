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
		w := runWriter(t, d, time.Hour) // Run leaves the queue alone: Flush writes it
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
		w := runWriter(t, sink, 0)
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
		checkSummary(t, d, w, "CAheld", "main", 1)
	})
}

// readHeldSink is a DB whose batches wait, once they have read their
// calls (holding their row locks or the database's write lock), until
// released.
type readHeldSink struct {
	*DB
	read, release chan struct{}
}

func (s readHeldSink) AddEventBatch(ctx context.Context, batch []CallEvents) error {
	tell, _ := ctx.Value(callsReadKey{}).(func())
	return s.DB.AddEventBatch(withCallsRead(ctx, func() {
		if tell != nil {
			tell()
		}
		s.read <- struct{}{}
		<-s.release
	}), batch)
}

// runWriter runs a Writer writing to sink until the test ends.
func runWriter(t *testing.T, sink EventSink, linger time.Duration) *Writer {
	t.Helper()
	w := NewWriter(sink, 100, nil)
	w.linger = linger
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	t.Cleanup(func() { stop(); <-done })
	for !w.running.Load() {
		time.Sleep(time.Millisecond)
	}
	return w
}

// checkSummary: once w's queue is written, callID was summarised with its
// events (last menu menu, abandoned), deltas rollup deltas on PostgreSQL.
func checkSummary(t *testing.T, d *DB, w *Writer, callID, menu string, deltas int) {
	t.Helper()
	for w.Depth() > 0 {
		time.Sleep(time.Millisecond)
	}
	var lastMenu string
	if err := d.sql.QueryRow(`SELECT last_menu FROM calls WHERE call_id = $1`, callID).Scan(&lastMenu); err != nil {
		t.Fatal(err)
	}
	if in := insightsT(t, d); lastMenu != menu || in.Calls != 1 || in.Abandoned != 1 || in.InProgress != 0 {
		t.Errorf("last menu %q, insights %+v; want %s, 1 call, abandoned", lastMenu, in, menu)
	}
	if d.Driver() == DriverPostgres {
		if n := countDeltas(t, d); n != deltas {
			t.Errorf("%d rollup deltas, want %d", n, deltas)
		}
	}
}

// revEvent is an event at(sec) in menu of revision rev1.
func revEvent(sec int, menu, action string) Event {
	return Event{Event: legacyEvent(at(sec), menu, "", action), Revision: "rev1"}
}

// answered stores call's answer (main entered at(0)), as a call's row
// before its next steps.
func answered(t *testing.T, d *DB, call string) {
	t.Helper()
	if err := d.AddEvents(ctxT(t), "twilio", call, "+1555", "+1999", []Event{revEvent(0, "main", "enter")}); err != nil {
		t.Fatal(err)
	}
}

// TestStatusBeforeBatchReads: the call's row exists (its answer is
// stored), its next step is in the batch being written, which has not read
// its calls yet when the final status comes: the batch will see the call
// final, so the status leaves the summary to it (on PostgreSQL one rollup
// delta, not three).
func TestStatusBeforeBatchReads(t *testing.T) {
	forEachStore(t, func(t *testing.T, newDSN newDSN) {
		d := openT(t, newDSN(t))
		ctx := ctxT(t)
		answered(t, d, "CAx")
		sink := heldSink{d, make(chan struct{}), make(chan struct{})}
		w := runWriter(t, sink, 0)
		w.EnqueueOwned("twilio", "CAx", "+1555", "+1999", []Event{revEvent(5, "sales", "enter")})
		<-sink.taken
		if err := w.UpdateStatus(ctx, d, StatusUpdate{Provider: "twilio", CallID: "CAx", Status: "completed", Final: true, At: at(30)}); err != nil {
			t.Fatal(err)
		}
		close(sink.release)
		checkSummary(t, d, w, "CAx", "sales", 1)
	})
}

// TestStatusAfterBatchReads: the batch being written has read the call
// (not final yet) when the final status comes: the status waits for it and
// summarises the call itself, with the batch's events.
func TestStatusAfterBatchReads(t *testing.T) {
	forEachStore(t, func(t *testing.T, newDSN newDSN) {
		d := openT(t, newDSN(t))
		ctx := ctxT(t)
		answered(t, d, "CAx")
		sink := readHeldSink{d, make(chan struct{}), make(chan struct{})}
		w := runWriter(t, sink, 0)
		w.EnqueueOwned("twilio", "CAx", "+1555", "+1999", []Event{revEvent(5, "sales", "enter")})
		<-sink.read
		status := make(chan error, 1)
		go func() {
			status <- w.UpdateStatus(ctx, d, StatusUpdate{Provider: "twilio", CallID: "CAx", Status: "completed", Final: true, At: at(30)})
		}()
		time.Sleep(50 * time.Millisecond) // the status waits for the batch
		close(sink.release)
		if err := <-status; err != nil {
			t.Fatal(err)
		}
		checkSummary(t, d, w, "CAx", "sales", 1)
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

// TestOutboxCompletedNewCall: the final status of a call it creates (on
// PostgreSQL its row is inserted already reported) writes call.completed
// once, with sequence 1, like one that updates the call; the call's next
// event gets sequence 2.
func TestOutboxCompletedNewCall(t *testing.T) {
	forEachStore(t, func(t *testing.T, dsn newDSN) {
		d := openT(t, dsn(t))
		d.EnableOutbox()
		u := StatusUpdate{Provider: "twilio", CallID: "CAnew", From: "+1555", To: "+1666", Status: "completed", Final: true,
			At: at(60), ProviderAt: at(60), DurationSeconds: 58, HangupCause: "normal"}
		mustStatus(t, d, u)
		mustStatus(t, d, u) // the provider retries
		evs := listAll(t, d, EventCallCompleted)
		if len(evs) != 1 {
			t.Fatalf("call.completed events = %d, want 1", len(evs))
		}
		p := payloadOf(t, evs[0])
		if p.Data["status"] != "completed" || p.Data["call_id"] != "CAnew" || p.Data["from"] != "+1555" || p.Data["to"] != "+1666" ||
			p.Data["closed_by"] != "provider" || p.Data["duration_seconds"] != 58.0 || p.Data["hangup_cause"] != "normal" {
			t.Errorf("payload = %s", evs[0].Payload)
		}
		if p.Data["sequence"] != 1.0 || evs[0].Seq != 1 {
			t.Errorf("sequence = %v (%d), want 1", p.Data["sequence"], evs[0].Seq)
		}
		if p.Data["ended_at"] != at(60).Format(time.RFC3339) || p.Data["started_at"] != at(2).Format(time.RFC3339) {
			t.Errorf("started_at %v, ended_at %v; want %s, %s", p.Data["started_at"], p.Data["ended_at"], at(2).Format(time.RFC3339), at(60).Format(time.RFC3339))
		}
		e := Event{Event: legacyEvent(at(30), "main", "", "enter"), Notice: &Notice{Type: EventVoicemailCreated}}
		if err := d.AddEvents(ctxT(t), "twilio", "CAnew", "+1555", "+1666", []Event{e}); err != nil {
			t.Fatal(err)
		}
		if vm := listAll(t, d, EventVoicemailCreated); len(vm) != 1 || vm[0].Seq != 2 {
			t.Errorf("voicemail.created: %+v; want one, sequence 2", vm)
		}
	})
}
