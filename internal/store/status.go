package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// upsertStatus applies a status callback. Retries of the same callback leave
// the same row. A final status wins over non-final ones whatever the arrival
// order; a non-final status older than the newest applied is ignored (by the
// provider's sequence number when both have one, else by its timestamp);
// ended_at is set by the first final status; duration and hangup cause are
// only overwritten by known values. $13 and $14 are completed_sent and
// event_seq of a new row (1: its call.completed is written by this status,
// updateStatus).
const upsertStatus = `INSERT INTO calls (provider, call_id, from_number, to_number, status, final, started_at, ended_at, duration_seconds, hangup_cause, provider_at, provider_seq,
    completed_sent, event_seq)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
ON CONFLICT (provider, call_id) DO UPDATE SET
    from_number      = CASE WHEN calls.from_number = '' THEN excluded.from_number ELSE calls.from_number END,
    to_number        = CASE WHEN calls.to_number = '' THEN excluded.to_number ELSE calls.to_number END,
    status           = CASE WHEN excluded.status <> '' AND (excluded.final = 1 OR (calls.final = 0 AND (
                           CASE WHEN excluded.provider_seq IS NOT NULL AND calls.provider_seq IS NOT NULL
                                THEN excluded.provider_seq >= calls.provider_seq
                                ELSE (excluded.provider_at IS NULL OR calls.provider_at IS NULL OR excluded.provider_at >= calls.provider_at) END)))
                       THEN excluded.status ELSE calls.status END,
    final            = CASE WHEN excluded.final = 1 THEN 1 ELSE calls.final END,
    started_at       = CASE WHEN excluded.started_at < calls.started_at THEN excluded.started_at ELSE calls.started_at END,
    ended_at         = COALESCE(calls.ended_at, excluded.ended_at),
    duration_seconds = CASE WHEN excluded.duration_seconds > 0 THEN excluded.duration_seconds ELSE calls.duration_seconds END,
    hangup_cause     = CASE WHEN excluded.hangup_cause <> '' THEN excluded.hangup_cause ELSE calls.hangup_cause END,
    provider_at      = CASE WHEN calls.provider_at IS NULL OR excluded.provider_at > calls.provider_at THEN excluded.provider_at ELSE calls.provider_at END,
    provider_seq     = CASE WHEN calls.provider_seq IS NULL OR excluded.provider_seq > calls.provider_seq THEN excluded.provider_seq ELSE calls.provider_seq END`

// UpdateStatus stores a status or hangup callback. When it returns nil the
// change is committed (durable), so the callback may be acknowledged. It is
// idempotent: a provider retrying the same callback changes nothing more.
// For a new call, started_at is At, or At minus the duration for a final
// status that reports one. The first final status of a call writes its
// call.completed outbox event in the same transaction; later ones (retries,
// duplicates) do not.
func (d *DB) UpdateStatus(ctx context.Context, u StatusUpdate) error {
	return d.updateStatus(ctx, u, nil)
}

// leaveSummary, called in a call's first final status transaction after
// its upsert, reports whether a batch that will see the call final (one
// that has not written the call yet) will write events of the call, and
// so summarise it (summary.go: ended); inserted: the status created the
// call's row. See writer_status.go.
type leaveSummary func(inserted bool) bool

// updateStatus is UpdateStatus; a call's first final status does not
// summarise the call when later (nil: never) leaves it to a writer batch.
func (d *DB) updateStatus(ctx context.Context, u StatusUpdate, later leaveSummary) error {
	if u.Provider == "" || u.CallID == "" {
		return fmt.Errorf("update status: provider and call id are required (got %q, %q)", u.Provider, u.CallID)
	}
	args := d.statusArgs(u)
	var err error
	switch {
	case !u.Final && d.driver == DriverPostgres:
		// One statement, committed on its own (a non-final status writes
		// nothing else): one round trip instead of BEGIN, upsert, COMMIT.
		err = d.autocommit(ctx, "status update", func() error {
			_, err := d.stmts[upsertStatus].ExecContext(ctx, args...)
			return err
		})
	case !u.Final:
		// Committed with the callbacks that arrive meanwhile (group.go).
		err = d.writeGrouped(ctx, func(tx *sql.Tx) error {
			_, err := tx.StmtContext(ctx, d.stmts[upsertStatus]).ExecContext(ctx, args...)
			return err
		})
	case d.driver == DriverPostgres && !d.outbox.Load():
		err = d.finalStatusQuiet(ctx, args, later)
	default:
		err = d.writeGrouped(ctx, func(tx *sql.Tx) error { return d.finalStatus(ctx, tx, args, later) })
	}
	if err != nil {
		return fmt.Errorf("update status of %s/%s: %w", u.Provider, u.CallID, err)
	}
	return nil
}

// statusArgs are upsertStatus's arguments for u.
func (d *DB) statusArgs(u StatusUpdate) []any {
	at := u.At
	if at.IsZero() {
		at = d.now()
	}
	if u.DurationSeconds < 0 || u.DurationSeconds > MaxDurationSeconds {
		u.DurationSeconds = 0 // not a call's length: unknown (keeps a stored value)
	}
	start := at
	final := 0
	var ended, providerAt *time.Time
	if u.Final {
		final = 1
		ended = &at
		if u.DurationSeconds > 0 {
			start = at.Add(-time.Duration(u.DurationSeconds) * time.Second)
		}
	}
	if !u.ProviderAt.IsZero() {
		providerAt = &u.ProviderAt
	}
	// PostgreSQL inserts a call's row with its first final status already
	// reported (completed_sent): the statement tells it inserted the row,
	// so the status writes call.completed without claiming it (an update
	// of the row) as completeCall does.
	claim := 0
	if u.Final && d.driver == DriverPostgres {
		claim = 1
	}
	return []any{txt(u.Provider), txt(u.CallID), txt(u.From), txt(u.To), txt(u.Status), final,
		d.tv(start), d.tvNull(ended), u.DurationSeconds, txt(u.HangupCause), d.tvNull(providerAt), u.ProviderSeq, claim, claim}
}

// finalStatus applies a final status in tx: the upsert, then (the call's
// first final status) its summary unless later leaves it to a writer
// batch, and its call.completed.
func (d *DB) finalStatus(ctx context.Context, tx *sql.Tx, args []any, later leaveSummary) error {
	var (
		ref, reported, inserted int64
		c                       callSnapshot
	)
	err := d.txQueryRow(ctx, tx, upsertStatusReturning(d.driver), args...).Scan(&ref, &reported, &inserted,
		&c.seq, &c.provider, &c.callID, &c.from, &c.to, &c.status, &c.started, &c.ended, &c.duration, &c.cause, &c.providerAt, &c.providerSeq)
	if err != nil {
		return err
	}
	if reported != 0 && inserted == 0 {
		return nil // a repeat: call.completed was written already
	}
	if later == nil || !later(inserted != 0) {
		if err := d.summariseCalls(ctx, tx, []int64{ref}); err != nil {
			return err
		}
	}
	if inserted != 0 {
		return d.completedEvent(ctx, tx, c, "provider")
	}
	return d.completeCall(ctx, tx, ref, "provider")
}

// upsertStatusReturning is upsertStatus returning the call's row id,
// whether its call.completed was written already, whether the statement
// inserted the row (PostgreSQL: xmax is 0 on a row this statement
// inserted; SQLite: 0, unknown) and the call's snapshot (outbox.go).
func upsertStatusReturning(driver string) string {
	if driver == DriverPostgres {
		return upsertStatus + ` RETURNING id, completed_sent, (xmax = 0)::int, ` + snapshotColumns
	}
	return upsertStatus + ` RETURNING id, completed_sent, 0, ` + snapshotColumns
}
