package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
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
	revision                   string // of the batch's first event that has one
	ends                       bool   // one of the batch's events ends the call
	events                     []byte // the batch's events of the call, encoded (nil: none)
	likelyNew                  bool   // CallEvents.New: SQLite inserts it without a lookup first
}

// callKey identifies a call in the returned refs.
type callKey struct{ provider, callID string }

// maxRowsLog2: SQLite VALUES lists hold at most 2^7 = 128 rows (896
// parameters, far below SQLite's 32766).
const maxRowsLog2 = 7

// The call upsert writes a new call once, without its summary (computed
// when the call ends: summary.go) but with the batch's events of it (its
// events column, migration 0100: a new call's first request needs no
// call_requests row). An existing call's row is touched only when
// something a reader needs changes (a number or revision still empty, an
// earlier start), never its events (the batch's go to call_requests): the
// DO UPDATE's WHERE leaves it alone otherwise, and then RETURNING leaves it
// out (upsertCalls reads its id). A final call's revision is not set here:
// the batch summarises it again (ended), and that update sets an empty
// revision too; setting it here as well rewrote the row once more (a
// non-HOT update: revision is in calls_insight) and appended two rollup
// deltas, in the mixed load test for every call, whose final status
// arrives before the writer's batch of its answer and menu steps.
const upsertCallsColumns = `INSERT INTO calls (provider, call_id, from_number, to_number, started_at, revision, events)`

const upsertCallsSet = `
ON CONFLICT (provider, call_id) DO UPDATE SET
    from_number   = CASE WHEN calls.from_number = '' THEN excluded.from_number ELSE calls.from_number END,
    to_number     = CASE WHEN calls.to_number = '' THEN excluded.to_number ELSE calls.to_number END,
    started_at    = CASE WHEN excluded.started_at < calls.started_at THEN excluded.started_at ELSE calls.started_at END,
    revision      = CASE WHEN calls.revision = '' THEN excluded.revision ELSE calls.revision END
WHERE (calls.from_number = '' AND excluded.from_number <> '') OR (calls.to_number = '' AND excluded.to_number <> '')
    OR excluded.started_at < calls.started_at OR (calls.revision = '' AND excluded.revision <> '' AND calls.final = 0)`

// What the upsert returns: the row id, the key, final, and whether the row
// was inserted (its events are the batch's): xmax is 0 on a row this
// statement inserted.
const upsertReturningPostgres = `
RETURNING id, provider, call_id, final, (xmax = 0)::int`

// callRefsPostgres reads the ids of the calls the upsert did not touch.
const callRefsPostgres = `SELECT c.id, c.provider, c.call_id, c.final, 0 FROM unnest($1::text[], $2::text[]) AS k(p, i)
    JOIN calls c ON c.provider = k.p AND c.call_id = k.i`

// The rows go in in array order (the batch's, sorted by provider and call
// id: see lockCallsPostgres).
const upsertCallsPostgres = upsertCallsColumns + `
SELECT p, i, f, t, s, r, e FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::bytea[])
    WITH ORDINALITY AS u(p, i, f, t, s, r, e, n) ORDER BY n` + upsertCallsSet + upsertReturningPostgres

// Lock order on PostgreSQL. Two instances' batches (or one batch and
// another's repeat marking) used to lock call rows in different orders:
// each upsert locked its own calls, then the repeat marking wanted the
// earlier calls of the same callers, which the other batch's upsert held,
// while the other wanted ours ("mark repeat callers: deadlock detected").
// So a batch first locks, in one statement and in row id order, every
// existing call row it will change: its own calls and the repeat candidates
// (lockCallsPostgres). What it does after that waits only on rows it holds,
// on a call another transaction is inserting too (inserted in (provider,
// call id) order by every batch), or on a repeat candidate committed since
// (rare; the transaction is then retried, see writeBatch).
const lockCallsPostgres = `SELECT id FROM calls WHERE id IN (
    SELECT c.id FROM unnest($1::text[], $2::text[]) AS k(p, i) JOIN calls c ON c.provider = k.p AND c.call_id = k.i
    UNION ALL
    SELECT c.id FROM unnest($3::text[], $4::timestamptz[], $5::timestamptz[]) AS v(f, lo, hi)
        JOIN calls c ON c.from_number = v.f AND c.started_at >= v.lo AND c.started_at < v.hi AND c.repeated = 0)
ORDER BY id FOR NO KEY UPDATE`

// Repeat callers (insights_write.go): the calls of the same caller in the
// 24 hours before each call of the batch, in one statement per batch, its
// rows locked in id order (the same order as lockCallsPostgres).
const markRepeatsPostgres = `UPDATE calls SET repeated = 1 WHERE id IN (
    SELECT calls.id FROM calls JOIN unnest($1::text[], $2::timestamptz[], $3::timestamptz[], $4::bigint[]) AS v(f, lo, hi, ref)
        ON calls.from_number = v.f AND calls.started_at >= v.lo AND calls.started_at < v.hi AND calls.id <> v.ref AND calls.repeated = 0
    ORDER BY calls.id FOR NO KEY UPDATE OF calls)`

func sqliteMarkRepeats(n int) string {
	return `UPDATE calls SET repeated = 1 FROM (VALUES ` + valueRows(4, n) + `) AS v
WHERE calls.from_number = v.column1 AND calls.started_at >= v.column2 AND calls.started_at < v.column3
    AND calls.id <> v.column4 AND calls.repeated = 0`
}

// sqliteValues is "INSERT ... VALUES (?, ...), ..." with n rows of cols.
func sqliteValues(head string, cols, n int) string {
	return head + " VALUES " + valueRows(cols, n)
}

// valueRows is n rows "(?, ...)" of cols parameters, comma-separated.
func valueRows(cols, n int) string {
	row := "(?" + strings.Repeat(", ?", cols-1) + ")"
	return row + strings.Repeat(", "+row, n-1)
}

// preparedQueries are the statements prepared once, at Open: the batch's,
// and the status callback's (parsing its upsert was most of a callback's
// CPU on SQLite, whose driver keeps no statement cache).
func preparedQueries(driver string) []string {
	qs := []string{upsertStatus, upsertStatusReturning(driver), completeCallSQL, summaryCallsSQL(driver), summariseSQL(driver), insertVoicemail}
	if driver == DriverPostgres {
		return append(qs, callRefsPostgres, lockCallsPostgres, upsertCallsPostgres, insertRequestsPostgres, markRepeatsPostgres, upsertMenuDaysPostgres)
	}
	qs = append(qs, upsertMenuDay)
	qs = append(qs, sqliteQueries()...)
	for size := 1; size <= 1<<maxRowsLog2; size <<= 1 {
		qs = append(qs, sqliteInsertRequests(size), sqliteMarkRepeats(size))
	}
	return qs
}

// prepare prepares preparedQueries once, at Open (a
// one-connection in-memory database could not prepare them later, while a
// transaction holds its connection). database/sql prepares each again on
// every connection that uses it, once.
func (d *DB) prepare(ctx context.Context) error {
	d.stmts = map[string]*sql.Stmt{}
	for _, q := range preparedQueries(d.driver) {
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
		return nil, fmt.Errorf("statement not prepared at Open (%.40s)", query)
	}
	return tx.StmtContext(ctx, st), nil
}

// txQueryRow is tx.QueryRowContext, on the statement prepared at Open when
// query is one of preparedQueries.
func (d *DB) txQueryRow(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	if st, ok := d.stmts[query]; ok {
		return tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, query, args...)
}

// txQuery is tx.QueryContext, on the statement prepared at Open when query
// is one of preparedQueries.
func (d *DB) txQuery(ctx context.Context, tx *sql.Tx, query string, args ...any) (*sql.Rows, error) {
	if st, ok := d.stmts[query]; ok {
		return tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return tx.QueryContext(ctx, query, args...)
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

// callRef is what the upsert tells of one call of the batch.
type callRef struct {
	id       int64
	final    bool // a final status arrived already
	inserted bool // the upsert created it, with the batch's events in its row
}

// upsertCalls creates the batch's new calls and completes the others
// (upsertCallsSet); it returns every call's row id, whether it is final and
// whether this upsert created it. SQLite: writeCallsSQLite.
func (d *DB) upsertCalls(ctx context.Context, tx *sql.Tx, rows []callRow) (map[callKey]callRef, error) {
	if d.driver != DriverPostgres {
		return d.writeCallsSQLite(ctx, tx, rows)
	}
	refs := make(map[callKey]callRef, len(rows))
	read := func(r *sql.Rows, err error) error {
		if err != nil {
			return fmt.Errorf("upsert calls: %w", err)
		}
		defer r.Close()
		for r.Next() {
			var (
				id, f, ins int64
				k          callKey
			)
			if err := r.Scan(&id, &k.provider, &k.callID, &f, &ins); err != nil {
				return fmt.Errorf("upsert calls: %w", err)
			}
			refs[k] = callRef{id: id, final: f != 0, inserted: ins != 0}
		}
		if err := r.Err(); err != nil {
			return fmt.Errorf("upsert calls: %w", err)
		}
		return r.Close()
	}
	st, err := d.stmt(ctx, tx, upsertCallsPostgres)
	if err != nil {
		return nil, fmt.Errorf("prepare call upsert: %w", err)
	}
	if err := read(st.QueryContext(ctx, postgresCallColumns(rows)...)); err != nil {
		return nil, err
	}
	// The calls whose row needed no change.
	var providers, ids []string
	for _, r := range rows {
		if _, ok := refs[callKey{r.provider, r.callID}]; !ok {
			providers, ids = append(providers, r.provider), append(ids, r.callID)
		}
	}
	if len(ids) > 0 {
		st, err := d.stmt(ctx, tx, callRefsPostgres)
		if err != nil {
			return nil, fmt.Errorf("prepare call ids: %w", err)
		}
		if err := read(st.QueryContext(ctx, providers, ids)); err != nil {
			return nil, err
		}
	}
	for _, r := range rows {
		if _, ok := refs[callKey{r.provider, r.callID}]; !ok {
			return nil, fmt.Errorf("upsert calls: %s/%s neither written nor found", r.provider, r.callID)
		}
	}
	return refs, nil
}

// postgresCallColumns are upsertCallsPostgres's arguments: one array per column.
func postgresCallColumns(rows []callRow) []any {
	n := len(rows)
	var texts [5][]string
	for i := range texts {
		texts[i] = make([]string, n)
	}
	starts, events := make([]time.Time, n), make([][]byte, n)
	for i, r := range rows {
		texts[0][i], texts[1][i], texts[2][i], texts[3][i], texts[4][i] = r.provider, r.callID, r.from, r.to, txt(r.revision)
		starts[i] = r.start.UTC().Truncate(time.Microsecond)
		events[i] = r.events
	}
	return []any{texts[0], texts[1], texts[2], texts[3], starts, texts[4], events}
}

// repeat is one query row of the repeat marking: the calls of caller from
// started in [lo, hi), but the batch's call last (whose start is hi).
type repeat struct {
	from   string
	lo, hi time.Time
	last   callKey
}

// repeatWindows returns the batch's repeat query rows. The calls of one
// caller in a batch share a query row: their windows [start - 24h, start)
// chain into one, [first - 24h, last), when no two consecutive starts are a
// window apart; each query row costs an index range scan.
func repeatWindows(rows []callRow) []repeat {
	// The calls with a caller number, by caller then start (stable: one
	// caller's calls keep batch order at equal starts).
	order := make([]int32, 0, len(rows))
	for i := range rows {
		if rows[i].from != "" {
			order = append(order, int32(i))
		}
	}
	slices.SortStableFunc(order, func(a, b int32) int {
		return cmp.Or(strings.Compare(rows[a].from, rows[b].from), rows[a].start.Compare(rows[b].start))
	})
	rs := make([]repeat, 0, len(order))
	for i := 0; i < len(order); {
		first := &rows[order[i]]
		j := i
		for j+1 < len(order) && rows[order[j+1]].from == first.from && rows[order[j+1]].start.Sub(rows[order[j]].start) < RepeatWindow {
			j++
		}
		last := &rows[order[j]]
		rs = append(rs, repeat{first.from, first.start.Add(-RepeatWindow), last.start, callKey{last.provider, last.callID}})
		i = j + 1
	}
	return rs
}

// lockCalls takes, on PostgreSQL, the row locks of every existing call the
// batch will change, in id order (see lockCallsPostgres); rows must be
// sorted by (provider, call id). Nothing to do on SQLite, whose writers
// hold the database's write lock from BEGIN (IMMEDIATE).
func (d *DB) lockCalls(ctx context.Context, tx *sql.Tx, rows []callRow, rs []repeat) error {
	if d.driver != DriverPostgres {
		return nil
	}
	providers, ids := make([]string, len(rows)), make([]string, len(rows))
	for i, r := range rows {
		providers[i], ids[i] = r.provider, r.callID
	}
	froms, los, his := make([]string, len(rs)), make([]time.Time, len(rs)), make([]time.Time, len(rs))
	for i, r := range rs {
		froms[i], los[i], his[i] = r.from, r.lo.UTC().Truncate(time.Microsecond), r.hi.UTC().Truncate(time.Microsecond)
	}
	st, err := d.stmt(ctx, tx, lockCallsPostgres)
	if err != nil {
		return fmt.Errorf("prepare call locks: %w", err)
	}
	locked, err := st.QueryContext(ctx, providers, ids, froms, los, his)
	if err != nil {
		return fmt.Errorf("lock calls: %w", err)
	}
	defer locked.Close()
	for locked.Next() {
	}
	if err := locked.Err(); err != nil {
		return fmt.Errorf("lock calls: %w", err)
	}
	return locked.Close()
}

// markRepeats flags, for each call of the batch with a caller number, the
// earlier calls of that caller in the RepeatWindow before it (query rows
// rs, from repeatWindows).
func (d *DB) markRepeats(ctx context.Context, tx *sql.Tx, rs []repeat, refs map[callKey]callRef) error {
	if len(rs) == 0 {
		return nil
	}
	if d.driver == DriverPostgres {
		n := len(rs)
		froms, los, his, ids := make([]string, n), make([]time.Time, n), make([]time.Time, n), make([]int64, n)
		for i, r := range rs {
			froms[i], los[i], his[i], ids[i] = r.from, r.lo.UTC().Truncate(time.Microsecond), r.hi.UTC().Truncate(time.Microsecond), refs[r.last].id
		}
		st, err := d.stmt(ctx, tx, markRepeatsPostgres)
		if err != nil {
			return fmt.Errorf("prepare repeat callers: %w", err)
		}
		if _, err := st.ExecContext(ctx, froms, los, his, ids); err != nil {
			return fmt.Errorf("mark repeat callers: %w", err)
		}
		return nil
	}
	args := make([]any, 0, 4<<maxRowsLog2)
	return chunks(len(rs), func(lo, hi int) error {
		st, err := d.stmt(ctx, tx, sqliteMarkRepeats(hi-lo))
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
