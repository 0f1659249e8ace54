package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The final statuses of the mixed load (PostgreSQL, outbox off, summary
// left to a writer batch: finalStatusQuiet) were one autocommit statement
// each: a round trip, an executor start of the upsert and a commit (a WAL
// flush) per status, most of PostgreSQL's CPU per call on this kind of VM
// (syscalls cost much here). Now the claims that arrive while one runs go
// together in the next one, as writeGrouped groups SQLite's callbacks: one
// multi-row statement (upsertStatusClaims), one round trip and one commit
// for all of them. Each caller still returns only once its own status is
// committed, and then takes its summary decision alone, as before.
//
// A statement holds each key once (ON CONFLICT DO UPDATE cannot change a
// row twice): a second status of a call (the provider's retry) waits for
// the next statement, where it is a repeat. Rows go in in (provider, call
// id) order, the order the writer's batches insert their new calls in. A
// statement that fails (a deadlock retried batchAttempts times, say) is run
// again one status at a time, so that each caller gets its own result.

// upsertStatusClaims is upsertStatusClaim for many statuses at once ($1-$12:
// arrays, one element a status, in key order; every one is final and
// claims call.completed: completed_sent = event_seq = 1 for a new row, as
// statusArgs' claim). It returns, for each status, the row id and key,
// whether the statement inserted the row, and whether the call was
// reported and summarised before it (prev: as of the statement's snapshot).
var upsertStatusClaims = `WITH u AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[],
        $7::timestamptz[], $8::timestamptz[], $9::int[], $10::text[], $11::timestamptz[], $12::bigint[])
        WITH ORDINALITY AS u(p, i, f, t, s, fi, st, en, du, hc, pa, ps, n)),
    prev AS (SELECT u.p, u.i, c.completed_sent * c.summarised AS done FROM u
        CROSS JOIN LATERAL (SELECT completed_sent, summarised FROM calls WHERE provider = u.p AND call_id = u.i OFFSET 0) c)
INSERT INTO calls (provider, call_id, from_number, to_number, status, final, started_at, ended_at, duration_seconds, hangup_cause, provider_at, provider_seq,
    completed_sent, event_seq)
SELECT p, i, f, t, s, fi, st, en, du, hc, pa, ps, 1, 1 FROM u ORDER BY n
` + upsertStatus[strings.Index(upsertStatus, "ON CONFLICT"):] + `,
    completed_sent   = 1,
    event_seq        = CASE WHEN calls.completed_sent = 0 THEN calls.event_seq + 1 ELSE calls.event_seq END
RETURNING id, provider, call_id, (xmax = 0)::int, COALESCE((SELECT done FROM prev WHERE prev.p = calls.provider AND prev.i = calls.call_id), 0)`

// claimResult is what a status's claim returns (upsertStatusClaim).
type claimResult struct{ ref, inserted, done int64 }

// claimOp is one caller's final status waiting for its statement.
type claimOp struct {
	ctx  context.Context
	key  callKey
	args []any // statusArgs
	res  claimResult
	done chan error // buffered 1
}

// claimGroup gathers the pending claims; its leader token is held by the
// caller running a statement for them.
type claimGroup struct {
	once       sync.Once
	mu         sync.Mutex
	pending    []*claimOp
	leader     chan struct{} // buffered 1
	statements atomic.Int64  // statements of more than one status run (tests)
}

// claimGroupHook, when set (by tests), runs before a leader takes the
// pending claims.
var claimGroupHook func()

// claimGrouped runs upsertStatusClaim for args, committed, in one
// statement with the claims that arrive meanwhile (see above).
func (d *DB) claimGrouped(ctx context.Context, args []any) (claimResult, error) {
	g := &d.claims
	g.once.Do(func() { g.leader = make(chan struct{}, 1) })
	op := &claimOp{ctx: ctx, key: callKey{args[0].(string), args[1].(string)}, args: args, done: make(chan error, 1)}
	g.mu.Lock()
	g.pending = append(g.pending, op)
	g.mu.Unlock()
	for {
		select {
		case err := <-op.done:
			return op.res, err
		case g.leader <- struct{}{}:
			if claimGroupHook != nil {
				claimGroupHook()
			}
			d.runClaims(g.take())
			<-g.leader
		case <-ctx.Done():
			// The claim may still be committed by the next leader (a
			// repeat of it changes nothing); the caller reports a failure
			// and the provider retries.
			return claimResult{}, ctx.Err()
		}
	}
}

// take removes the pending claims of distinct calls (the first of each
// call's) and returns them; the others stay pending, in order.
func (g *claimGroup) take() []*claimOp {
	g.mu.Lock()
	defer g.mu.Unlock()
	seen := make(map[callKey]bool, len(g.pending))
	var ops []*claimOp
	rest := g.pending[:0]
	for _, op := range g.pending {
		if seen[op.key] {
			rest = append(rest, op)
			continue
		}
		seen[op.key] = true
		ops = append(ops, op)
	}
	clear(g.pending[len(rest):])
	g.pending = rest
	return ops
}

// runClaims commits ops' claims: in one statement, or each on its own when
// that fails or there is only one.
func (d *DB) runClaims(ops []*claimOp) {
	live := ops[:0]
	for _, op := range ops {
		if err := op.ctx.Err(); err != nil {
			op.done <- err // its caller has given up
			continue
		}
		live = append(live, op)
	}
	if len(live) > 1 && d.claimMany(live) == nil {
		d.claims.statements.Add(1)
		for _, op := range live {
			op.done <- nil
		}
		return
	}
	for _, op := range live {
		op.done <- d.autocommit(op.ctx, "status update", func() error {
			return d.stmts[upsertStatusClaim].QueryRowContext(op.ctx, op.args...).Scan(&op.res.ref, &op.res.inserted, &op.res.done)
		})
	}
}

// claimMany runs upsertStatusClaims for ops (of distinct calls) and sets
// each one's result.
func (d *DB) claimMany(ops []*claimOp) error {
	slices.SortFunc(ops, func(a, b *claimOp) int {
		return cmp.Or(strings.Compare(a.key.provider, b.key.provider), strings.Compare(a.key.callID, b.key.callID))
	})
	cols, err := claimColumns(ops)
	if err != nil {
		return err
	}
	ctx := context.WithoutCancel(ops[0].ctx)
	byKey := make(map[callKey]*claimOp, len(ops))
	for _, op := range ops {
		byKey[op.key] = op
	}
	return d.autocommit(ctx, fmt.Sprintf("status update of %d calls", len(ops)), func() error {
		rows, err := d.stmts[upsertStatusClaims].QueryContext(ctx, cols...)
		if err != nil {
			return err
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var (
				key callKey
				res claimResult
			)
			if err := rows.Scan(&res.ref, &key.provider, &key.callID, &res.inserted, &res.done); err != nil {
				return err
			}
			op, ok := byKey[key]
			if !ok {
				return fmt.Errorf("status of %s/%s returned, not asked for", key.provider, key.callID)
			}
			op.res = res
			n++
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if n != len(ops) {
			return fmt.Errorf("%d of %d statuses returned", n, len(ops))
		}
		return nil
	})
}

// claimColumns are upsertStatusClaims' arrays for ops' statusArgs.
func claimColumns(ops []*claimOp) ([]any, error) {
	n := len(ops)
	var texts [6][]string // provider, call id, from, to, status, hangup cause
	for i := range texts {
		texts[i] = make([]string, n)
	}
	finals, durations := make([]int32, n), make([]int32, n)
	starts := make([]time.Time, n)
	ended, providerAt := make([]*time.Time, n), make([]*time.Time, n)
	seqs := make([]*int64, n)
	for j, op := range ops {
		a := op.args
		var ok [12]bool
		texts[0][j], ok[0] = a[0].(string)
		texts[1][j], ok[1] = a[1].(string)
		texts[2][j], ok[2] = a[2].(string)
		texts[3][j], ok[3] = a[3].(string)
		texts[4][j], ok[4] = a[4].(string)
		texts[5][j], ok[9] = a[9].(string)
		final, okFinal := a[5].(int)
		dur, okDur := a[8].(int)
		finals[j], durations[j], ok[5], ok[8] = int32(final), int32(dur), okFinal, okDur
		starts[j], ok[6] = a[6].(time.Time)
		ended[j], ok[7] = nullTime(a[7])
		providerAt[j], ok[10] = nullTime(a[10])
		seqs[j], ok[11] = a[11].(*int64)
		if i := slices.Index(ok[:], false); i >= 0 {
			return nil, fmt.Errorf("status of %s/%s: argument %d is a %T", op.key.provider, op.key.callID, i+1, a[i])
		}
	}
	return []any{textArray(texts[0]), textArray(texts[1]), textArray(texts[2]), textArray(texts[3]), textArray(texts[4]),
		finals, timeArray(starts), ended, durations, textArray(texts[5]), providerAt, seqs}, nil
}

// nullTime is a PostgreSQL tvNull value as a pointer (nil: NULL).
func nullTime(v any) (*time.Time, bool) {
	if v == nil {
		return nil, true
	}
	t, ok := v.(time.Time)
	return &t, ok
}
