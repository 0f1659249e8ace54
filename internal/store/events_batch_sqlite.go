package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// SQLite writes a batch's calls without an upsert. Its writers hold the
// database's write lock from BEGIN (IMMEDIATE), so nothing can insert a
// call between reading which of the batch's calls exist and inserting the
// others: one read finds the existing calls (their ids, final, and what the
// batch may complete), a plain multi-row INSERT writes the new ones, and
// the rare existing call whose numbers, start or revision the batch
// completes gets an UPDATE of its own. The upsert this replaces (ON
// CONFLICT DO UPDATE ... RETURNING, every row read back through
// database/sql) was half of the writer's CPU on a batch of new calls.
//
// The new calls' ids are not read back either: calls is AUTOINCREMENT, so
// each row inserted gets an id above every id given before, in insertion
// order. When the sequence moved by exactly the number of rows inserted,
// those rows hold the ids seq+1 ... seq+n in order (n increasing ids in an
// interval of n). Otherwise (never seen) they are read by their keys.

// callSeqSQLite is the highest calls row id ever given (0: none yet).
const callSeqSQLite = `SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'calls'), 0)`

// sqliteProbeCalls reads the calls of n (provider, call id) pairs that exist.
func sqliteProbeCalls(n int) string {
	return `SELECT c.id, c.provider, c.call_id, c.final, c.from_number, c.to_number, c.started_at, c.revision
FROM (VALUES ` + valueRows(2, n) + `) AS k CROSS JOIN calls c ON c.provider = k.column1 AND c.call_id = k.column2`
}

// sqliteInsertCalls inserts n new calls with their first request's events.
// OR FAIL: an error stops the statement without undoing its earlier rows,
// so SQLite keeps no statement journal for it (the whole transaction is
// rolled back on any error anyway).
func sqliteInsertCalls(n int) string {
	return sqliteValues(`INSERT OR FAIL INTO calls (provider, call_id, from_number, to_number, started_at, revision, events)`, 7, n)
}

// sqliteCompleteCall completes an existing call as completeCallsPostgres does.
const sqliteCompleteCall = `UPDATE calls SET
    from_number = CASE WHEN from_number = '' THEN $2 ELSE from_number END,
    to_number   = CASE WHEN to_number = '' THEN $3 ELSE to_number END,
    started_at  = min(started_at, $4),
    revision    = CASE WHEN revision = '' THEN $5 ELSE revision END
WHERE id = $1`

// sqliteQueries are the statements writeCallsSQLite prepares at Open.
func sqliteQueries() []string {
	qs := []string{callSeqSQLite, sqliteCompleteCall}
	for size := 1; size <= 1<<maxRowsLog2; size <<= 1 {
		qs = append(qs, sqliteProbeCalls(size), sqliteInsertCalls(size))
	}
	return qs
}

// existingCall is a call of the batch found in the store.
type existingCall struct {
	ref                callRef
	from, to, revision string
	start              int64 // unix µs
}

// needsUpdate reports whether r completes c (on both stores: a
// final call's revision is set by its summary).
func (c existingCall) needsUpdate(r *callRow) bool {
	return (c.from == "" && r.from != "") || (c.to == "" && r.to != "") ||
		r.start.UTC().Truncate(time.Microsecond).UnixMicro() < c.start || (c.revision == "" && txt(r.revision) != "" && !c.ref.final)
}

// writeCallsSQLite is upsertCalls on SQLite (see above).
func (d *DB) writeCallsSQLite(ctx context.Context, tx *sql.Tx, rows []callRow) (map[callKey]callRef, error) {
	found, err := d.probeCallsSQLite(ctx, tx, rows)
	if err != nil {
		return nil, err
	}
	refs := make(map[callKey]callRef, len(rows))
	fresh := make([]callRow, 0, len(rows))
	for i := range rows {
		r := &rows[i]
		k := callKey{r.provider, r.callID}
		c, ok := found[k]
		if !ok {
			fresh = append(fresh, *r)
			continue
		}
		refs[k] = c.ref
		if c.needsUpdate(r) {
			st, err := d.stmt(ctx, tx, sqliteCompleteCall)
			if err != nil {
				return nil, fmt.Errorf("prepare call update: %w", err)
			}
			if _, err := st.ExecContext(ctx, c.ref.id, r.from, r.to, d.tv(r.start), txt(r.revision)); err != nil {
				return nil, fmt.Errorf("update call %s/%s: %w", r.provider, r.callID, err)
			}
		}
	}
	if len(fresh) == 0 {
		return refs, nil
	}
	var seq, after int64
	if err := d.txQueryRow(ctx, tx, callSeqSQLite).Scan(&seq); err != nil {
		return nil, fmt.Errorf("insert calls: sequence: %w", err)
	}
	args := make([]any, 0, 7<<maxRowsLog2)
	err = chunks(len(fresh), func(lo, hi int) error {
		st, err := d.stmt(ctx, tx, sqliteInsertCalls(hi-lo))
		if err != nil {
			return fmt.Errorf("prepare call insert: %w", err)
		}
		args = args[:0]
		for _, r := range fresh[lo:hi] {
			args = append(args, r.provider, r.callID, r.from, r.to, d.tv(r.start), txt(r.revision), r.events)
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("insert calls: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := d.txQueryRow(ctx, tx, callSeqSQLite).Scan(&after); err != nil {
		return nil, fmt.Errorf("insert calls: sequence: %w", err)
	}
	if after-seq == int64(len(fresh)) {
		for i, r := range fresh {
			refs[callKey{r.provider, r.callID}] = callRef{id: seq + 1 + int64(i), inserted: true}
		}
		return refs, nil
	}
	ids, err := d.probeCallsSQLite(ctx, tx, fresh)
	if err != nil {
		return nil, err
	}
	for _, r := range fresh {
		k := callKey{r.provider, r.callID}
		c, ok := ids[k]
		if !ok {
			return nil, fmt.Errorf("insert calls: %s/%s not found after its insert", r.provider, r.callID)
		}
		refs[k] = callRef{id: c.ref.id, inserted: true}
	}
	return refs, nil
}

// probeCallsSQLite reads which of rows' calls exist.
func (d *DB) probeCallsSQLite(ctx context.Context, tx *sql.Tx, rows []callRow) (map[callKey]existingCall, error) {
	found := map[callKey]existingCall{}
	args := make([]any, 0, 2<<maxRowsLog2)
	err := chunks(len(rows), func(lo, hi int) error {
		st, err := d.stmt(ctx, tx, sqliteProbeCalls(hi-lo))
		if err != nil {
			return fmt.Errorf("prepare call lookup: %w", err)
		}
		args = args[:0]
		for _, r := range rows[lo:hi] {
			args = append(args, r.provider, r.callID)
		}
		res, err := st.QueryContext(ctx, args...)
		if err != nil {
			return fmt.Errorf("look up calls: %w", err)
		}
		defer res.Close()
		for res.Next() {
			var (
				c     existingCall
				k     callKey
				final int64
			)
			if err := res.Scan(&c.ref.id, &k.provider, &k.callID, &final, &c.from, &c.to, &c.start, &c.revision); err != nil {
				return fmt.Errorf("look up calls: %w", err)
			}
			c.ref.final = final != 0
			found[k] = c
		}
		if err := res.Err(); err != nil {
			return fmt.Errorf("look up calls: %w", err)
		}
		return res.Close()
	})
	return found, err
}
