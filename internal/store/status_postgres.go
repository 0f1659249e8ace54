package store

import (
	"context"
	"database/sql"
	"log/slog"
)

// A final status on PostgreSQL with the outbox off (no webhook receiver: no
// event can follow the status) writes nothing but the call's row, so it
// need not be a transaction of several statements (BEGIN, the upsert, the
// call.completed claim, COMMIT: four round trips, each a pair of syscalls
// that cost much on this kind of VM). The claim (completed_sent, event_seq,
// as completeCall sets them) is part of the upsert (upsertStatusClaim),
// and when a writer batch will summarise the call (later, writer_status.go:
// in the mixed load nearly every call), the status is that one statement
// in autocommit: its 200 still comes after its commit.
//
// The summary decision is then taken after the commit, not before it under
// the row lock; it holds all the same. The status is committed before
// later looks at the queue, so a batch that reads the call after that sees
// it final and summarises it: an entry queued and not taken yet; an entry
// the batch being written has taken but not read (its lock read comes after
// the commit, or waited for it); or, when the status inserted the row, any
// entry of the call (a batch that looked for the call earlier finds it at
// its insert, as a late call, final). Otherwise the status summarises the
// call in a transaction of its own, holding the call's row lock, so that it
// and a batch writing events of the call meanwhile run one after the other
// and the later one reads all the events.

// upsertStatusClaim is upsertStatus for a first or repeated final status
// on PostgreSQL with the outbox off: it also claims call.completed (no
// event is written) and returns the row id, whether the statement inserted
// the row, and whether the call was reported and summarised before it
// (then the status is a repeat: nothing more to do). prev reads the row as
// of the statement's snapshot: a repeat racing its own first status (the
// provider's retry) may then summarise the call twice, the same summary.
const upsertStatusClaim = `WITH prev AS (SELECT completed_sent, summarised FROM calls WHERE provider = $1 AND call_id = $2)
` + upsertStatus + `,
    completed_sent   = 1,
    event_seq        = CASE WHEN calls.completed_sent = 0 THEN calls.event_seq + 1 ELSE calls.event_seq END
RETURNING id, (xmax = 0)::int, COALESCE((SELECT completed_sent * summarised FROM prev), 0)`

// lockCallSQL locks a call's row for its summary (finalStatusQuiet).
const lockCallSQL = `SELECT id FROM calls WHERE id = $1 FOR NO KEY UPDATE`

// finalStatusQuiet applies a final status on PostgreSQL with the outbox
// off (see above).
func (d *DB) finalStatusQuiet(ctx context.Context, args []any, later leaveSummary) error {
	var ref, inserted, done int64
	if later == nil { // nothing of the call is queued: the summary is the status's
		return d.writeRetry(ctx, "status update", func(tx *sql.Tx) error {
			// The call's row exists: the status and the summary are one
			// version of it (status_summarised_postgres.go).
			if ok, err := d.claimSummarised(ctx, tx, args); ok || err != nil {
				return err
			}
			if err := d.txQueryRow(ctx, tx, upsertStatusClaim, args...).Scan(&ref, &inserted, &done); err != nil || done != 0 {
				return err
			}
			return d.summariseCalls(ctx, tx, []int64{ref})
		})
	}
	res, err := d.claimGrouped(ctx, args) // with the statuses arriving meanwhile (status_group_postgres.go)
	ref, inserted, done = res.ref, res.inserted, res.done
	if err != nil || done != 0 || later(inserted != 0) {
		return err
	}
	return d.writeRetry(ctx, "status summary", func(tx *sql.Tx) error {
		var id int64
		if err := tx.QueryRowContext(ctx, lockCallSQL, ref).Scan(&id); err != nil {
			return err
		}
		return d.summariseCalls(ctx, tx, []int64{ref})
	})
}

// autocommit runs fn, one statement outside a transaction, again (at most
// batchAttempts times) when PostgreSQL aborted it as a deadlock victim or
// a serialization failure, as writeRetry does a transaction.
func (d *DB) autocommit(ctx context.Context, what string, fn func() error) error {
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || attempt == batchAttempts || !retryable(err) || ctx.Err() != nil {
			return err
		}
		slog.Default().WarnContext(ctx, "statement aborted by the database; running it again",
			slog.String("what", what), slog.Int("attempt", attempt), slog.String("error", err.Error()))
	}
}
