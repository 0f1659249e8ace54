package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"
)

// SQLite writes a batch's calls without an upsert. Its writers hold the
// database's write lock from BEGIN (IMMEDIATE), so nothing can insert a
// call between reading which of the batch's calls exist and inserting the
// others: one read finds the existing calls (their ids, final, and what the
// batch may complete), a plain multi-row INSERT writes the new ones (the
// calls expected new, answers, are inserted without that read: see
// writeCallsSQLite), and
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

// sqliteInsertNewCalls is sqliteInsertCalls leaving out the calls that
// exist already (a conflict on the call's key skips its row; any other
// error fails the statement, as OR FAIL).
func sqliteInsertNewCalls(n int) string {
	return sqliteInsertCalls(n) + onConflictSkip
}

const onConflictSkip = ` ON CONFLICT (provider, call_id) DO NOTHING`

// sqliteInsertCallsShared is sqliteInsertCalls for n calls of one
// provider, called number and revision (a chunk's usual case): those are
// bound once, as ?1-?3, and each row binds its call id, caller, start and
// events (the anonymous parameters number on from ?4). Every text or blob
// bound costs the driver a C allocation, a copy, a free and two calls
// that take the connection's mutex (bind, then unbind after the step):
// binding and unbinding were a quarter of the insert's CPU at 6 a row,
// this binds 3.
func sqliteInsertCallsShared(n int) string {
	row := "(?1, ?2, ?3, ?, ?, ?, ?)"
	return `INSERT OR FAIL INTO calls (provider, to_number, revision, call_id, from_number, started_at, events) VALUES ` +
		row + strings.Repeat(", "+row, n-1)
}

// sqliteInsertNewCallsShared is sqliteInsertNewCalls as sqliteInsertCallsShared.
func sqliteInsertNewCallsShared(n int) string { return sqliteInsertCallsShared(n) + onConflictSkip }

// sqliteCompleteCall completes an existing call as completeCallsPostgres does.
const sqliteCompleteCall = `UPDATE calls SET
    from_number = CASE WHEN from_number = '' THEN $2 ELSE from_number END,
    to_number   = CASE WHEN to_number = '' THEN $3 ELSE to_number END,
    started_at  = min(started_at, $4),
    revision    = CASE WHEN revision = '' THEN $5 ELSE revision END
WHERE id = $1`

// sqliteMarkNewRepeats marks, for each call with an id in [$1, $2] (the
// calls a batch inserted) and a caller number, the earlier calls of that
// caller started in the $3 µs before it: the windows of repeatWindows, one
// per call (consecutive calls' windows overlap into the same union), read
// from the rows themselves instead of 4 parameters per call.
const sqliteMarkNewRepeats = `UPDATE calls SET repeated = 1 WHERE id IN (
    SELECT c.id FROM calls AS n JOIN calls AS c ON c.from_number = n.from_number
        AND c.started_at >= n.started_at - $3 AND c.started_at < n.started_at AND c.id <> n.id AND c.repeated = 0
    WHERE n.id BETWEEN $1 AND $2 AND n.from_number <> '')`

// sqliteQueries are the statements writeCallsSQLite and markRepeatsSQLite
// prepare at Open, besides those per chunk size (sqliteSized).
func sqliteQueries() []string {
	return []string{callSeqSQLite, sqliteCompleteCall, sqliteMarkNewRepeats}
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

// writeCallsSQLite is upsertCalls on SQLite (see above). The calls the
// batch expects to be new (callRow.likelyNew: an answer) are not looked up
// first: they are inserted with ON CONFLICT DO NOTHING, and only when that
// insert skipped some are they looked up, the ones with an id above the
// sequence before the inserts being this batch's.
func (d *DB) writeCallsSQLite(ctx context.Context, tx *sql.Tx, rows []callRow) (map[callKey]callRef, error) {
	// guessed: inserted without a lookup; known: looked up first; fresh:
	// the known calls not found.
	guessed, known := splitGuessed(rows)
	var fresh []callRow
	refs := make(map[callKey]callRef, len(rows))
	if len(known) > 0 {
		found, err := d.probeCallsSQLite(ctx, tx, known)
		if err != nil {
			return nil, err
		}
		for i := range known {
			r := &known[i]
			if c, ok := found[callKey{r.provider, r.callID}]; ok {
				if err := d.existingCallSQLite(ctx, tx, c, r, refs); err != nil {
					return nil, err
				}
			} else {
				fresh = append(fresh, *r)
			}
		}
	}
	if len(fresh)+len(guessed) == 0 {
		return refs, nil
	}
	var seq, after int64
	if err := d.txQueryRow(ctx, tx, callSeqSQLite).Scan(&seq); err != nil {
		return nil, fmt.Errorf("insert calls: sequence: %w", err)
	}
	if _, err := d.insertCallsSQLite(ctx, tx, fresh, false); err != nil {
		return nil, err
	}
	n, err := d.insertCallsSQLite(ctx, tx, guessed, true)
	if err != nil {
		return nil, err
	}
	if err := d.txQueryRow(ctx, tx, callSeqSQLite).Scan(&after); err != nil {
		return nil, fmt.Errorf("insert calls: sequence: %w", err)
	}
	if n == int64(len(guessed)) && after-seq == int64(len(fresh)+len(guessed)) {
		id := seq
		for _, inserted := range [...][]callRow{fresh, guessed} { // in insertion order
			for _, r := range inserted {
				id++
				refs[callKey{r.provider, r.callID}] = callRef{id: id, inserted: true}
			}
		}
		return refs, nil
	}
	// Some guessed calls existed, or the ids are not seq+1 ... (never seen).
	if err := d.refsAfterInsert(ctx, tx, append(fresh, guessed...), seq, refs); err != nil {
		return nil, err
	}
	return refs, nil
}

// splitGuessed returns rows' calls to insert without a lookup (likelyNew)
// and the others, each sorted by call, in one array of rows' size.
func splitGuessed(rows []callRow) (guessed, known []callRow) {
	nGuessed := 0
	for i := range rows {
		if rows[i].likelyNew {
			nGuessed++
		}
	}
	buf := make([]callRow, len(rows))
	guessed, known = buf[:0:nGuessed], buf[nGuessed:nGuessed]
	for _, r := range rows {
		if r.likelyNew {
			guessed = append(guessed, r)
		} else {
			known = append(known, r)
		}
	}
	slices.SortFunc(guessed, byCall)
	slices.SortFunc(known, byCall)
	return guessed, known
}

// refsAfterInsert looks up the ids of the calls just inserted (rows, in
// insertion order; seq was the calls' sequence before) into refs: a call
// whose id is above seq was inserted by this batch, one below existed
// before it (a guessed call that was not new).
func (d *DB) refsAfterInsert(ctx context.Context, tx *sql.Tx, rows []callRow, seq int64, refs map[callKey]callRef) error {
	ids, err := d.probeCallsSQLite(ctx, tx, rows)
	if err != nil {
		return err
	}
	for i := range rows {
		r := &rows[i]
		c, ok := ids[callKey{r.provider, r.callID}]
		switch {
		case !ok:
			return fmt.Errorf("insert calls: %s/%s not found after its insert", r.provider, r.callID)
		case c.ref.id > seq:
			refs[callKey{r.provider, r.callID}] = callRef{id: c.ref.id, inserted: true}
		default: // a guessed call that existed before this batch
			if err := d.existingCallSQLite(ctx, tx, c, r, refs); err != nil {
				return err
			}
		}
	}
	return nil
}

// existingCallSQLite records the ref of r's call c, found in the store,
// and completes it when r completes it (needsUpdate).
func (d *DB) existingCallSQLite(ctx context.Context, tx *sql.Tx, c existingCall, r *callRow, refs map[callKey]callRef) error {
	refs[callKey{r.provider, r.callID}] = c.ref
	if !c.needsUpdate(r) {
		return nil
	}
	st, err := d.stmt(ctx, tx, sqliteCompleteCall)
	if err != nil {
		return fmt.Errorf("prepare call update: %w", err)
	}
	if _, err := st.ExecContext(ctx, c.ref.id, r.from, r.to, d.tv(r.start), txt(r.revision)); err != nil {
		return fmt.Errorf("update call %s/%s: %w", r.provider, r.callID, err)
	}
	return nil
}

// insertCallsSQLite inserts rows in order and returns how many it
// inserted: all or an error, unless skipExisting (then the calls that exist
// already are left as they are and not counted).
func (d *DB) insertCallsSQLite(ctx context.Context, tx *sql.Tx, rows []callRow, skipExisting bool) (int64, error) {
	var inserted int64
	args := make([]any, 0, 7<<maxRowsLog2)
	err := chunks(len(rows), func(lo, hi int) error {
		chunk := rows[lo:hi]
		args = args[:0]
		var q string
		if shared(chunk) {
			q = d.sized.insertCallsShared.of(len(chunk))
			if skipExisting {
				q = d.sized.insertNewCallsShared.of(len(chunk))
			}
			args = append(args, chunk[0].provider, chunk[0].to, txt(chunk[0].revision))
			for _, r := range chunk {
				args = append(args, r.callID, r.from, d.tv(r.start), r.events)
			}
		} else {
			q = d.sized.insertCalls.of(len(chunk))
			if skipExisting {
				q = d.sized.insertNewCalls.of(len(chunk))
			}
			for _, r := range chunk {
				args = append(args, r.provider, r.callID, r.from, r.to, d.tv(r.start), txt(r.revision), r.events)
			}
		}
		st, err := d.stmt(ctx, tx, q)
		if err != nil {
			return fmt.Errorf("prepare call insert: %w", err)
		}
		res, err := st.ExecContext(ctx, args...)
		if err != nil {
			return fmt.Errorf("insert calls: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("insert calls: %w", err)
		}
		inserted += n
		return nil
	})
	return inserted, err
}

// shared reports whether rows have one provider, called number and
// revision (sqliteInsertCallsShared).
func shared(rows []callRow) bool {
	for _, r := range rows[1:] {
		if r.provider != rows[0].provider || r.to != rows[0].to || r.revision != rows[0].revision {
			return false
		}
	}
	return true
}

// probeCallsSQLite reads which of rows' calls exist.
func (d *DB) probeCallsSQLite(ctx context.Context, tx *sql.Tx, rows []callRow) (map[callKey]existingCall, error) {
	found := map[callKey]existingCall{}
	args := make([]any, 0, 2<<maxRowsLog2)
	err := chunks(len(rows), func(lo, hi int) error {
		st, err := d.stmt(ctx, tx, d.sized.probeCalls.of(hi-lo))
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

// markRepeatsSQLite is markRepeats on SQLite. When the calls the batch
// inserted hold consecutive ids (always, unless the insert skipped some),
// one statement marks their callers' earlier calls from their own rows
// (sqliteMarkNewRepeats) and only the batch's other calls go through query
// rows (repeatWindows); otherwise every call does.
func (d *DB) markRepeatsSQLite(ctx context.Context, tx *sql.Tx, rows []callRow, refs map[callKey]callRef) error {
	var lo, hi, n int64
	for _, ref := range refs {
		if ref.inserted {
			if n == 0 || ref.id < lo {
				lo = ref.id
			}
			hi = max(hi, ref.id)
			n++
		}
	}
	if n > 0 && hi-lo+1 == n {
		st, err := d.stmt(ctx, tx, sqliteMarkNewRepeats)
		if err != nil {
			return fmt.Errorf("prepare repeat callers: %w", err)
		}
		if _, err := st.ExecContext(ctx, lo, hi, RepeatWindow.Microseconds()); err != nil {
			return fmt.Errorf("mark repeat callers: %w", err)
		}
		if int(n) == len(rows) {
			return nil
		}
		rest := make([]callRow, 0, len(rows)-int(n))
		for _, r := range rows {
			if !refs[callKey{r.provider, r.callID}].inserted {
				rest = append(rest, r)
			}
		}
		rows = rest
	}
	rs := repeatWindows(rows)
	args := make([]any, 0, 4<<maxRowsLog2)
	return chunks(len(rs), func(lo, hi int) error {
		st, err := d.stmt(ctx, tx, d.sized.markRepeats.of(hi-lo))
		if err != nil {
			return fmt.Errorf("prepare repeat callers: %w", err)
		}
		args = args[:0]
		for _, r := range rs[lo:hi] {
			args = append(args, r.from, d.tv(r.lo), d.tv(r.hi), refs[r.last].id)
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("mark repeat callers: %w", err)
		}
		return nil
	})
}
