package store

import (
	"database/sql"
	"reflect"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/ivr"
)

// callClaim is the call's final, completed_sent and event_seq.
func callClaim(t *testing.T, d *DB, callID string) (final, sent, seq int) {
	t.Helper()
	if err := d.sql.QueryRow(`SELECT final, completed_sent, event_seq FROM calls WHERE call_id = $1`, callID).Scan(&final, &sent, &seq); err != nil {
		t.Fatal(err)
	}
	return final, sent, seq
}

// TestFinalStatusWithoutOutbox: with the outbox off (PostgreSQL: one
// autocommit statement when a batch will summarise the call) a call's
// first final status claims its call.completed as before (completed_sent,
// event_seq 1), a repeat changes neither, and the call is summarised once:
// by the batch it is left to, or by the status otherwise.
func TestFinalStatusWithoutOutbox(t *testing.T) {
	forEachStore(t, func(t *testing.T, newDSN newDSN) {
		d := openT(t, newDSN(t))
		ctx := ctxT(t)
		ev := Event{Event: legacyEvent(at(0), "main", "", "enter"), Revision: "rev1"}
		if err := d.AddEvents(ctx, "twilio", "CAleft", "+1555", "+1999", []Event{ev}); err != nil {
			t.Fatal(err)
		}
		u := StatusUpdate{Provider: "twilio", CallID: "CAleft", Status: "completed", Final: true, At: at(30), DurationSeconds: 30}
		leave := func(bool) bool { return true } // to a batch that never runs
		for range 2 {                            // the provider retries
			if err := d.updateStatus(ctx, u, leave); err != nil {
				t.Fatal(err)
			}
			if final, sent, seq := callClaim(t, d, "CAleft"); final != 1 || sent != 1 || seq != 1 {
				t.Fatalf("final %d, completed_sent %d, event_seq %d; want 1, 1, 1", final, sent, seq)
			}
			if in := insightsT(t, d); in.Calls != 1 || in.InProgress != 1 {
				t.Fatalf("%+v; want 1 call in progress (its summary left to the batch)", in)
			}
		}

		// Not left to a batch: the status summarises the call, once.
		if err := d.AddEvents(ctx, "twilio", "CAown", "+1556", "+1999", []Event{ev}); err != nil {
			t.Fatal(err)
		}
		u.CallID = "CAown"
		keep := func(bool) bool { return false }
		for range 2 {
			if err := d.updateStatus(ctx, u, keep); err != nil {
				t.Fatal(err)
			}
			if final, sent, seq := callClaim(t, d, "CAown"); final != 1 || sent != 1 || seq != 1 {
				t.Fatalf("final %d, completed_sent %d, event_seq %d; want 1, 1, 1", final, sent, seq)
			}
			if in := insightsT(t, d); in.Calls != 2 || in.Abandoned != 1 || in.InProgress != 1 {
				t.Fatalf("%+v; want 2 calls, 1 abandoned, 1 in progress", in)
			}
		}
		if d.Driver() == DriverPostgres {
			if n := countDeltas(t, d); n != 1 {
				t.Errorf("%d rollup deltas, want 1 (CAown summarised once)", n)
			}
		}

		// A new call's final status inserts it claimed; with no batch to
		// leave it to, it is summarised at once.
		u.CallID = "CAnew"
		if err := d.UpdateStatus(ctx, u); err != nil {
			t.Fatal(err)
		}
		if final, sent, seq := callClaim(t, d, "CAnew"); final != 1 || sent != 1 || seq != 1 {
			t.Fatalf("new call: final %d, completed_sent %d, event_seq %d; want 1, 1, 1", final, sent, seq)
		}
		summarised := `SELECT summarised FROM calls WHERE call_id = 'CAnew'`
		if d.Driver() == DriverSQLite {
			summarised = `SELECT hour <> 0 FROM calls WHERE call_id = 'CAnew'`
		}
		var done int
		if err := d.sql.QueryRow(summarised).Scan(&done); err != nil || done != 1 {
			t.Fatalf("new call summarised: %d, %v; want 1", done, err)
		}
	})
}

// TestFinalStatusRetryAfterCommit (PostgreSQL): a final status committed on
// its own whose summary then failed is answered with an error; the
// provider's retry finds the call reported but not summarised and
// summarises it.
func TestFinalStatusRetryAfterCommit(t *testing.T) {
	forEachStore(t, func(t *testing.T, newDSN newDSN) {
		d := openT(t, newDSN(t))
		if d.Driver() != DriverPostgres {
			return // SQLite's status is one transaction: a failed summary rolls it back
		}
		ctx := ctxT(t)
		ev := Event{Event: legacyEvent(at(0), "main", "", "enter"), Revision: "rev1"}
		if err := d.AddEvents(ctx, "twilio", "CAretry", "+1555", "+1999", []Event{ev}); err != nil {
			t.Fatal(err)
		}
		u := StatusUpdate{Provider: "twilio", CallID: "CAretry", Status: "completed", Final: true, At: at(30)}
		// The status commits; its summary is left to a batch that never
		// runs, as if the summary's own transaction had failed.
		if err := d.updateStatus(ctx, u, func(bool) bool { return true }); err != nil {
			t.Fatal(err)
		}
		if err := d.UpdateStatus(ctx, u); err != nil {
			t.Fatal(err)
		}
		if in := insightsT(t, d); in.Calls != 1 || in.Abandoned != 1 || in.InProgress != 0 {
			t.Errorf("%+v; want 1 call, abandoned", in)
		}
		if _, sent, seq := callClaim(t, d, "CAretry"); sent != 1 || seq != 1 {
			t.Errorf("completed_sent %d, event_seq %d; want 1, 1", sent, seq)
		}
	})
}

// TestSummariseManyLikeOne: summarising a batch's calls in one statement
// (PostgreSQL) stores what summarising each on its own does: calls that
// were transferred, fell back, ended in the flow, took a split variant,
// or have no events at all.
func TestSummariseManyLikeOne(t *testing.T) {
	forEachStore(t, func(t *testing.T, newDSN newDSN) {
		ctx := ctxT(t)
		ev := func(sec int, menu string, kind ivr.EventKind, label string) Event {
			e := Event{Event: ivr.Event{At: at(sec), Menu: menu, Kind: kind}, Revision: "rev1"}
			if label != "" {
				e.More = &ivr.EventMore{Label: label}
			}
			return e
		}
		calls := map[string][]Event{
			"CAplain":    {ev(0, "main", ivr.EventEnter, ""), ev(4, "sales", ivr.EventEnter, "")},
			"CAtransfer": {ev(0, "main", ivr.EventEnter, ""), ev(7, "main", ivr.EventTransfer, "")},
			"CAfallback": {ev(0, "main", ivr.EventEnter, ""), ev(2, "main", ivr.EventFallback, "")},
			"CAhangup":   {ev(0, "main", ivr.EventEnter, ""), ev(95, "bye", ivr.EventHangup, "")},
			"CAvariant":  {ev(0, "main", ivr.EventVariant, "B"), ev(3, "main", ivr.EventEnter, "")},
		}
		rows := func(many bool) [][]any {
			d := openT(t, newDSN(t))
			for id, evs := range calls {
				if err := d.AddEvents(ctx, "twilio", id, "+1555", "+1999", evs); err != nil {
					t.Fatal(err)
				}
			}
			leave := func(bool) bool { return true }
			for _, id := range []string{"CAplain", "CAtransfer", "CAnone"} {
				u := StatusUpdate{Provider: "twilio", CallID: id, To: "+1999", Status: "completed", Final: true, At: at(120)}
				if err := d.updateStatus(ctx, u, leave); err != nil {
					t.Fatal(err)
				}
			}
			var ids []int64
			r, err := d.sql.Query(`SELECT id FROM calls ORDER BY id`)
			if err != nil {
				t.Fatal(err)
			}
			for r.Next() {
				var id int64
				if err := r.Scan(&id); err != nil {
					t.Fatal(err)
				}
				ids = append(ids, id)
			}
			r.Close()
			sets := [][]int64{ids}
			if !many {
				sets = nil
				for _, id := range ids {
					sets = append(sets, []int64{id})
				}
			}
			for _, set := range sets {
				if err := d.write(ctx, func(tx *sql.Tx) error { return d.summariseCalls(ctx, tx, set) }); err != nil {
					t.Fatal(err)
				}
			}
			q := `SELECT call_id, revision, transferred, fallback, ended_in_flow, last_menu, last_event_at, hour, outcome, flow_seconds, flow_bucket, variant FROM calls ORDER BY call_id`
			res, err := d.sql.Query(q)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Close()
			var out [][]any
			for res.Next() {
				var (
					id, rev, menu, variant        string
					tr, fb, ends, outcome, bucket int
					hour                          int64
					last                          timeCol
					secs                          sql.NullInt64
				)
				if err := res.Scan(&id, &rev, &tr, &fb, &ends, &menu, &last, &hour, &outcome, &secs, &bucket, &variant); err != nil {
					t.Fatal(err)
				}
				out = append(out, []any{id, rev, tr, fb, ends, menu, last.Valid, last.T.UnixMicro(), hour, outcome, secs, bucket, variant})
			}
			return out
		}
		one, many := rows(false), rows(true)
		if len(one) != 6 || !reflect.DeepEqual(one, many) {
			t.Fatalf("summarised one by one:\n%v\nall at once:\n%v", one, many)
		}
	})
}

// TestStatusMarksAnswerExisting: a final status that creates its call's
// row (PostgreSQL tells) while the call's answer is queued turns the
// answer's entry into an existing call's (looked up, not inserted first);
// the batch then stores the answer and summarises the call once.
func TestStatusMarksAnswerExisting(t *testing.T) {
	forEachStore(t, func(t *testing.T, newDSN newDSN) {
		d := openT(t, newDSN(t))
		ctx := ctxT(t)
		w := runWriter(t, d, time.Hour) // Run leaves the queue alone: Flush writes it
		ev := Event{Event: legacyEvent(at(0), "main", "", "enter"), Revision: "rev1"}
		w.EnqueueNew("twilio", "CAans", "+1555", "+1999", []Event{ev})
		w.EnqueueOwned("twilio", "CAother", "+1556", "+1999", []Event{ev})
		if err := w.UpdateStatus(ctx, d, StatusUpdate{Provider: "twilio", CallID: "CAans", Status: "completed", Final: true, At: at(30)}); err != nil {
			t.Fatal(err)
		}
		w.mu.Lock()
		answerNew := w.queue[0].New
		w.mu.Unlock()
		if want := d.Driver() != DriverPostgres; answerNew != want { // SQLite does not tell the status inserted the row
			t.Errorf("the answer's entry New = %v after the status, want %v", answerNew, want)
		}
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if in := insightsT(t, d); in.Calls != 2 || in.Abandoned != 1 || in.InProgress != 1 {
			t.Errorf("insights %+v; want 2 calls, CAans abandoned, CAother in progress", in)
		}
		if n := storedEvents(t, d); n != 2 {
			t.Errorf("%d events stored, want 2", n)
		}
		if d.Driver() == DriverPostgres {
			if n := countDeltas(t, d); n != 1 {
				t.Errorf("%d rollup deltas, want 1 (CAans summarised once)", n)
			}
		}
	})
}
