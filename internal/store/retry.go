package store

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"

	"github.com/jackc/pgx/v5/pgconn"
)

// batchAttempts bounds how often writeRetry runs a transaction that
// PostgreSQL aborted as a deadlock victim or serialization failure.
const batchAttempts = 4

// writeRetry is write for the transactions that lock many call rows (the
// event batch, retention) and for those that meet them on PostgreSQL
// (status updates, closing stale calls, the outbox claim, the insights
// compaction). The first take those locks in one order (row id:
// probeCallsPostgres), so a deadlock is left only in rare races (a row
// committed between the locking statement and a later one, whose snapshot
// sees it); when PostgreSQL aborts the transaction for one (SQLSTATE
// 40P01) or a serialization failure (40001), nothing of it was applied, and
// fn, which must derive everything it writes from its arguments (and reset
// what it reports), runs again in a new transaction, at most batchAttempts
// times, with a warning naming what (e.g. "event batch of 12 calls").
func (d *DB) writeRetry(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := d.write(ctx, fn)
		if err == nil || attempt == batchAttempts || !retryable(err) || ctx.Err() != nil {
			return err
		}
		slog.Default().WarnContext(ctx, "transaction aborted by the database; running it again",
			slog.String("what", what), slog.Int("attempt", attempt), slog.String("error", err.Error()))
	}
}

// retryable says whether err is PostgreSQL's deadlock (40P01) or
// serialization failure (40001), or an event batch's errAnswerBusy: the
// transaction was rolled back whole.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.Is(err, errAnswerBusy) || errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}
