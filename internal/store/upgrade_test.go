package store

import (
	"context"
	"database/sql"
	"reflect"
	"testing"
	"time"
)

// schemaBeforeRequests is the last migration of the old shape: one
// call_events row per event (0070 made it one call_requests row per request).
const schemaBeforeRequests = 60

// TestUpgradeKeepsOldCalls opens a store of the old shape holding calls as
// the old writer left them (call rows with their summaries, one call_events
// row per event, the rollups), upgrades it with Open and checks that every
// call reads back exactly as the old store returned it (GetCall and
// ListCalls: what the call page, the exports and replay show) and that
// Insights gives the same figures; then that a call of the old shape takes
// new events after its old ones.
func TestUpgradeKeepsOldCalls(t *testing.T) {
	forEachStore(t, func(t *testing.T, newDSN newDSN) {
		ctx := ctxT(t)
		dsn := newDSN(t)
		old, err := openSchema(ctx, dsn, schemaBeforeRequests)
		if err != nil {
			t.Fatal(err)
		}
		seedOldShape(t, old)
		want := oldShapeCalls(t, old)
		day := InsightFilter{Since: at(-3600), Until: at(86400)}
		// What the old store's insights said: its calls per outcome (the
		// rollup matched them: TestInsightsRollupMatchesCalls) and, on
		// SQLite, whose reads did not change shape, its whole answer.
		wantCounts := directCounts(t, old)
		var wantIn *Insights
		if old.Driver() == DriverSQLite {
			if wantIn, err = old.Insights(ctx, day); err != nil {
				t.Fatal(err)
			}
		}
		if len(want) != 4 || len(want[0].Events) == 0 || wantCounts[OutcomeInProgress] != 2 {
			t.Fatalf("the old store holds %d calls (%v), want 4 with events, 2 in progress: the check would prove little", len(want), wantCounts)
		}
		old.Close()

		d := openT(t, dsn)
		got, next, err := d.ListCalls(ctx, ListOptions{Limit: 100})
		if err != nil || next != "" {
			t.Fatalf("ListCalls: %v (next %q)", err, next)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("calls after the upgrade:\n%+v\nwant\n%+v", got, want)
		}
		for _, c := range want {
			one, err := d.GetCall(ctx, c.Provider, c.CallID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(one, c) {
				t.Errorf("GetCall(%s) after the upgrade:\n%+v\nwant\n%+v", c.CallID, one, c)
			}
		}
		gotIn, err := d.Insights(ctx, day)
		if err != nil {
			t.Fatal(err)
		}
		gotCounts := map[int64]int64{OutcomeContained: gotIn.Contained, OutcomeTransferred: gotIn.Transferred, OutcomeAbandoned: gotIn.Abandoned,
			OutcomeFallback: gotIn.Fallbacks, OutcomeInProgress: gotIn.InProgress, -1: gotIn.RepeatCallers, -2: gotIn.FlowCalls}
		if !reflect.DeepEqual(gotCounts, wantCounts) {
			t.Errorf("insights after the upgrade: outcomes %v, want %v", gotCounts, wantCounts)
		}
		if wantIn != nil && !reflect.DeepEqual(gotIn, wantIn) {
			t.Errorf("insights after the upgrade:\n%+v\nwant\n%+v", gotIn, wantIn)
		}

		// The old call goes on: its new events come after its old ones.
		more := Event{Event: legacyEvent(at(30), "sales", "2", "option 2"), Revision: "r1"}
		if err := d.AddEvents(ctx, "twilio", "CAold1", "", "", []Event{more}); err != nil {
			t.Fatal(err)
		}
		c, err := d.GetCall(ctx, "twilio", "CAold1")
		if err != nil {
			t.Fatal(err)
		}
		var before []Event
		for _, w := range want {
			if w.CallID == "CAold1" {
				before = w.Events
			}
		}
		more.Node = "sales/2"
		if wantEvents := append(append([]Event{}, before...), more); !reflect.DeepEqual(c.Events, wantEvents) {
			t.Errorf("events of the old call after a new request:\n%+v\nwant\n%+v", c.Events, wantEvents)
		}
	})
}

// seedOldShape writes calls the way the old writer left them, with SQL on
// the old schema.
func seedOldShape(t *testing.T, d *DB) {
	t.Helper()
	ctx := ctxT(t)
	us := func(sec int, micro int) time.Time { return at(sec).Add(time.Duration(micro) * time.Microsecond) }
	type ev struct {
		at                                  time.Time
		menu, input, action, revision, node string
	}
	type call struct {
		provider, id, from, to, status string
		final                          int
		start                          time.Time
		ended                          *time.Time
		secs                           int
		cause, revision, lastMenu      string
		transferred, fallback, ends    int
		repeated                       int
		events                         []ev
	}
	end := at(60)
	long := make([]ev, 40)
	for i := range long {
		long[i] = ev{us(200+i, i*7), "main", "timeout", "timeout", "r2", "main"}
	}
	calls := []call{
		{"twilio", "CAold1", "+15550001", "+15559999", "completed", 1, at(0), &end, 60, "", "r1", "sales", 0, 0, 1, 1, []ev{
			{us(0, 1), "main", "", "enter", "r1", "main"},
			{us(5, 250), "main", "1", "option 1", "r1", "main/1"},
			{us(5, 250), "sales", "", "enter", "r1", "sales"},
			{us(20, 999999), "sales", "", "hangup", "r1", "sales"},
		}},
		{"plivo", "CAold2", "+15550002", "+15559999", "in-progress", 0, at(100), nil, 0, "", "r1", "", 1, 0, 0, 0, []ev{
			{us(100, 0), "", "speech: ça va 😀", `say "hi" \ there`, "r1", ""},
			{us(101, 5), "main", "dial completed", "transfer +15551234", "r1", "main"},
		}},
		{"twilio", "CAold3", "+15550001", "", "ringing", 0, at(150), nil, 0, "", "", "", 0, 0, 0, 0, nil},
		{"twilio", "CAold4", "+15550004", "+15559999", "", 0, at(200), nil, 0, "", "r2", "main", 0, 0, 0, 0, long},
	}
	err := d.write(ctx, func(tx *sql.Tx) error {
		for _, c := range calls {
			var last *time.Time
			if n := len(c.events); n > 0 {
				last = &c.events[n-1].at
			}
			var ref int64
			if err := tx.QueryRowContext(ctx, `INSERT INTO calls (provider, call_id, from_number, to_number, status, final, started_at, ended_at,
    duration_seconds, hangup_cause, revision, transferred, fallback, ended_in_flow, last_menu, last_event_at, repeated)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING id`,
				c.provider, c.id, c.from, c.to, c.status, c.final, d.tv(c.start), d.tvNull(c.ended), c.secs, c.cause,
				c.revision, c.transferred, c.fallback, c.ends, c.lastMenu, d.tvNull(last), c.repeated).Scan(&ref); err != nil {
				return err
			}
			for _, e := range c.events {
				if _, err := tx.ExecContext(ctx, `INSERT INTO call_events (call_ref, at, menu, input, action, revision, node)
VALUES ($1, $2, $3, $4, $5, $6, $7)`, ref, d.tv(e.at), e.menu, e.input, e.action, e.revision, e.node); err != nil {
					return err
				}
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO insight_menu_days (day, provider, to_number, revision, menu, kind, detail, n)
VALUES ($1, 'twilio', '+15559999', 'r1', 'main', 'option', '1', 1), ($1, 'twilio', '+15559999', 'r1', 'main', 'enter', '', 1)`, at(0).Unix()/86400)
		return err
	})
	if err != nil {
		t.Fatalf("seed the old shape: %v", err)
	}
}

// oldShapeCalls reads every call as the old store's ListCalls did (its
// queries, newest first), from the old tables.
func oldShapeCalls(t *testing.T, d *DB) []Call {
	t.Helper()
	ctx := context.Background()
	calls, err := queryAll(ctx, d.sql, "old calls", func(s scanner) (Call, error) {
		_, c, err := scanCall(s)
		return c, err
	}, `SELECT `+callColumns+` FROM calls ORDER BY started_at DESC, id DESC`)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := d.sql.QueryContext(ctx, `SELECT c.call_id, e.at, e.menu, e.input, e.action, e.revision, e.node
FROM call_events e JOIN calls c ON c.id = e.call_ref ORDER BY e.call_ref, e.id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id                  string
			tc                  timeCol
			menu, input, action string
			e                   Event
		)
		if err := rows.Scan(&id, &tc, &menu, &input, &action, &e.Revision, &e.Node); err != nil {
			t.Fatal(err)
		}
		e.Event = legacyEvent(tc.T, menu, input, action)
		for i := range calls {
			if calls[i].CallID == id {
				calls[i].Events = append(calls[i].Events, e)
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return calls
}
