package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// TestInsightsRollupMatchesCalls writes calls from two instances at once
// (events, status callbacks, repeats, deletions) and checks that the
// rollup the dashboard reads adds up to what the calls table says, before
// and after PostgreSQL's deltas are folded.
func TestInsightsRollupMatchesCalls(t *testing.T) {
	forEachStore(t, func(t *testing.T, newDSN newDSN) {
		dsn := newDSN(t)
		a, b := openT(t, dsn), openT(t, dsn)
		ctx := ctxT(t)
		var wg sync.WaitGroup
		errs := make(chan error, 2)
		for w, d := range []*DB{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- randomCalls(ctx, d, w, 60)
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if _, err := a.DeleteOlderThan(ctx, at(200)); err != nil { // retention takes the first few
			t.Fatal(err)
		}
		want := directCounts(t, a)
		for _, o := range []int64{OutcomeContained, OutcomeTransferred, OutcomeAbandoned, OutcomeFallback, OutcomeInProgress, -1} {
			if want[o] == 0 {
				t.Fatalf("the random calls left no call of kind %d (%v): the check would prove little", o, want)
			}
		}
		check := func(when string) {
			in, err := b.Insights(ctx, InsightFilter{})
			if err != nil {
				t.Fatal(err)
			}
			got := map[int64]int64{OutcomeContained: in.Contained, OutcomeTransferred: in.Transferred,
				OutcomeAbandoned: in.Abandoned, OutcomeFallback: in.Fallbacks, OutcomeInProgress: in.InProgress, -1: in.RepeatCallers, -2: in.FlowCalls}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s: outcome %d: rollup %d, calls %d (all: %v vs %v)", when, k, got[k], v, got, want)
				}
			}
		}
		check("before folding")
		folded, err := a.CompactInsights(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// No other writer of this schema holds the compaction lock (the
		// other tests' stores, in schemas of their own, have their own).
		if a.Driver() == DriverPostgres && folded == 0 {
			t.Error("CompactInsights folded nothing: the check after folding would prove little")
		}
		check("after folding")
	})
}

// randomCalls plays n calls of worker w: events in several batches, some
// with a final status before or after the events, some repeats.
func randomCalls(ctx context.Context, d *DB, w, n int) error {
	r := rand.New(rand.NewPCG(uint64(w), 7))
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("W%d-%d", w, i)
		from := fmt.Sprintf("+1555%03d", r.IntN(20))
		start := at(i*60 + w)
		ev := func(sec int, menu, action string) Event {
			return Event{Event: legacyEvent(start.Add(time.Duration(sec)*time.Second), menu, "", action), Revision: "r"}
		}
		batches := [][]Event{{ev(0, "main", "enter")}, {ev(5, "main", "option 1"), ev(5, "sales", "enter")}}
		switch r.IntN(4) {
		case 0:
			batches = append(batches, []Event{ev(9, "sales", "hangup")})
		case 1:
			batches = append(batches, []Event{ev(9, "sales", "transfer +1")})
		case 2:
			batches = append(batches, []Event{ev(9, "", "fallback flow")})
		}
		final := r.IntN(3) > 0
		early := r.IntN(2) == 0
		if final && early {
			if err := d.UpdateStatus(ctx, StatusUpdate{Provider: "twilio", CallID: id, From: from, Status: "completed", Final: true, At: start.Add(20 * time.Second)}); err != nil {
				return err
			}
		}
		for _, batch := range batches {
			if err := d.AddEvents(ctx, "twilio", id, from, "+1999", batch); err != nil {
				return err
			}
		}
		if final && !early {
			if err := d.UpdateStatus(ctx, StatusUpdate{Provider: "twilio", CallID: id, Status: "completed", Final: true, At: start.Add(20 * time.Second)}); err != nil {
				return err
			}
		}
	}
	return nil
}

// directCounts counts the calls table itself: calls per outcome, repeats
// (key -1) and calls with events (key -2).
func directCounts(t *testing.T, d *DB) map[int64]int64 {
	t.Helper()
	out := map[int64]int64{OutcomeContained: 0, OutcomeTransferred: 0, OutcomeAbandoned: 0, OutcomeFallback: 0, OutcomeInProgress: 0}
	rows, err := d.sql.Query(`SELECT outcome, count(*), sum(repeated), count(flow_seconds) FROM calls GROUP BY outcome`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var o, n, rep, flow int64
		if err := rows.Scan(&o, &n, &rep, &flow); err != nil {
			t.Fatal(err)
		}
		out[o] += n
		out[-1] += rep
		out[-2] += flow
	}
	return out
}

// TestFinalStatusBeforeEvents: the final status arrives before the
// writer's batch of the call's events (the usual order when the writer is
// behind): the call keeps the batch's revision, and on PostgreSQL the
// batch rewrites the summarised row once (its summary), not also for the
// revision: the rollup gets +1 at the status, then -1 +1 at the summary.
func TestFinalStatusBeforeEvents(t *testing.T) {
	forEachStore(t, func(t *testing.T, newDSN newDSN) {
		d := openT(t, newDSN(t))
		ctx := ctxT(t)
		start := at(100)
		if err := d.UpdateStatus(ctx, StatusUpdate{Provider: "twilio", CallID: "CAlate", From: "+1555", To: "+1999",
			Status: "completed", Final: true, DurationSeconds: 42, At: start.Add(42 * time.Second)}); err != nil {
			t.Fatal(err)
		}
		ev := func(sec int, menu, action string) Event {
			return Event{Event: legacyEvent(start.Add(time.Duration(sec)*time.Second), menu, "", action), Revision: "rev1"}
		}
		if err := d.AddEvents(ctx, "twilio", "CAlate", "+1555", "+1999", []Event{ev(1, "main", "enter"), ev(5, "main", "option 3")}); err != nil {
			t.Fatal(err)
		}
		var revision, lastMenu string
		if err := d.sql.QueryRow(`SELECT revision, last_menu FROM calls WHERE call_id = 'CAlate'`).Scan(&revision, &lastMenu); err != nil {
			t.Fatal(err)
		}
		if revision != "rev1" || lastMenu != "main" {
			t.Errorf("revision %q, last menu %q; want rev1, main", revision, lastMenu)
		}
		in, err := d.Insights(ctx, InsightFilter{Revision: "rev1"})
		if err != nil {
			t.Fatal(err)
		}
		if in.Abandoned != 1 {
			t.Errorf("insights of revision rev1: %d abandoned, want 1 (%+v)", in.Abandoned, in)
		}
		if d.Driver() != DriverPostgres {
			return
		}
		var deltas int
		if err := d.sql.QueryRow(`SELECT count(*) FROM insight_call_deltas`).Scan(&deltas); err != nil {
			t.Fatal(err)
		}
		if deltas != 3 {
			t.Errorf("%d rollup deltas, want 3 (+1 at the status, -1 +1 at the summary)", deltas)
		}
	})
}
