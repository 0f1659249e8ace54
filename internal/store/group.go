package store

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
)

// Group commit for the writes a caller waits on (status callbacks). On
// SQLite every write transaction of the process is serialised and each
// commit is an fsync, so under load each status callback waited for the
// ones before it, one commit each (the mixed load test: a few thousand
// requests/s, most of the CPU in commits). Now the callbacks that arrived
// while one transaction ran are committed together in the next: each
// caller still returns only once its own change is committed.
//
// PostgreSQL runs its writers concurrently and is left as it was.

// groupOp is one caller's change, run inside the group's transaction.
type groupOp struct {
	ctx  context.Context
	fn   func(tx *sql.Tx) error
	done chan error // buffered 1
}

// commitGroup gathers the pending changes; leader is held by the caller
// that commits them.
type commitGroup struct {
	mu      sync.Mutex
	pending []*groupOp
	leader  chan struct{} // buffered 1
	txs     atomic.Int64  // group transactions committed (tests)
	joined  atomic.Int64  // changes handed to the group (tests)
}

// writeGrouped runs fn in a committed transaction like write, sharing the
// transaction (and its commit) with the changes that arrive meanwhile on
// SQLite. A change that fails is not committed and its caller gets the
// error; the others are then committed without it.
func (d *DB) writeGrouped(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if d.wsem == nil {
		return d.writeRetry(ctx, "status update", fn)
	}
	g := &d.group
	op := &groupOp{ctx: ctx, fn: fn, done: make(chan error, 1)}
	g.mu.Lock()
	g.pending = append(g.pending, op)
	g.mu.Unlock()
	g.joined.Add(1)
	for {
		select {
		case err := <-op.done:
			return err
		case g.leader <- struct{}{}:
			g.mu.Lock()
			ops := g.pending
			g.pending = nil
			g.mu.Unlock()
			d.commitOps(ops)
			<-g.leader
		case <-ctx.Done():
			// The change may still be committed by the next leader (the
			// writes grouped here are idempotent upserts); the caller
			// reports a failure and the provider retries.
			return ctx.Err()
		}
	}
}

// commitOps commits ops in one transaction, or, when that fails, each on
// its own so that every caller gets its own result.
func (d *DB) commitOps(ops []*groupOp) {
	live := ops[:0]
	for _, op := range ops {
		if err := op.ctx.Err(); err != nil {
			op.done <- err // its caller has given up: keep it out of the group
			continue
		}
		live = append(live, op)
	}
	ops = live
	if len(ops) == 0 {
		return
	}
	if len(ops) > 1 {
		err := d.write(context.WithoutCancel(ops[0].ctx), func(tx *sql.Tx) error {
			for _, op := range ops {
				if err := op.fn(tx); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil {
			d.group.txs.Add(1)
			for _, op := range ops {
				op.done <- nil
			}
			return
		}
	}
	for _, op := range ops {
		op.done <- d.write(op.ctx, op.fn)
	}
}
