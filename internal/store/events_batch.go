package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"math/bits"
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

// A new call is written once, without its summary (computed when the call
// ends: summary.go) but with the batch's events of it (its events column,
// migration 0100: a new call's first request needs no call_requests row).
// An existing call's row is touched only when something a reader needs
// changes (a number or revision still empty, an earlier start:
// existingCall.needsUpdate), never its events (the batch's go to
// call_requests). A final call's revision is not set then: the batch
// summarises it again (ended), and that update sets an empty revision too;
// setting it as well rewrote the row once more (a non-HOT update: revision
// is in calls_insight) and appended two rollup deltas, in the mixed load
// test for every call, whose final status arrives before the writer's batch
// of its answer and menu steps. PostgreSQL: events_batch_postgres.go;
// SQLite: events_batch_sqlite.go.

// Repeat callers (insights_write.go): the calls of the same caller in the
// 24 hours before each call of the batch, marked by one statement per
// batch (SQLite; PostgreSQL marks the candidates its probe locked).
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
// CPU on SQLite, whose driver keeps no statement cache). sized holds
// SQLite's statements written per chunk size (nil on PostgreSQL).
func preparedQueries(driver string, sized *sqliteSized) []string {
	qs := []string{upsertStatus, upsertStatusReturning(driver), completeCallSQL, summaryCallsSQL(driver), summariseSQL(driver), insertVoicemail}
	if driver == DriverPostgres {
		qs = append(qs, postgresBatchQueries...)
		return append(qs, insertRequestsPostgres, upsertMenuDaysPostgres, upsertStatusClaim, upsertStatusClaims, summariseManyPostgres, lockCallByKeySQL, claimSummarisedSQL)
	}
	qs = append(qs, upsertMenuDay)
	qs = append(qs, sqliteQueries()...)
	for _, s := range sized.all() {
		qs = append(qs, s[:]...)
	}
	return qs
}

// sizedSQL is a statement written in one form per chunk size (2^k rows, k
// <= maxRowsLog2), its texts made once, at Open, instead of for every
// chunk of every batch (the 128-row insert of calls is ~5 KB of text,
// 15-35 µs to build).
type sizedSQL [maxRowsLog2 + 1]string

func newSizedSQL(build func(n int) string) sizedSQL {
	var s sizedSQL
	for k := range s {
		s[k] = build(1 << k)
	}
	return s
}

// of is the form for n rows, a chunk's size (a power of two).
func (s *sizedSQL) of(n int) string { return s[bits.Len(uint(n))-1] }

// sqliteSized are SQLite's statements written per chunk size.
type sqliteSized struct {
	probeCalls, insertCalls, insertNewCalls, insertRequests, markRepeats sizedSQL
	insertCallsShared, insertNewCallsShared                              sizedSQL
}

func newSQLiteSized() *sqliteSized {
	return &sqliteSized{
		probeCalls:     newSizedSQL(sqliteProbeCalls),
		insertCalls:    newSizedSQL(sqliteInsertCalls),
		insertNewCalls: newSizedSQL(sqliteInsertNewCalls),
		insertRequests: newSizedSQL(sqliteInsertRequests),
		markRepeats:    newSizedSQL(sqliteMarkRepeats),

		insertCallsShared:    newSizedSQL(sqliteInsertCallsShared),
		insertNewCallsShared: newSizedSQL(sqliteInsertNewCallsShared),
	}
}

// all is every statement of s (none for a nil s).
func (s *sqliteSized) all() []*sizedSQL {
	if s == nil {
		return nil
	}
	return []*sizedSQL{&s.probeCalls, &s.insertCalls, &s.insertNewCalls, &s.insertRequests, &s.markRepeats,
		&s.insertCallsShared, &s.insertNewCallsShared}
}

// prepare prepares preparedQueries once, at Open (a
// one-connection in-memory database could not prepare them later, while a
// transaction holds its connection). database/sql prepares each again on
// every connection that uses it, once.
func (d *DB) prepare(ctx context.Context) error {
	d.stmts = map[string]*sql.Stmt{}
	if d.driver == DriverSQLite {
		d.sized = newSQLiteSized()
	}
	for _, q := range preparedQueries(d.driver, d.sized) {
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
// (existingCall.needsUpdate); it returns every call's row id, whether it is
// final and whether this batch created it. rows are sorted by (provider,
// call id) on PostgreSQL (SQLite sorts its copies), rs are the batch's
// repeat windows (repeatWindows), which PostgreSQL marks here (SQLite:
// markRepeats, after).
func (d *DB) upsertCalls(ctx context.Context, tx *sql.Tx, rows []callRow, rs []repeat) (map[callKey]callRef, error) {
	if d.driver == DriverPostgres {
		return d.writeCallsPostgres(ctx, tx, rows, rs)
	}
	return d.writeCallsSQLite(ctx, tx, rows)
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

// markRepeats flags, for each call of the batch with a caller number, the
// earlier calls of that caller in the RepeatWindow before it. PostgreSQL
// marked them in upsertCalls; SQLite: markRepeatsSQLite.
func (d *DB) markRepeats(ctx context.Context, tx *sql.Tx, rows []callRow, refs map[callKey]callRef) error {
	if d.driver == DriverPostgres || !slices.ContainsFunc(rows, func(r callRow) bool { return r.from != "" }) {
		return nil
	}
	return d.markRepeatsSQLite(ctx, tx, rows, refs)
}
