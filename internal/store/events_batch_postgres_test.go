package store

import (
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/testutil"
)

// TestRepeatCallersOfOneBatch: one batch repeats stored calls and its own
// calls. Caller A: A0 (25 h before A1, outside every window) and A1 stored;
// the batch brings A2 and A3 (one and two minutes after A1): A1 and A2 are
// repeats, A3 and A0 not. Caller B: B1 stored, then B0 an hour before it;
// the batch brings more events of B1 (ten seconds after its start): B0 is
// a repeat, B1, its window's own last call although stored before it, not.
// C1 is a new caller's only call.
func TestRepeatCallersOfOneBatch(t *testing.T) {
	forEachStore(t, func(t *testing.T, newDSN newDSN) {
		d := openT(t, newDSN(t))
		ctx := ctxT(t)
		enter := func(sec int) []Event {
			return []Event{{Event: legacyEvent(at(sec), "main", "", "enter"), Revision: "r"}}
		}
		for _, c := range []struct {
			id, from string
			sec      int
		}{{"A0", "+1777", -25 * 3600}, {"A1", "+1777", 0}, {"B1", "+1888", 0}, {"B0", "+1888", -3600}} {
			if err := d.AddEvents(ctx, "twilio", c.id, c.from, "+1999", enter(c.sec)); err != nil {
				t.Fatal(err)
			}
		}
		batch := []CallEvents{
			{Provider: "twilio", CallID: "A3", From: "+1777", To: "+1999", Events: enter(120)},
			{Provider: "twilio", CallID: "B1", From: "+1888", To: "+1999", Events: enter(10)},
			{Provider: "twilio", CallID: "C1", From: "+1555", To: "+1999", Events: enter(30)},
			{Provider: "twilio", CallID: "A2", From: "+1777", To: "+1999", Events: enter(60)},
		}
		if err := d.AddEventBatch(ctx, batch); err != nil {
			t.Fatal(err)
		}
		want := map[string]int{"A0": 0, "A1": 1, "A2": 1, "A3": 0, "B0": 1, "B1": 0, "C1": 0}
		for id, w := range want {
			var got int
			if err := d.sql.QueryRowContext(ctx, `SELECT repeated FROM calls WHERE call_id = $1`, id).Scan(&got); err != nil {
				t.Fatalf("%s: %v", id, err)
			}
			if got != w {
				t.Errorf("%s: repeated = %d, want %d", id, got, w)
			}
		}
	})
}

// TestBatchCallInsertedMeanwhile: a status callback inserts one of a
// batch's new calls between the batch's probe and its insert (PostgreSQL:
// the insert skips it, the batch reads and locks it as an existing call).
// The call keeps the callback's status and gets the batch's events and
// numbers, and a later call of its caller in the batch marks it a repeat.
func TestBatchCallInsertedMeanwhile(t *testing.T) {
	dsn := testutil.PostgresURL(t)
	d, other := openT(t, dsn), openT(t, dsn)
	ctx := ctxT(t)
	calls := 0
	afterCallProbe = func() {
		calls++
		if calls > 1 {
			return
		}
		if err := other.UpdateStatus(ctx, StatusUpdate{Provider: "twilio", CallID: "X1", Status: "ringing", At: at(5)}); err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(func() { afterCallProbe = nil })
	ev := func(sec int) []Event {
		return []Event{{Event: legacyEvent(at(sec), "main", "", "enter"), Revision: "r"}}
	}
	batch := []CallEvents{
		{Provider: "twilio", CallID: "X1", From: "+1777", To: "+1999", Events: ev(0)},
		{Provider: "twilio", CallID: "X2", From: "+1777", To: "+1999", Events: ev(60)},
	}
	if err := d.AddEventBatch(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Fatalf("the batch ran %d times, want once", calls)
	}
	c, err := d.GetCall(ctx, "twilio", "X1")
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != "ringing" || c.From != "+1777" || c.To != "+1999" || len(c.Events) != 1 || !c.StartedAt.Equal(at(0)) {
		t.Errorf("X1 = status %q, from %q, to %q, %d events, started %v; want ringing, +1777, +1999, 1 event, %v",
			c.Status, c.From, c.To, len(c.Events), c.StartedAt, at(0))
	}
	for id, want := range map[string]int{"X1": 1, "X2": 0} {
		var got int
		if err := d.sql.QueryRowContext(ctx, `SELECT repeated FROM calls WHERE call_id = $1`, id).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s: repeated = %d, want %d", id, got, want)
		}
	}
	var n int
	if err := d.sql.QueryRowContext(ctx, `SELECT count(*) FROM calls`).Scan(&n); err != nil || n != 2 {
		t.Errorf("%d calls (%v), want 2", n, err)
	}
}

// TestRepeatMarkTouchesNoIndex: marking a call a repeat changes only
// calls.repeated, which no index of calls holds (migration 0120): on
// PostgreSQL the mark can then be a heap-only update, which the table's
// fillfactor leaves room for on its pages.
func TestRepeatMarkTouchesNoIndex(t *testing.T) {
	forEachStore(t, func(t *testing.T, newDSN newDSN) {
		d := openT(t, newDSN(t))
		ctx := ctxT(t)
		query := `SELECT i.indexrelid::regclass::text FROM pg_index i
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
WHERE i.indrelid = 'calls'::regclass AND a.attname = 'repeated'
UNION ALL
SELECT i.indexrelid::regclass::text FROM pg_index i
WHERE i.indrelid = 'calls'::regclass AND pg_get_expr(i.indpred, i.indrelid) LIKE '%repeated%'`
		if d.driver != DriverPostgres {
			query = `SELECT il.name FROM pragma_index_list('calls') il, pragma_index_info(il.name) ii WHERE ii.name = 'repeated'
UNION ALL
SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'calls' AND sql LIKE '%repeated%'`
		}
		rows, err := d.sql.QueryContext(ctx, query)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				t.Fatal(err)
			}
			t.Errorf("index %s of calls holds repeated", name)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if d.driver == DriverPostgres {
			var opts string
			if err := d.sql.QueryRowContext(ctx, `SELECT coalesce(array_to_string(reloptions, ','), '') FROM pg_class WHERE oid = 'calls'::regclass`).Scan(&opts); err != nil {
				t.Fatal(err)
			}
			if opts != "fillfactor=85" {
				t.Errorf("calls' options %q, want fillfactor=85", opts)
			}
		}
	})
}

// TestAnswerOfExistingCall: an answer's entry (CallEvents.New: not looked
// up before its insert) whose call exists already, created by a status
// callback: the insert skips it and the batch locks it without waiting.
// When another transaction holds it, the batch runs again, looking every
// call up first (waiting for the lock in order). Either way the call keeps
// its status and gets the answer's events, numbers and earlier start.
func TestAnswerOfExistingCall(t *testing.T) {
	for _, held := range []bool{false, true} {
		t.Run(map[bool]string{false: "free", true: "held"}[held], func(t *testing.T) {
			dsn := testutil.PostgresURL(t)
			d, other := openT(t, dsn), openT(t, dsn)
			ctx := ctxT(t)
			if err := other.UpdateStatus(ctx, StatusUpdate{Provider: "twilio", CallID: "Y1", Status: "ringing", At: at(5)}); err != nil {
				t.Fatal(err)
			}
			runs := 0
			afterCallProbe = func() { runs++ }
			t.Cleanup(func() { afterCallProbe = nil })
			if held {
				tx, err := other.sql.BeginTx(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer tx.Rollback()
				if _, err := tx.ExecContext(ctx, `SELECT id FROM calls WHERE call_id = 'Y1' FOR UPDATE`); err != nil {
					t.Fatal(err)
				}
				time.AfterFunc(300*time.Millisecond, func() { tx.Rollback() })
			}
			ev := []Event{{Event: legacyEvent(at(0), "main", "", "enter"), Revision: "r"}}
			batch := []CallEvents{
				{Provider: "twilio", CallID: "Y1", From: "+1777", To: "+1999", Events: ev, New: true},
				{Provider: "twilio", CallID: "Y2", From: "+1888", To: "+1999", Events: ev, New: true},
			}
			if err := d.AddEventBatch(ctx, batch); err != nil {
				t.Fatal(err)
			}
			if want := map[bool]int{false: 1, true: 2}[held]; runs != want {
				t.Errorf("the batch ran %d times, want %d", runs, want)
			}
			for _, id := range []string{"Y1", "Y2"} {
				c, err := d.GetCall(ctx, "twilio", id)
				if err != nil {
					t.Fatal(err)
				}
				wantStatus := map[string]string{"Y1": "ringing", "Y2": ""}[id]
				if c.Status != wantStatus || c.To != "+1999" || len(c.Events) != 1 || !c.StartedAt.Equal(at(0)) {
					t.Errorf("%s = status %q, to %q, %d events, started %v; want %q, +1999, 1 event, %v",
						id, c.Status, c.To, len(c.Events), c.StartedAt, wantStatus, at(0))
				}
			}
		})
	}
}
