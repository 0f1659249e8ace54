package store

import (
	"database/sql"
	"reflect"
	"testing"

	"github.com/ivr-project/ivr/internal/ivr"
	"github.com/ivr-project/ivr/internal/testutil"
)

// summarisedRows is every call's row with its summary (all but its id)
// and the rollup's figures.
func summarisedRows(t *testing.T, d *DB) []string {
	t.Helper()
	out := queryStrings(t, d, `SELECT concat_ws('|', provider, call_id, from_number, to_number, status, final, started_at, ended_at, duration_seconds,
        hangup_cause, provider_at, provider_seq, completed_sent, event_seq, summarised, revision, transferred, fallback, ended_in_flow, last_menu,
        last_event_at, hour, outcome, flow_seconds, flow_bucket, variant, repeated) FROM calls ORDER BY provider, call_id`)
	var rollup string
	if err := d.sql.QueryRow(`SELECT concat_ws('|', day, provider, to_number, revision, outcome, menu, repeated, sum(n), sum(flow_sum), sum(b0), sum(b1), sum(b11))
        FROM insight_call_deltas GROUP BY day, provider, to_number, revision, outcome, menu, repeated HAVING sum(n) <> 0 ORDER BY 1`).Scan(&rollup); err != nil && err != sql.ErrNoRows {
		t.Fatal(err)
	}
	return append(out, rollup)
}

// TestStatusSummaryOneVersion (PostgreSQL): a first final status that
// summarises its call writes the status and the summary as one version of
// the call's row, and leaves the call, the rollup and the insights as the
// status's upsert followed by the summary's update did: answered calls
// (their events in the row and in call_requests), a start the status moves
// an hour earlier, a call the flow ended (summarised before: summarised
// again), a transfer, the provider's sequence and hangup cause, a new call
// (no row: the upsert's way) and a repeat.
func TestStatusSummaryOneVersion(t *testing.T) {
	ev := func(sec int, menu string, kind ivr.EventKind) Event {
		return Event{Event: ivr.Event{At: at(sec), Menu: menu, Kind: kind}, Revision: "rev1"}
	}
	seq := int64(3)
	answers := map[string][][]Event{
		"CAsteps":    {{ev(0, "main", ivr.EventEnter)}, {ev(5, "sales", ivr.EventEnter)}},
		"CAearly":    {{ev(7205, "main", ivr.EventEnter)}},
		"CAhangup":   {{ev(0, "main", ivr.EventEnter), ev(95, "bye", ivr.EventHangup)}},
		"CAtransfer": {{ev(0, "main", ivr.EventEnter)}, {ev(7, "main", ivr.EventTransfer)}},
	}
	updates := []StatusUpdate{
		{CallID: "CAsteps", Status: "completed", At: at(60), DurationSeconds: 30},
		{CallID: "CAearly", Status: "completed", At: at(7215), DurationSeconds: 60},
		{CallID: "CAhangup", Status: "completed", At: at(100), HangupCause: "normal", ProviderSeq: &seq, ProviderAt: at(99)},
		{CallID: "CAtransfer", Status: "busy", From: "+1777", At: at(20)},
		{CallID: "CAnew", Status: "no-answer", At: at(30)},
		{CallID: "CAsteps", Status: "completed", At: at(61), DurationSeconds: 31}, // a repeat
	}
	apply := func(t *testing.T, oneVersion bool) ([]string, int64, *Insights) {
		d := openT(t, testutil.PostgresURL(t))
		ctx := ctxT(t)
		for id, reqs := range answers {
			for _, evs := range reqs {
				if err := d.AddEvents(ctx, "twilio", id, "", "+1999", evs); err != nil {
					t.Fatal(err)
				}
			}
		}
		// Each new version of a call's row, counted by a trigger.
		if _, err := d.sql.ExecContext(ctx, `CREATE TABLE row_versions (call_id text);
CREATE FUNCTION count_version() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO row_versions VALUES (NEW.call_id); RETURN NULL; END $$;
CREATE TRIGGER count_version AFTER UPDATE ON calls FOR EACH ROW EXECUTE FUNCTION count_version()`); err != nil {
			t.Fatal(err)
		}
		// The status's own summary (nil), or the claim's then the summary's
		// transaction (a leave that declines: as the upsert and summary did).
		later := func(bool) bool { return false }
		if oneVersion {
			later = nil
		}
		for _, u := range updates {
			u.Provider, u.To, u.Final = "twilio", "+1999", true
			if err := d.updateStatus(ctx, u, later); err != nil {
				t.Fatal(err)
			}
		}
		var versions int64
		if err := d.sql.QueryRow(`SELECT count(*) FROM row_versions WHERE call_id IN ('CAearly', 'CAhangup', 'CAtransfer')`).Scan(&versions); err != nil {
			t.Fatal(err)
		}
		return summarisedRows(t, d), versions, insightsT(t, d)
	}
	twice, versions2, in2 := apply(t, false)
	once, versions1, in1 := apply(t, true)
	if versions1 != 3 || versions2 != 6 {
		t.Errorf("the statuses of 3 answered calls wrote %d new versions of their rows (as the upsert then the summary: %d); want 3 (6)", versions1, versions2)
	}
	if len(once) != 6 || !reflect.DeepEqual(once, twice) {
		t.Errorf("status and summary in one version:\n%q\nwant, as the upsert then the summary:\n%q", once, twice)
	}
	if !reflect.DeepEqual(in1, in2) {
		t.Errorf("insights %+v; want %+v", in1, in2)
	}
}
