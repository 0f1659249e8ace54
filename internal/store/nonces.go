package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Claim records a nonce (a replay-cache key) until expires. It reports true
// when this call claimed the key: the key was unknown or its earlier claim
// had expired. The check and the write are one atomic statement, so of
// several instances sharing the database exactly one wins.
// It implements auth.NonceStore.
func (d *DB) Claim(ctx context.Context, key string, expires time.Time) (bool, error) {
	if key == "" {
		return false, fmt.Errorf("claim nonce: empty key")
	}
	res, err := d.exec(ctx, `INSERT INTO nonces (nonce_key, expires_at) VALUES ($1, $2)
ON CONFLICT (nonce_key) DO UPDATE SET expires_at = excluded.expires_at WHERE nonces.expires_at <= $3`,
		txt(key), d.tv(expires), d.tv(d.now()))
	var n int64
	if err == nil {
		n, err = res.RowsAffected()
	}
	if err != nil {
		return false, fmt.Errorf("claim nonce: %w", err)
	}
	return n == 1, nil
}

// Release gives a claimed nonce back: a later Claim of key succeeds. It
// implements auth.NonceReleaser.
func (d *DB) Release(ctx context.Context, key string) error {
	if _, err := d.exec(ctx, `DELETE FROM nonces WHERE nonce_key = $1`, txt(key)); err != nil {
		return fmt.Errorf("release nonce: %w", err)
	}
	return nil
}

// DeleteOlderThan is the retention sweep: it deletes calls that started
// before t (with their events), messages sent or received before t, and
// every nonce that has expired. It returns how many calls, messages and
// nonces it deleted in total.
func (d *DB) DeleteOlderThan(ctx context.Context, t time.Time) (int64, error) {
	var total int64
	err := d.writeRetry(ctx, "retention", func(tx *sql.Tx) error {
		total = 0
		if d.driver == DriverPostgres {
			// The calls' row locks first, in id order, like the event
			// batches (probeCallsPostgres): a batch writing to an old call
			// meanwhile then waits instead of deadlocking on the rows the
			// deletes and their cascades reach.
			// One instance at a time deletes (the others wait for it);
			// the lock is this schema's, like migrate's.
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('ivr/store/retention:' || coalesce(current_schema(), '')))`); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `SELECT id FROM calls WHERE started_at < $1 ORDER BY id FOR UPDATE`, d.tv(t)); err != nil {
				return err
			}
		}
		for _, q := range []struct {
			sql   string
			arg   any
			count bool
		}{
			// Events first: the cascade would do it, but this does not
			// depend on SQLite's foreign_keys setting of the connection.
			{`DELETE FROM call_requests WHERE call_ref IN (SELECT id FROM calls WHERE started_at < $1)`, d.tv(t), false},
			{`DELETE FROM calls WHERE started_at < $1`, d.tv(t), true},
			{`DELETE FROM messages WHERE at < $1`, d.tv(t), true},
			// Webhook events still to deliver are kept whatever their age.
			{`DELETE FROM outbox WHERE created_at < $1 AND state <> 'pending'`, d.tv(t), true},
			{`DELETE FROM nonces WHERE expires_at <= $1`, d.tv(d.now()), true},
		} {
			res, err := tx.ExecContext(ctx, q.sql, q.arg)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			if q.count {
				total += n
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("delete older than %s: %w", t.Format(time.RFC3339), err)
	}
	return total, nil
}
