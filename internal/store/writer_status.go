package store

import (
	"context"
	"database/sql"
	"fmt"
)

// A call's final status usually arrives while the Writer still holds the
// call's answer and menu steps (it writes asynchronously, in batches): the
// status callback summarised the call without them, and the writer's batch
// then summarised it again with them (two summary updates of the call row,
// each moving it in the rollup). Writer.UpdateStatus stores such a final
// status without the summary and queues, behind the call's events, an entry
// that asks the batch writing them to summarise the call (summary.go:
// ended): one summary per call. The entry is queued after the status is
// committed, so the batch that writes it sees the call final.

// UpdateStatus stores a status or hangup callback in db, as db.UpdateStatus
// does (committed when it returns nil), for a Writer writing to db: a first
// final status of a call with entries still queued here leaves the call's
// summary to the batch that writes them. A nil or stopped Writer, or a full
// queue, summarises at once.
func (w *Writer) UpdateStatus(ctx context.Context, db *DB, u StatusUpdate) error {
	if w == nil || !u.Final || !w.running.Load() || !w.queued(u.Provider, u.CallID) {
		return db.UpdateStatus(ctx, u)
	}
	due, err := db.updateStatus(ctx, u, true)
	if err != nil || !due {
		return err
	}
	if w.enqueueSummary(u.Provider, u.CallID) {
		return nil
	}
	if err := db.summariseCall(ctx, u.Provider, u.CallID); err != nil {
		return fmt.Errorf("update status of %s/%s: %w", u.Provider, u.CallID, err)
	}
	return nil
}

// queued reports whether the queue holds an entry of the call (one being
// written counts: it stays queued until committed).
func (w *Writer) queued(provider, callID string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := len(w.queue) - 1; i >= 0; i-- {
		if w.queue[i].CallID == callID && w.queue[i].Provider == provider {
			return true
		}
	}
	return false
}

// enqueueSummary queues the entry that asks for the call's summary; false
// when even the room for calls without events is full.
func (w *Writer) enqueueSummary(provider, callID string) bool {
	w.mu.Lock()
	if len(w.queue) >= w.capacity+w.callRoom {
		w.mu.Unlock()
		return false
	}
	w.queue = append(w.queue, CallEvents{Provider: provider, CallID: callID, summarise: true})
	w.mu.Unlock()
	w.signal()
	return true
}

// summariseCall computes and stores the summary of a final call now.
func (d *DB) summariseCall(ctx context.Context, provider, callID string) error {
	return d.writeRetry(ctx, "summarise call", func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM calls WHERE provider = $1 AND call_id = $2 AND final = 1`, txt(provider), txt(callID)).Scan(&id)
		if err != nil {
			return fmt.Errorf("summarise call: %w", err)
		}
		return d.summariseCalls(ctx, tx, []int64{id})
	})
}
