package store

import "context"

// A call's final status usually arrives while the Writer still holds the
// call's answer and menu steps (it writes asynchronously, in batches): the
// status callback summarised the call without them, and the writer's batch
// then summarised it again with them (two summary updates of the call row,
// each moving it in the rollup). Writer.UpdateStatus leaves the summary to
// that batch when the batch is sure to see the call final: the batch
// summarises a final call it writes events of (summary.go: ended), once.
//
// It is sure to when, at the status's upsert (which holds the call's row
// lock, or its uncommitted new row, until the status commits), an entry of
// the call is queued that no batch has taken yet, or that the batch being
// written has taken but not yet read the call (its row lock, or a new row's
// insert, comes after the status's, and waits for its commit; the batch
// tells when it has read its calls: callsRead), or when the status created
// the call's row (PostgreSQL tells; no batch has read the call then).
// Otherwise the status summarises the call itself, as before (a batch that
// then also sees it final summarises it again). A process that dies before
// writing its queue leaves a final call unsummarised: CloseStaleCalls
// summarises it (summariseStale).

// UpdateStatus stores a status or hangup callback in db, as db.UpdateStatus
// does (committed when it returns nil), for a Writer writing to db: a first
// final status of a call with entries still queued here may leave the
// call's summary to the batch that writes them (see above). A nil or
// stopped Writer leaves it to db.UpdateStatus.
func (w *Writer) UpdateStatus(ctx context.Context, db *DB, u StatusUpdate) error {
	if w == nil || !u.Final || !w.running.Load() || !w.queued(u.Provider, u.CallID, true) {
		return db.UpdateStatus(ctx, u)
	}
	return db.updateStatus(ctx, u, func(inserted bool) bool {
		if inserted {
			w.exists(u.Provider, u.CallID)
		}
		return w.queued(u.Provider, u.CallID, inserted)
	})
}

// queued reports whether the queue holds an entry of the call that a batch
// will read after now; any: or one the batch being written has read.
func (w *Writer) queued(provider, callID string, any bool) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	from := 0
	if w.read && !any {
		from = w.inflight
	}
	for i := len(w.queue) - 1; i >= from; i-- {
		if w.queue[i].CallID == callID && w.queue[i].Provider == provider {
			return true
		}
	}
	return false
}

// exists tells the queued entries of a call that no batch has taken yet
// that its row exists now (its status created it): an answer's entry
// (CallEvents.New) is then looked up with the batch's other existing calls
// instead of being inserted first and, its call found there, looked up
// and locked again as a late call (events_batch_postgres.go). The mixed
// load's final status, sent after the call's last answer, mostly comes
// before the batch that writes the call's answer. Only entries past the
// batch being written (queue[inflight:]) change, under w.mu: writeBatch
// takes them under it, and nothing else reads them.
func (w *Writer) exists(provider, callID string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := len(w.queue) - 1; i >= w.inflight; i-- {
		if e := &w.queue[i]; e.New && e.CallID == callID && e.Provider == provider {
			e.New = false
		}
	}
}

// batchRead records that the batch being written has read its calls.
func (w *Writer) batchRead() {
	w.mu.Lock()
	w.read = true
	w.mu.Unlock()
}

type callsReadKey struct{}

// withCallsRead is ctx for a sink's AddEventBatch that calls read once the
// batch's transaction has read whether its calls are final (callsRead).
func withCallsRead(ctx context.Context, read func()) context.Context {
	return context.WithValue(ctx, callsReadKey{}, read)
}

// callsRead tells the Writer (withCallsRead) that the batch has read its
// calls, holding their row locks (or its new rows) until it commits.
func callsRead(ctx context.Context) {
	if read, ok := ctx.Value(callsReadKey{}).(func()); ok {
		read()
	}
}
