package store

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"

	"github.com/jackc/pgx/v5/pgconn"
)

// batchAttempts bounds how often writeBatch runs a transaction that
// PostgreSQL aborted as a deadlock victim or serialization failure.
const batchAttempts = 3

// writeBatch is write for the event batch. The batch takes its row locks in
// one order (lockCallsPostgres), so a deadlock is left only in rare races
// (a repeat candidate committed after the batch's locks were taken); when
// PostgreSQL aborts the transaction for one (SQLSTATE 40P01) or a
// serialization failure (40001), nothing of it was applied, and fn, which
// must derive everything it writes from its arguments, runs again in a new
// transaction, at most batchAttempts times, with a warning.
func (d *DB) writeBatch(ctx context.Context, calls int, fn func(tx *sql.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := d.write(ctx, fn)
		if err == nil || attempt == batchAttempts || !retryable(err) || ctx.Err() != nil {
			return err
		}
		slog.Default().WarnContext(ctx, "event batch aborted by the database; writing it again",
			slog.Int("calls", calls), slog.Int("attempt", attempt), slog.String("error", err.Error()))
	}
}

// retryable says whether err is PostgreSQL's deadlock (40P01) or
// serialization failure (40001): the transaction was rolled back whole.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}
