package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// A call's first final status that summarises the call itself (PostgreSQL,
// outbox off, nothing of the call queued in a writer: in real traffic the
// common case, the status comes seconds after the call's last step was
// written) wrote the call's row twice: the status's upsert, then the
// summary's update, each a new version of the row with an entry in each of
// the calls' indexes (neither can be a heap-only update: the status sets
// final and started_at, the summary summarised and calls_insight's
// columns). When the call's row exists, the status now locks it, reads its
// events, and writes the status and the summary as one version
// (claimSummarisedSQL). A new call (no row: the status creates it, or a
// writer batch is inserting it and has not committed), or a repeat (the
// call was reported and summarised before), goes as before.

// lockCallByKeySQL locks a call's row by its key, for its status and
// summary, and reads its start and whether it was reported and summarised.
const lockCallByKeySQL = `SELECT id, started_at, completed_sent * summarised FROM calls WHERE provider = $1 AND call_id = $2 FOR NO KEY UPDATE`

// claimSummarisedSQL is upsertStatusClaim's change of an existing call's
// row ($13: its id; $1-$12: statusArgs' first twelve, named as the upsert's
// excluded row so that its SET clause is the same text) and the call's
// summary ($14-$24, as summariseSQL's $2-$12) in one UPDATE.
var claimSummarisedSQL = `UPDATE calls SET` + upsertStatus[strings.Index(upsertStatus, "DO UPDATE SET")+len("DO UPDATE SET"):] + `,
    completed_sent   = 1,
    event_seq        = CASE WHEN calls.completed_sent = 0 THEN calls.event_seq + 1 ELSE calls.event_seq END,
    revision = CASE WHEN calls.revision = '' THEN $14 ELSE calls.revision END,
    transferred = $15, fallback = $16, ended_in_flow = $17, last_menu = $18, last_event_at = $19,
    hour = $20, outcome = $21, flow_seconds = $22, flow_bucket = $23,
    variant = CASE WHEN $24 = '' THEN calls.variant ELSE $24 END, summarised = 1
FROM (VALUES ($1::text, $2::text, $3::text, $4::text, $5::text, $6::int, $7::timestamptz, $8::timestamptz, $9::int, $10::text, $11::timestamptz, $12::bigint))
    AS excluded(provider, call_id, from_number, to_number, status, final, started_at, ended_at, duration_seconds, hangup_cause, provider_at, provider_seq)
WHERE calls.id = $13`

// claimSummarised applies a first final status (statusArgs args) to the
// call's existing row with its summary, in tx. It returns false, having
// written nothing, when the call has no row yet or was reported and
// summarised before: the caller then goes the upsert's way.
func (d *DB) claimSummarised(ctx context.Context, tx *sql.Tx, args []any) (bool, error) {
	var (
		id, done int64
		start    time.Time
	)
	err := d.txQueryRow(ctx, tx, lockCallByKeySQL, args[0], args[1]).Scan(&id, &start, &done)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && done != 0) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("lock call: %w", err)
	}
	statusStart, ok := args[6].(time.Time)
	if !ok {
		return false, fmt.Errorf("status start is a %T", args[6])
	}
	// The events are read after the lock (a statement of its own, whose
	// snapshot sees what a batch holding the row committed meanwhile).
	cs, err := d.endedCalls(ctx, tx, []int64{id})
	if err != nil {
		return false, err
	}
	c := endedCall{id: id, start: start, final: true}
	if len(cs) == 1 {
		c.events = cs[0].events
	}
	if statusStart.Before(c.start) { // the upsert's started_at
		c.start = statusStart
	}
	s := summarise(c.events, d.now())
	var last *time.Time
	if !s.last.IsZero() {
		last = &s.last
	}
	hour, outcome, secs, bucket := summaryColumns(c, s)
	params := append(args[:12:12], id, txt(s.revision), s.transferred, s.fallback, s.ends, txt(s.lastMenu), d.tvNull(last),
		hour, outcome, secs, bucket, txt(s.variant))
	st, err := d.stmt(ctx, tx, claimSummarisedSQL)
	if err != nil {
		return false, err
	}
	if _, err := st.ExecContext(ctx, params...); err != nil {
		return false, fmt.Errorf("status and summary of call %d: %w", id, err)
	}
	return true, nil
}
