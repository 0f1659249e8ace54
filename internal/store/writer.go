package store

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// EventSink is what the Writer writes to; *DB implements it. A batch is
// written in one transaction: all of it or none. The batch is the Writer's
// queue itself: the sink must neither change it nor keep it after it
// returns.
type EventSink interface {
	AddEventBatch(ctx context.Context, batch []CallEvents) error
}

// Writer is a bounded, in-order queue in front of an EventSink. Request
// handlers EnqueueOwned and never wait for the database; Run writes batches in the
// background and, while the database is down, keeps the queue and retries
// with exponential backoff. Nothing is removed from the queue before the
// sink has committed it, so events are neither lost nor reordered.
//
// While the writer keeps up, nothing waits. When more than four batches are
// pending while the store is healthy (the last write succeeded), Enqueue
// waits (at most maxWait) for the writer to take a batch: under saturation
// requests are answered at the rate their records can be stored, instead of
// filling the queue and losing events. While the store fails nothing waits
// (the queue buffers the outage).
//
// When the queue is full, a call is still never lost silently: its entry is
// queued without its events (the call row alone: who called, when), up to
// callRoom more entries, and the events are counted in Dropped and logged.
// Only past that are whole calls refused, counted in LostCalls and logged.
type Writer struct {
	sink     EventSink
	log      *slog.Logger
	capacity int
	callRoom int // entries without events accepted beyond capacity

	// Tunables, fixed after NewWriter (tests shorten them).
	maxBatch     int
	linger       time.Duration // wait at most this long for a batch to fill before writing it
	minBackoff   time.Duration
	maxBackoff   time.Duration
	isolateAfter int           // failed attempts before writing one entry at a time
	pressure     int           // queue length from which Enqueue waits for room
	maxWait      time.Duration // the longest such wait

	mu       sync.Mutex
	queue    []CallEvents  // head = oldest
	inflight int           // queue[:inflight] is the batch being written
	read     bool          // that batch has read its calls (callsRead)
	lastDrop time.Time     // last time a drop was logged
	unlogged dropCounts    // drops not yet logged
	freed    chan struct{} // closed (and replaced) when entries leave the queue

	waits   atomic.Uint64 // Enqueue calls that waited for room
	running atomic.Bool   // Run is writing
	failing atomic.Bool   // the last write failed

	dropped   atomic.Uint64 // events not stored
	lostCalls atomic.Uint64 // calls not stored at all
	wake      chan struct{} // buffered 1: "there is work"
	full      chan struct{} // buffered 1: "the queue holds a full batch"
	wlock     chan struct{} // buffered 1: one writer (Run or Flush) at a time
}

// defaultMaxBatch is the most queue entries written in one transaction.
const defaultMaxBatch = 1024

// pressureBatches is how many full batches the queue holds before Enqueue
// waits for room. A batch lingers until it is full (defaultLinger), and
// the answers that arrive while it is written queue behind it: on a
// loaded machine a full batch's write may take long enough for more than
// a batch to arrive meanwhile, which at two batches made answers wait for
// a writer that was keeping up.
const pressureBatches = 4

// defaultLinger is the longest a batch waits to fill. A batch costs the
// store a fixed part besides its calls (the commit's fsync and the pages
// every commit writes again: the B-trees' last leaves, their parents):
// on SQLite about 1.2 ms of CPU, 19-25 µs a call in batches of 128 against
// 11-15 µs in batches of 1,024. It was 20 ms, which at 20,000 answers/s
// wrote batches of ~500; a full batch is written at once (Run). Longer
// lingers make longer transactions at lower rates, which a status
// callback (answered once committed) waits behind: 100 ms measured slower
// on mixed calls.
const defaultLinger = 50 * time.Millisecond

// dropCounts are drops since the last log line.
type dropCounts struct{ events, calls, callsKept uint64 }

// NewWriter returns a Writer holding at most capacity pending EnqueueOwned
// calls (at least 1) with their events, and 4 × capacity more calls without
// their events when that is full. logger nil means slog.Default().
func NewWriter(sink EventSink, capacity int, logger *slog.Logger) *Writer {
	if capacity < 1 {
		capacity = 1
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &Writer{
		sink:         sink,
		log:          logger,
		capacity:     capacity,
		callRoom:     4 * capacity,
		maxBatch:     defaultMaxBatch,
		linger:       defaultLinger,
		minBackoff:   100 * time.Millisecond,
		maxBackoff:   10 * time.Second,
		isolateAfter: 3,
		pressure:     min(capacity, pressureBatches*defaultMaxBatch),
		maxWait:      time.Second,
		freed:        make(chan struct{}),
		wake:         make(chan struct{}, 1),
		full:         make(chan struct{}, 1),
		wlock:        make(chan struct{}, 1),
	}
}

// EnqueueOwned queues a call's events for writing. It waits only while the
// writer is behind on a healthy store (see Writer), at most maxWait. It
// returns false when the events were not queued: the queue was full (the
// call alone is then queued if there is room for it; see Writer) or the
// entry has no provider or call id. Drops are counted in Dropped and
// LostCalls and logged (at most once a second, with the counts since the
// last log). The caller hands events over: the Writer keeps the slice
// itself instead of a copy, so the caller must not use it afterwards.
func (w *Writer) EnqueueOwned(provider, callID, from, to string, events []Event) bool {
	return w.enqueue(CallEvents{Provider: provider, CallID: callID, From: from, To: to, Events: events})
}

// EnqueueNew is EnqueueOwned for a request that is most likely its call's
// first (the answer URL's): the batch inserts such a call without looking
// it up first (CallEvents.New). It is a hint only: a call that exists after
// all (the provider retried its answer) is found and completed as
// EnqueueOwned's would be.
func (w *Writer) EnqueueNew(provider, callID, from, to string, events []Event) bool {
	return w.enqueue(CallEvents{Provider: provider, CallID: callID, From: from, To: to, Events: events, New: true})
}

func (w *Writer) enqueue(item CallEvents) bool {
	provider, callID, events := item.Provider, item.CallID, item.Events
	if provider == "" || callID == "" {
		w.dropped.Add(uint64(len(events)))
		w.lostCalls.Add(1)
		w.log.Error("call events dropped: missing provider or call id", "provider", provider, "call_id", callID, "events", len(events))
		return false
	}
	w.mu.Lock()
	if len(w.queue) >= w.pressure {
		w.waitRoom()
	}
	if len(w.queue) < w.capacity {
		w.queue = append(w.queue, item)
		w.filled()
		w.mu.Unlock()
		w.signal()
		return true
	}
	kept := len(w.queue) < w.capacity+w.callRoom
	if kept {
		item.At = firstTime(events)
		item.Events = nil
		w.queue = append(w.queue, item)
		w.filled()
		w.unlogged.callsKept++
	} else {
		w.lostCalls.Add(1)
		w.unlogged.calls++
	}
	w.dropped.Add(uint64(len(events)))
	w.unlogged.events += uint64(len(events))
	w.mu.Unlock()
	if kept {
		w.signal()
	}
	w.logDrops(false, provider, callID)
	return false
}

// logDrops logs the drops not logged yet: at most once a second unless
// force (the writer also calls it after each batch and at Flush, so the
// last drops of a burst are logged too).
func (w *Writer) logDrops(force bool, attrs ...any) {
	w.mu.Lock()
	now := time.Now()
	if w.unlogged == (dropCounts{}) || (!force && now.Sub(w.lastDrop) < time.Second) {
		w.mu.Unlock()
		return
	}
	n := w.unlogged
	w.unlogged, w.lastDrop = dropCounts{}, now
	w.mu.Unlock()
	if len(attrs) == 2 {
		attrs = []any{"provider", attrs[0], "call_id", attrs[1]}
	}
	w.log.Error("call events dropped: store write queue full; the calls themselves are kept while there is room",
		append(attrs, "events_dropped_since_last_log", n.events, "calls_kept_without_events_since_last_log", n.callsKept,
			"calls_lost_since_last_log", n.calls, "events_dropped_total", w.dropped.Load(),
			"calls_lost_total", w.lostCalls.Load(), "capacity", w.capacity)...)
}

// waitRoom waits, with w.mu held (released while waiting), until the queue
// is below the pressure mark, Run stops or the store fails, or maxWait.
func (w *Writer) waitRoom() {
	var timeout <-chan time.Time
	for len(w.queue) >= w.pressure && w.running.Load() && !w.failing.Load() {
		if timeout == nil {
			w.waits.Add(1)
			t := time.NewTimer(w.maxWait)
			defer t.Stop()
			timeout = t.C
		}
		freed := w.freed
		w.mu.Unlock()
		select {
		case <-freed:
			w.mu.Lock()
		case <-timeout:
			w.mu.Lock()
			return
		}
	}
}

// removed wakes the Enqueue calls waiting for room (with w.mu held).
func (w *Writer) removed() {
	close(w.freed)
	w.freed = make(chan struct{})
}

// filled tells a lingering Run that the queue holds a full batch now
// (with w.mu held, after an append).
func (w *Writer) filled() {
	if len(w.queue) == w.maxBatch {
		select {
		case w.full <- struct{}{}:
		default:
		}
	}
}

func (w *Writer) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// firstTime is the earliest non-zero event time (zero without one).
func firstTime(events []Event) time.Time {
	var t time.Time
	for _, e := range events {
		if !e.At.IsZero() && (t.IsZero() || e.At.Before(t)) {
			t = e.At
		}
	}
	return t
}

// Depth is the number of queued batches not yet written.
func (w *Writer) Depth() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.queue)
}

// Dropped is the number of events not stored: refused because the queue was
// full, invalid, or discarded as unstorable (see Run).
func (w *Writer) Dropped() uint64 { return w.dropped.Load() }

// Waits is the number of Enqueue calls that waited for the writer (see Writer).
func (w *Writer) Waits() uint64 { return w.waits.Load() }

// LostCalls is the number of calls of which nothing was stored: refused
// when even the room for calls without their events was full, invalid, or
// discarded as unstorable (see Run).
func (w *Writer) LostCalls() uint64 { return w.lostCalls.Load() }

// pending counts queued batches and events.
func (w *Writer) pending() (batches, events int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, it := range w.queue {
		events += len(it.Events)
	}
	return len(w.queue), events
}

// Run writes queued events until ctx is done. Start it once, in its own
// goroutine; at shutdown cancel it and call Flush.
//
// A batch that keeps failing while the sink answers Ping (a sink with a Ping
// method, like *DB) is retried one entry at a time, and an entry that still
// fails then is discarded (counted in Dropped, logged with the error) so a
// single unstorable entry cannot wedge the queue.
func (w *Writer) Run(ctx context.Context) {
	w.running.Store(true)
	defer func() {
		w.running.Store(false)
		w.mu.Lock()
		w.removed() // waiters stop waiting for a writer that is gone
		w.mu.Unlock()
	}()
	retry := w.newBackoff()
	failures := 0
	for {
		if w.Depth() == 0 {
			select {
			case <-ctx.Done():
				return
			case <-w.wake:
				continue
			}
		}
		if failures == 0 && w.linger > 0 && !w.gather(ctx) {
			return
		}
		limit := w.maxBatch
		if failures >= w.isolateAfter && w.sinkAnswers(ctx) {
			limit = 1
		}
		n, err := w.writeBatch(ctx, limit)
		w.logDrops(false)
		if err == nil {
			if failures > 0 {
				w.log.Info("store writes recovered", "written", n, "pending", w.Depth(), "failed_attempts", failures)
			}
			failures = 0
			retry.reset()
			continue
		}
		if ctx.Err() != nil {
			return
		}
		failures++
		if limit == 1 && failures >= 2*w.isolateAfter && w.sinkAnswers(ctx) {
			w.discardHead(err)
			failures = 0
			retry.reset()
			continue
		}
		w.log.Warn("store write failed; keeping events and retrying",
			"error", err, "pending", w.Depth(), "attempt", failures, "retry_in", retry.next)
		if !retry.wait(ctx) {
			return
		}
	}
}

// gather lets a batch gather: one commit (one fsync) for many webhooks
// instead of one per webhook under load. It waits until the queue holds a
// full batch, or linger; false when ctx ends first.
func (w *Writer) gather(ctx context.Context) bool {
	select {
	case <-w.full: // a batch filled before (written since, or about to be)
	default:
	}
	if w.Depth() >= w.maxBatch {
		return true
	}
	t := time.NewTimer(w.linger)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
	case <-w.full:
	}
	return true
}

// backoff is the pause before the next retry of a failed write: from
// minBackoff, doubling after each wait up to maxBackoff.
type backoff struct{ next, shortest, longest time.Duration }

func (w *Writer) newBackoff() *backoff {
	return &backoff{next: w.minBackoff, shortest: w.minBackoff, longest: w.maxBackoff}
}

// reset starts again from the shortest pause, after a success.
func (b *backoff) reset() { b.next = b.shortest }

// wait pauses (false when ctx ends first) and doubles the next pause.
func (b *backoff) wait(ctx context.Context) bool {
	ok := sleep(ctx, b.next)
	b.next = min(2*b.next, b.longest)
	return ok
}

// sleep waits d, or less when ctx ends first (false then).
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// sinkAnswers reports whether the sink has a Ping method and it succeeds.
func (w *Writer) sinkAnswers(ctx context.Context) bool {
	p, ok := w.sink.(interface{ Ping(context.Context) error })
	return ok && p.Ping(ctx) == nil
}

// discardHead drops the oldest queued entry, which the sink keeps refusing
// although it answers.
func (w *Writer) discardHead(err error) {
	w.mu.Lock()
	if len(w.queue) == 0 {
		w.mu.Unlock()
		return
	}
	it := w.queue[0]
	w.queue[0] = CallEvents{}
	w.queue = w.queue[1:]
	w.removed()
	w.mu.Unlock()
	w.dropped.Add(uint64(len(it.Events)))
	w.lostCalls.Add(1)
	w.log.Error("call events discarded: the store keeps refusing them while it is up",
		"provider", it.Provider, "call_id", it.CallID, "events", len(it.Events), "error", err)
}

// Flush writes everything queued, retrying while ctx allows. Use it at
// shutdown, after cancelling Run's context, with a deadline. It returns an
// error saying how much is left when it could not write everything.
func (w *Writer) Flush(ctx context.Context) error {
	retry := w.newBackoff()
	var lastErr error
	for w.Depth() > 0 {
		if _, err := w.writeBatch(ctx, w.maxBatch); err != nil {
			lastErr = err
			if ctx.Err() != nil {
				break
			}
			retry.wait(ctx)
		}
	}
	w.logDrops(true)
	if b, e := w.pending(); b > 0 {
		if lastErr == nil {
			lastErr = ctx.Err()
		}
		return fmt.Errorf("flush store writer: %d batches (%d events) not written: %w", b, e, lastErr)
	}
	return nil
}

// writeBatch writes up to limit queued batches from the head of the
// queue in one sink call and removes them once committed.
func (w *Writer) writeBatch(ctx context.Context, limit int) (int, error) {
	select {
	case w.wlock <- struct{}{}:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	defer func() { <-w.wlock }()

	w.mu.Lock()
	n := min(len(w.queue), limit)
	// The batch is the queue's head itself, not a copy: only the holder of
	// wlock removes or changes entries, and Enqueue appends after them (in
	// this array or, when it grows, in a copy).
	batch := w.queue[:n:n]
	w.inflight, w.read = n, false
	w.mu.Unlock()
	if n == 0 {
		return 0, nil
	}
	if err := w.sink.AddEventBatch(withCallsRead(ctx, w.batchRead), batch); err != nil {
		w.failing.Store(true)
		w.mu.Lock()
		w.inflight = 0
		w.removed() // waiters stop waiting: the queue buffers the outage
		w.mu.Unlock()
		return 0, err
	}
	w.failing.Store(false)
	// Only the holder of wlock removes from the head, so the first n
	// entries are still the ones just written.
	// The entries queued meanwhile move to the front of the queue's array,
	// which is kept: a queue emptied to nil (or sliced past its head) was a
	// new array, grown step by step, for every batch (with the batch's
	// copy, ~350 B per answer). An array grown past a few batches (an
	// outage's backlog) is let go once the queue is empty.
	w.mu.Lock()
	rest := copy(w.queue, w.queue[n:])
	clear(w.queue[rest:])
	w.queue = w.queue[:rest]
	if rest == 0 && cap(w.queue) > 4*w.maxBatch {
		w.queue = nil
	}
	w.inflight = 0
	w.removed()
	w.mu.Unlock()
	return n, nil
}
