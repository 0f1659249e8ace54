package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// The Writer's batches are written with multi-row statements: a batch of a
// thousand distinct calls (the load test's answers) was two statements per
// call, and the per-statement cost (database/sql, binding, the driver's
// step) was most of the writer's time; see BenchmarkAddEventBatchDistinct.
//
// On PostgreSQL each table gets one statement per batch whatever its size:
// the rows travel as arrays (unnest), so the SQL text is constant and
// prepared once. SQLite has no arrays: rows go in VALUES lists of 2^k rows
// (k <= maxRowsLog2), each size prepared once per process and reused.

// callRow is one call of a batch as upserted (texts already made storable).
type callRow struct {
	provider, callID, from, to string
	start                      time.Time
}

// callKey identifies a call in the returned refs.
type callKey struct{ provider, callID string }

// maxRowsLog2: SQLite VALUES lists hold at most 2^7 = 128 rows (640
// parameters, far below SQLite's 32766).
const maxRowsLog2 = 7

const upsertCallsSet = `
ON CONFLICT (provider, call_id) DO UPDATE SET
    from_number = CASE WHEN calls.from_number = '' THEN excluded.from_number ELSE calls.from_number END,
    to_number   = CASE WHEN calls.to_number = '' THEN excluded.to_number ELSE calls.to_number END,
    started_at  = CASE WHEN excluded.started_at < calls.started_at THEN excluded.started_at ELSE calls.started_at END
RETURNING id, provider, call_id`

const upsertCallsPostgres = `INSERT INTO calls (provider, call_id, from_number, to_number, started_at)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[])` + upsertCallsSet

const insertEventsPostgres = `INSERT INTO call_events (call_ref, at, menu, input, action)
SELECT c, a, m, i, x FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::text[])
    WITH ORDINALITY AS t(c, a, m, i, x, n) ORDER BY n`

// sqliteValues is "INSERT ... VALUES (?, ?, ?, ?, ?), ..." with n rows.
func sqliteValues(head string, n int) string {
	var q strings.Builder
	q.WriteString(head)
	q.WriteString(" VALUES ")
	for i := range n {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?, ?)")
	}
	return q.String()
}

// batchQueries are the statements AddEventBatch uses on driver.
func batchQueries(driver string) []string {
	if driver == DriverPostgres {
		return []string{upsertCallsPostgres, insertEventsPostgres}
	}
	var qs []string
	for size := 1; size <= 1<<maxRowsLog2; size <<= 1 {
		qs = append(qs, sqliteUpsertCalls(size), sqliteInsertEvents(size))
	}
	return qs
}

func sqliteUpsertCalls(n int) string {
	return sqliteValues(`INSERT INTO calls (provider, call_id, from_number, to_number, started_at)`, n) + upsertCallsSet
}

func sqliteInsertEvents(n int) string {
	return sqliteValues(`INSERT INTO call_events (call_ref, at, menu, input, action)`, n)
}

// prepareBatch prepares AddEventBatch's statements once, at Open (a
// one-connection in-memory database could not prepare them later, while a
// transaction holds its connection). database/sql prepares each again on
// every connection that uses it, once.
func (d *DB) prepareBatch(ctx context.Context) error {
	d.stmts = map[string]*sql.Stmt{}
	for _, q := range batchQueries(d.driver) {
		st, err := d.sql.PrepareContext(ctx, q)
		if err != nil {
			d.closeStmts()
			return fmt.Errorf("prepare %.40s...: %w", q, err)
		}
		d.stmts[q] = st
	}
	return nil
}

// stmt returns the prepared query for use in tx.
func (d *DB) stmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	st, ok := d.stmts[query]
	if !ok {
		return nil, fmt.Errorf("statement not prepared at Open: %.40s...", query)
	}
	return tx.StmtContext(ctx, st), nil
}

// closeStmts closes the prepared statements (at Close).
func (d *DB) closeStmts() {
	for _, st := range d.stmts {
		st.Close()
	}
	d.stmts = nil
}

// chunks calls fn with consecutive [lo, hi) ranges of n rows whose sizes are
// powers of two of at most 2^maxRowsLog2 rows, largest first.
func chunks(n int, fn func(lo, hi int) error) error {
	lo := 0
	for size := 1 << maxRowsLog2; size > 0; size >>= 1 {
		for n-lo >= size {
			if err := fn(lo, lo+size); err != nil {
				return err
			}
			lo += size
		}
	}
	return nil
}

// upsertCalls creates or completes the batch's calls and returns their row ids.
func (d *DB) upsertCalls(ctx context.Context, tx *sql.Tx, rows []callRow) (map[callKey]int64, error) {
	refs := make(map[callKey]int64, len(rows))
	read := func(r *sql.Rows, err error) error {
		if err != nil {
			return fmt.Errorf("upsert calls: %w", err)
		}
		defer r.Close()
		for r.Next() {
			var (
				id int64
				k  callKey
			)
			if err := r.Scan(&id, &k.provider, &k.callID); err != nil {
				return fmt.Errorf("upsert calls: %w", err)
			}
			refs[k] = id
		}
		if err := r.Err(); err != nil {
			return fmt.Errorf("upsert calls: %w", err)
		}
		return r.Close()
	}
	if d.driver == DriverPostgres {
		cols := [5][]string{}
		starts := make([]time.Time, len(rows))
		for i, r := range rows {
			cols[0] = append(cols[0], r.provider)
			cols[1] = append(cols[1], r.callID)
			cols[2] = append(cols[2], r.from)
			cols[3] = append(cols[3], r.to)
			starts[i] = r.start.UTC().Truncate(time.Microsecond)
		}
		st, err := d.stmt(ctx, tx, upsertCallsPostgres)
		if err != nil {
			return nil, fmt.Errorf("prepare call upsert: %w", err)
		}
		if err := read(st.QueryContext(ctx, cols[0], cols[1], cols[2], cols[3], starts)); err != nil {
			return nil, err
		}
	} else {
		args := make([]any, 0, 5<<maxRowsLog2)
		err := chunks(len(rows), func(lo, hi int) error {
			st, err := d.stmt(ctx, tx, sqliteUpsertCalls(hi-lo))
			if err != nil {
				return fmt.Errorf("prepare call upsert: %w", err)
			}
			args = args[:0]
			for _, r := range rows[lo:hi] {
				args = append(args, r.provider, r.callID, r.from, r.to, d.tv(r.start))
			}
			return read(st.QueryContext(ctx, args...))
		})
		if err != nil {
			return nil, err
		}
	}
	for _, r := range rows {
		if _, ok := refs[callKey{r.provider, r.callID}]; !ok {
			return nil, fmt.Errorf("upsert calls: no row id returned for %s/%s", r.provider, r.callID)
		}
	}
	return refs, nil
}

// insertEvents inserts every call's events, calls in batch order and each
// call's events in order (row ids follow insertion order).
func (d *DB) insertEvents(ctx context.Context, tx *sql.Tx, calls []CallEvents, refs map[callKey]int64, now time.Time) error {
	n := 0
	for _, c := range calls {
		n += len(c.Events)
	}
	if n == 0 {
		return nil
	}
	type row struct {
		ref int64
		e   *Event
	}
	rows := make([]row, 0, n)
	for i := range calls {
		c := &calls[i]
		ref := refs[callKey{txt(c.Provider), txt(c.CallID)}]
		for j := range c.Events {
			rows = append(rows, row{ref, &c.Events[j]})
		}
	}
	at := func(e *Event) time.Time {
		if e.At.IsZero() {
			return now
		}
		return e.At
	}
	if d.driver == DriverPostgres {
		refCol := make([]int64, n)
		atCol := make([]time.Time, n)
		texts := [3][]string{make([]string, n), make([]string, n), make([]string, n)}
		for i, r := range rows {
			refCol[i], atCol[i] = r.ref, at(r.e).UTC().Truncate(time.Microsecond)
			texts[0][i], texts[1][i], texts[2][i] = txt(r.e.Menu), txt(r.e.Input), txt(r.e.Action)
		}
		st, err := d.stmt(ctx, tx, insertEventsPostgres)
		if err != nil {
			return fmt.Errorf("prepare event insert: %w", err)
		}
		if _, err := st.ExecContext(ctx, refCol, atCol, texts[0], texts[1], texts[2]); err != nil {
			return fmt.Errorf("insert events: %w", err)
		}
		return nil
	}
	args := make([]any, 0, 5<<maxRowsLog2)
	return chunks(n, func(lo, hi int) error {
		st, err := d.stmt(ctx, tx, sqliteInsertEvents(hi-lo))
		if err != nil {
			return fmt.Errorf("prepare event insert: %w", err)
		}
		args = args[:0]
		for _, r := range rows[lo:hi] {
			args = append(args, r.ref, d.tv(at(r.e)), txt(r.e.Menu), txt(r.e.Input), txt(r.e.Action))
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("insert events: %w", err)
		}
		return nil
	})
}
