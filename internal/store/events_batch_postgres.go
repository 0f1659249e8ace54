package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// PostgreSQL writes a batch's calls much as SQLite does
// (events_batch_sqlite.go): one statement reads and locks the existing
// ones, one multi-row INSERT writes the new ones, and one UPDATE the rare
// existing calls the batch completes. A new call costs one probe of the
// calls' key, its row and its index entries, and one probe of its caller's
// earlier calls. The upsert this replaces (INSERT ... ON CONFLICT DO
// UPDATE after a lock statement) also ran the DO UPDATE's machinery and
// read the ids of the calls it left alone, and the repeat marking probed
// each caller's earlier calls twice (to lock them, then to mark them).
//
// Lock order. Two instances' batches (or one batch and another's repeat
// marking) used to lock call rows in different orders: each upsert locked
// its own calls, then the repeat marking wanted the earlier calls of the
// same callers, which the other batch's upsert held, while the other wanted
// ours ("mark repeat callers: deadlock detected"). So a batch first reads
// and locks, in one statement and in row id order, every existing call row
// it may change: its own calls and the repeat candidates (probeCallsPostgres).
// What it does after that waits only on rows it holds or on a call another
// transaction is inserting too (new calls go in in (provider, call id)
// order in every batch, ON CONFLICT DO NOTHING). A call another transaction
// inserted since the probe (a status callback, mostly) is then read and
// locked by its key (out of id order: a deadlock there is rare and retried,
// see writeRetry) and treated as an existing call.
//
// An answer's entry (CallEvents.New, callRow.likelyNew) is not looked up
// first: its insert is the lookup (the answers' batch of new calls then
// reads each key once, not twice). One whose call exists after all (a
// status callback came first) is locked after the insert, out of id order,
// so without waiting (NOWAIT): when another transaction holds it, the
// batch runs again and looks every call up first (errAnswerBusy).
//
// Repeat callers (insights_write.go): the calls of the same caller in the
// 24 hours before each call of the batch. The stored ones are the
// candidates the probe locked (it read them: no second probe), marked by id
// when there are any; the batch's new calls are inserted marked when a
// later call of the batch repeats them (repeatedInBatch). A call of the
// same caller that another transaction commits between the probe and this
// batch's commit is not marked by it (two instances answering one caller
// within milliseconds); the marking this replaces, one statement after the
// upsert, had the same gap, a few statements shorter.

// probeCallsPostgres finds the batch's existing calls ($1, $2: providers
// and call ids; key = their 1-based position) and the repeat candidates
// ($3-$5: callers and windows, repeatWindows; win = its 1-based position),
// one row per way a call was found. Each key and window is one index probe
// whatever the statistics say: OFFSET 0 keeps the planner from turning
// the lateral subqueries into a join, which (a hash join over a sequential
// scan of calls, chosen while calls was small) made this read cost more
// than the whole batch.
const probeCallsPostgres = `SELECT c.id, k.n, 0 FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(p, i, n)
    CROSS JOIN LATERAL (SELECT id FROM calls WHERE provider = k.p AND call_id = k.i OFFSET 0) c
UNION ALL
SELECT c.id, 0, v.n FROM unnest($3::text[], $4::timestamptz[], $5::timestamptz[]) WITH ORDINALITY AS v(f, lo, hi, n)
    CROSS JOIN LATERAL (SELECT id FROM calls WHERE from_number = v.f AND started_at >= v.lo AND started_at < v.hi AND repeated = 0 OFFSET 0) c`

// lockCallsPostgres locks the calls the probe found, in row id order, and
// reads them (FOR NO KEY UPDATE: their newest version, a concurrent status
// callback may have made one final meanwhile). A batch of new calls finds
// none and skips it.
const lockCallsPostgres = `SELECT id, final, from_number, to_number, started_at, revision FROM calls
WHERE id = ANY($1::bigint[]) ORDER BY id FOR NO KEY UPDATE`

// lockCallsNowaitPostgres locks an answer's call found existing only at
// its insert (see writeCallsPostgres): out of id order, so it does not wait.
const lockCallsNowaitPostgres = lockCallsPostgres + ` NOWAIT`

// errAnswerBusy: an answer's call found existing at its insert was locked
// by another transaction. The batch runs again (retryable), looking every
// call up first (writeCallsPostgres).
var errAnswerBusy = errors.New("an answer's call exists and another transaction holds it")

// insertNewCallsPostgres inserts the batch's new calls, in array order
// (by provider and call id), with their first request's events and
// whether they are repeats (repeatedInBatch). RETURNING gives their ids in
// that order. It fails whole when one of them exists already
// (insertCallsPostgres, the function, then uses the statement below).
const insertNewCallsPostgres = insertCallRows + `
RETURNING id, provider, call_id`

// insertCallsPostgres is insertNewCallsPostgres leaving out the calls
// another transaction inserted since the probe: RETURNING gives the ids of
// those it inserted.
const insertCallsPostgres = insertCallRows + `
ON CONFLICT (provider, call_id) DO NOTHING
RETURNING id, provider, call_id`

// insertCallRows is the insert both statements above share.
const insertCallRows = `INSERT INTO calls (provider, call_id, from_number, to_number, started_at, revision, events, repeated)
SELECT p, i, f, t, s, r, e, m FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::bytea[], $8::int[])
    WITH ORDINALITY AS u(p, i, f, t, s, r, e, m, n) ORDER BY n`

// completeCallsPostgres completes existing calls (existingCall.needsUpdate):
// a number or revision still empty, an earlier start. A final call's
// revision is left to its summary, which sets an empty one.
const completeCallsPostgres = `UPDATE calls SET
    from_number = CASE WHEN calls.from_number = '' THEN u.f ELSE calls.from_number END,
    to_number   = CASE WHEN calls.to_number = '' THEN u.t ELSE calls.to_number END,
    started_at  = LEAST(calls.started_at, u.s),
    revision    = CASE WHEN calls.revision = '' THEN u.r ELSE calls.revision END
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[], $5::text[]) AS u(id, f, t, s, r)
WHERE calls.id = u.id`

// markRepeatsPostgres marks stored calls the batch repeats (locked already).
const markRepeatsPostgres = `UPDATE calls SET repeated = 1 WHERE id = ANY($1::bigint[]) AND repeated = 0`

// postgresBatchQueries are the statements writeCallsPostgres prepares at Open.
var postgresBatchQueries = []string{probeCallsPostgres, lockCallsPostgres, lockCallsNowaitPostgres, insertCallsPostgres, insertNewCallsPostgres, completeCallsPostgres, markRepeatsPostgres}

// writeCallsPostgres is upsertCalls on PostgreSQL (see above); rows are
// sorted by (provider, call id), rs are the batch's repeat windows.
func (d *DB) writeCallsPostgres(ctx context.Context, tx *sql.Tx, rows []callRow, rs []repeat) (map[callKey]callRef, error) {
	probe := make([]int, 0, len(rows)) // the calls to look up: not an answer's
	for i := range rows {
		if !rows[i].likelyNew {
			probe = append(probe, i)
		}
	}
	found, candidates, err := d.probeCallsPostgres(ctx, tx, rows, probe, rs, false)
	if err != nil {
		return nil, err
	}
	refs := make(map[callKey]callRef, len(rows))
	fresh := make([]int, 0, len(rows))
	for i := range rows {
		if _, ok := found[i]; !ok {
			fresh = append(fresh, i)
		}
	}
	if afterCallProbe != nil {
		afterCallProbe()
	}
	var repeats []int64 // the stored calls the batch repeats
	marks := repeatedInBatch(rows, fresh, rs)
	// A call another transaction inserted since the probe is read instead;
	// one deleted again meanwhile (retention) is inserted again.
	for attempt := 0; len(fresh) > 0; attempt++ {
		if attempt == 3 {
			return nil, fmt.Errorf("insert calls: %d calls neither inserted nor found, 3 times", len(fresh))
		}
		late, err := d.insertCallsPostgres(ctx, tx, rows, fresh, marks, refs, attempt == 0)
		if err != nil {
			return nil, err
		}
		if len(late) == 0 {
			break
		}
		var reps []int64
		if fresh, marks, reps, err = d.lateCallsPostgres(ctx, tx, rows, late, found); err != nil {
			return nil, err
		}
		repeats = append(repeats, reps...)
	}
	var complete []int
	for i := range rows {
		if c, ok := found[i]; ok {
			refs[callKey{rows[i].provider, rows[i].callID}] = c.ref
			if c.needsUpdate(&rows[i]) {
				complete = append(complete, i)
			}
		}
	}
	if err := d.completeCallsPostgres(ctx, tx, rows, complete, found); err != nil {
		return nil, err
	}
	for _, c := range candidates {
		// A window's own last call may lie in it (stored, started earlier).
		if last, ok := refs[rs[c.win].last]; !ok || last.id != c.id {
			repeats = append(repeats, c.id)
		}
	}
	if err := d.markRepeatsPostgres(ctx, tx, repeats); err != nil {
		return nil, err
	}
	return refs, nil
}

// afterCallProbe, when set (by tests), runs between a batch's probe and its
// insert, where another transaction may insert one of its calls.
var afterCallProbe func()

// candidate is a repeat candidate the probe locked: call id in window win.
type candidate struct {
	id  int64
	win int
}

// probeCallsPostgres finds (probeCallsPostgres) and locks
// (lockCallsPostgres) the batch's existing calls, by their index in rows,
// and the repeat candidates. A call deleted in between (retention) is
// left out.
func (d *DB) probeCallsPostgres(ctx context.Context, tx *sql.Tx, rows []callRow, probe []int, rs []repeat, nowait bool) (map[int]existingCall, []candidate, error) {
	providers, ids := make([]string, len(probe)), make([]string, len(probe))
	for j, i := range probe {
		providers[j], ids[j] = rows[i].provider, rows[i].callID
	}
	froms, los, his := make([]string, len(rs)), make([]time.Time, len(rs)), make([]time.Time, len(rs))
	for i, r := range rs {
		froms[i], los[i], his[i] = r.from, r.lo.UTC().Truncate(time.Microsecond), r.hi.UTC().Truncate(time.Microsecond)
	}
	st, err := d.stmt(ctx, tx, probeCallsPostgres)
	if err != nil {
		return nil, nil, fmt.Errorf("prepare call lookup: %w", err)
	}
	res, err := st.QueryContext(ctx, textArray(providers), textArray(ids), textArray(froms), timeArray(los), timeArray(his))
	if err != nil {
		return nil, nil, fmt.Errorf("look up calls: %w", err)
	}
	defer res.Close()
	keys := map[int64]int{} // existing call id -> its index in rows
	var candidates []candidate
	var lock []int64
	for res.Next() {
		var (
			id       int64
			key, win int
		)
		if err := res.Scan(&id, &key, &win); err != nil {
			return nil, nil, fmt.Errorf("look up calls: %w", err)
		}
		lock = append(lock, id)
		switch {
		case win > 0 && win <= len(rs):
			candidates = append(candidates, candidate{id, win - 1})
		case win == 0 && key > 0 && key <= len(probe):
			keys[id] = probe[key-1]
		default:
			return nil, nil, fmt.Errorf("look up calls: key %d, window %d out of the batch's %d calls, %d windows", key, win, len(probe), len(rs))
		}
	}
	if err := res.Err(); err != nil {
		return nil, nil, fmt.Errorf("look up calls: %w", err)
	}
	if err := res.Close(); err != nil {
		return nil, nil, fmt.Errorf("look up calls: %w", err)
	}
	found, err := d.lockCallsPostgres(ctx, tx, lock, keys, nowait)
	return found, candidates, err
}

// lockCallsPostgres locks the calls ids and returns those of keys (call id
// -> index in the batch's rows) as found.
func (d *DB) lockCallsPostgres(ctx context.Context, tx *sql.Tx, ids []int64, keys map[int64]int, nowait bool) (map[int]existingCall, error) {
	found := make(map[int]existingCall, len(keys))
	if len(ids) == 0 {
		return found, nil
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	query := lockCallsPostgres
	if nowait {
		query = lockCallsNowaitPostgres
	}
	st, err := d.stmt(ctx, tx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare call locks: %w", err)
	}
	res, err := st.QueryContext(ctx, ids)
	if err != nil {
		var pe *pgconn.PgError
		if nowait && errors.As(err, &pe) && pe.Code == "55P03" {
			return nil, fmt.Errorf("lock calls: %w: %w", errAnswerBusy, err)
		}
		return nil, fmt.Errorf("lock calls: %w", err)
	}
	defer res.Close()
	for res.Next() {
		var (
			c     existingCall
			final int64
			start time.Time
		)
		if err := res.Scan(&c.ref.id, &final, &c.from, &c.to, &start, &c.revision); err != nil {
			return nil, fmt.Errorf("lock calls: %w", err)
		}
		if i, ok := keys[c.ref.id]; ok {
			c.ref.final, c.start = final != 0, start.UnixMicro()
			found[i] = c
		}
	}
	if err := res.Err(); err != nil {
		return nil, fmt.Errorf("lock calls: %w", err)
	}
	return found, res.Close()
}

// repeatedInBatch says, for each new call of the batch (rows[fresh[j]]),
// whether a later call of the batch repeats it: it lies in a repeat window
// (rs) of its caller that is not its own (a window's last call is the one
// whose start ends it), as markRepeats marks stored calls.
func repeatedInBatch(rows []callRow, fresh []int, rs []repeat) []int32 {
	marks := make([]int32, len(fresh))
	if len(rs) == 0 {
		return marks
	}
	// rs is by caller then start (repeatWindows): a caller's windows are
	// one run of it.
	byFrom := make(map[string]int, len(rs))
	for i := len(rs) - 1; i >= 0; i-- {
		byFrom[rs[i].from] = i
	}
	for j, i := range fresh {
		r := &rows[i]
		w, ok := byFrom[r.from]
		if r.from == "" || !ok {
			continue
		}
		key := callKey{r.provider, r.callID}
		for ; w < len(rs) && rs[w].from == r.from; w++ {
			if rs[w].last != key && !r.start.Before(rs[w].lo) && r.start.Before(rs[w].hi) {
				marks[j] = 1
				break
			}
		}
	}
	return marks
}

// insertCallsPostgres inserts rows[fresh] (in order: by provider and call
// id) marked as marks says, adds their refs and returns those another
// transaction inserted first.
//
// A first attempt (first) inserts without ON CONFLICT, in a savepoint:
// PostgreSQL then looks each new key up once, at its insert into the key
// index, instead of twice (the conflict check before the insert, then the
// insert), about 2 µs less of the database's CPU per new call (docs/
// performance.md). When one of the calls exists after all (its status
// callback created it, or another server inserted it meanwhile), that
// insert fails whole, is rolled back to the savepoint, and the calls are
// inserted with ON CONFLICT DO NOTHING, as every later attempt does.
func (d *DB) insertCallsPostgres(ctx context.Context, tx *sql.Tx, rows []callRow, fresh []int, marks []int32, refs map[callKey]callRef, first bool) ([]lateCall, error) {
	if len(fresh) == 0 {
		return nil, nil
	}
	n := len(fresh)
	var texts [5][]string
	for i := range texts {
		texts[i] = make([]string, n)
	}
	starts, events := make([]time.Time, n), make([][]byte, n)
	for j, i := range fresh {
		r := &rows[i]
		texts[0][j], texts[1][j], texts[2][j], texts[3][j], texts[4][j] = r.provider, r.callID, r.from, r.to, txt(r.revision)
		starts[j] = r.start.UTC().Truncate(time.Microsecond)
		events[j] = r.events
	}
	args := []any{textArray(texts[0]), textArray(texts[1]), textArray(texts[2]), textArray(texts[3]), timeArray(starts), textArray(texts[4]), byteaArray(events), marks}
	ins := insertedCalls{providers: texts[0], callIDs: texts[1], fresh: fresh, marks: marks}
	if first {
		if _, err := tx.ExecContext(ctx, "SAVEPOINT new_calls"); err != nil {
			return nil, fmt.Errorf("insert calls: savepoint: %w", err)
		}
		err := d.readInserted(ctx, tx, insertNewCallsPostgres, args, &ins)
		if err == nil {
			if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT new_calls"); err != nil {
				return nil, fmt.Errorf("insert calls: release savepoint: %w", err)
			}
			return ins.add(refs), nil
		}
		if !uniqueViolation(err) {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT new_calls"); err != nil {
			return nil, fmt.Errorf("insert calls: rollback to savepoint: %w", err)
		}
		ins.ids, ins.late = ins.ids[:0], ins.late[:0]
	}
	if err := d.readInserted(ctx, tx, insertCallsPostgres, args, &ins); err != nil {
		return nil, err
	}
	return ins.add(refs), nil
}

// insertedCalls is what an insert of new calls returned: the ids of those
// it inserted, in array order, and those another transaction inserted
// first (late).
type insertedCalls struct {
	providers, callIDs []string // the inserted arrays' keys
	fresh              []int
	marks              []int32
	keys               []callKey
	ids                []int64
	late               []lateCall
}

// add adds the inserted calls' refs and returns the late ones.
func (ins *insertedCalls) add(refs map[callKey]callRef) []lateCall {
	for j, key := range ins.keys {
		refs[key] = callRef{id: ins.ids[j], inserted: true}
	}
	return ins.late
}

// readInserted runs query, an insert of new calls, and reads what it
// returned into ins.
func (d *DB) readInserted(ctx context.Context, tx *sql.Tx, query string, args []any, ins *insertedCalls) error {
	ins.keys, ins.ids, ins.late = ins.keys[:0], ins.ids[:0], ins.late[:0]
	st, err := d.stmt(ctx, tx, query)
	if err != nil {
		return fmt.Errorf("prepare call insert: %w", err)
	}
	res, err := st.QueryContext(ctx, args...)
	if err != nil {
		return fmt.Errorf("insert calls: %w", err)
	}
	defer res.Close()
	n := len(ins.fresh)
	j := 0 // the rows come back in array order, without the late ones
	for res.Next() {
		var (
			id  int64
			key callKey
		)
		if err := res.Scan(&id, &key.provider, &key.callID); err != nil {
			return fmt.Errorf("insert calls: %w", err)
		}
		for ; j < n && (ins.providers[j] != key.provider || ins.callIDs[j] != key.callID); j++ {
			ins.late = append(ins.late, lateCall{ins.fresh[j], ins.marks[j] != 0})
		}
		if j == n {
			return fmt.Errorf("insert calls: %s/%s returned out of order", key.provider, key.callID)
		}
		ins.keys, ins.ids = append(ins.keys, key), append(ins.ids, id)
		j++
	}
	if err := res.Err(); err != nil {
		return fmt.Errorf("insert calls: %w", err)
	}
	for ; j < n; j++ {
		ins.late = append(ins.late, lateCall{ins.fresh[j], ins.marks[j] != 0})
	}
	return res.Close()
}

// uniqueViolation says whether err is PostgreSQL's unique_violation (23505).
func uniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// lateCall is a new call of the batch another transaction inserted first.
type lateCall struct {
	row    int  // its index in the batch's rows
	repeat bool // the batch repeats it (repeatedInBatch)
}

// lateCallsPostgres reads and locks the late calls into found. It returns
// those it did not find (deleted since: their rows and marks, to insert
// again) and the ids of those found that the batch repeats.
func (d *DB) lateCallsPostgres(ctx context.Context, tx *sql.Tx, rows []callRow, late []lateCall, found map[int]existingCall) (missing []int, marks []int32, repeats []int64, err error) {
	probe := make([]int, len(late))
	nowait := false // an answer's call, not looked up before
	for j, l := range late {
		probe[j] = l.row
		nowait = nowait || rows[l.row].likelyNew
	}
	got, _, err := d.probeCallsPostgres(ctx, tx, rows, probe, nil, nowait)
	if errors.Is(err, errAnswerBusy) {
		for i := range rows {
			rows[i].likelyNew = false // the next run looks them up first
		}
	}
	if err != nil {
		return nil, nil, nil, err
	}
	for _, l := range late {
		c, ok := got[l.row]
		if !ok {
			mark := int32(0)
			if l.repeat {
				mark = 1
			}
			missing, marks = append(missing, l.row), append(marks, mark)
			continue
		}
		found[l.row] = c
		if l.repeat {
			repeats = append(repeats, c.ref.id)
		}
	}
	return missing, marks, repeats, nil
}

// completeCallsPostgres updates the existing calls rows[complete] that the
// batch completes (found: the probe's).
func (d *DB) completeCallsPostgres(ctx context.Context, tx *sql.Tx, rows []callRow, complete []int, found map[int]existingCall) error {
	if len(complete) == 0 {
		return nil
	}
	n := len(complete)
	ids, froms, tos, revs, starts := make([]int64, n), make([]string, n), make([]string, n), make([]string, n), make([]time.Time, n)
	for j, i := range complete {
		r := &rows[i]
		ids[j], froms[j], tos[j], revs[j] = found[i].ref.id, r.from, r.to, txt(r.revision)
		starts[j] = r.start.UTC().Truncate(time.Microsecond)
	}
	st, err := d.stmt(ctx, tx, completeCallsPostgres)
	if err != nil {
		return fmt.Errorf("prepare call update: %w", err)
	}
	if _, err := st.ExecContext(ctx, ids, textArray(froms), textArray(tos), timeArray(starts), textArray(revs)); err != nil {
		return fmt.Errorf("update calls: %w", err)
	}
	return nil
}

// markRepeatsPostgres marks stored calls the batch repeats (locked
// already: by the probe, or as late calls).
func (d *DB) markRepeatsPostgres(ctx context.Context, tx *sql.Tx, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	st, err := d.stmt(ctx, tx, markRepeatsPostgres)
	if err != nil {
		return fmt.Errorf("prepare repeat callers: %w", err)
	}
	if _, err := st.ExecContext(ctx, ids); err != nil {
		return fmt.Errorf("mark repeat callers: %w", err)
	}
	return nil
}
