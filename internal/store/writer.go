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
// written in one transaction: all of it or none.
type EventSink interface {
	AddEventBatch(ctx context.Context, batch []CallEvents) error
}

// Writer is a bounded, in-order queue in front of an EventSink. Request
// handlers EnqueueOwned and never wait for the database; Run writes batches in the
// background and, while the database is down, keeps the queue and retries
// with exponential backoff. Nothing is removed from the queue before the
// sink has committed it, so events are neither lost nor reordered; when the
// queue is full new batches are dropped, counted and logged.
type Writer struct {
	sink     EventSink
	log      *slog.Logger
	capacity int

	// Tunables, fixed after NewWriter (tests shorten them).
	maxBatch     int
	linger       time.Duration // wait this long for a batch to fill before writing it
	minBackoff   time.Duration
	maxBackoff   time.Duration
	isolateAfter int // failed attempts before writing one entry at a time

	mu            sync.Mutex
	queue         []CallEvents // head = oldest
	lastDrop      time.Time    // last time a drop was logged
	dropsUnlogged uint64       // drops not yet logged

	dropped atomic.Uint64
	wake    chan struct{} // buffered 1: "there is work"
	wlock   chan struct{} // buffered 1: one writer (Run or Flush) at a time
}

// NewWriter returns a Writer holding at most capacity pending EnqueueOwned calls
// (at least 1). logger nil means slog.Default().
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
		maxBatch:     256,
		linger:       20 * time.Millisecond,
		minBackoff:   100 * time.Millisecond,
		maxBackoff:   10 * time.Second,
		isolateAfter: 3,
		wake:         make(chan struct{}, 1),
		wlock:        make(chan struct{}, 1),
	}
}

// EnqueueOwned queues a call's events for writing. It never blocks. It returns
// false when the queue is full: the events are dropped, counted in Dropped and
// logged (at most once a second, with the count since the last log). The
// caller hands events over: the Writer keeps the slice itself instead of a
// copy, so the caller must not use it afterwards.
func (w *Writer) EnqueueOwned(provider, callID, from, to string, events []Event) bool {
	if provider == "" || callID == "" {
		w.dropped.Add(1)
		w.log.Error("call events dropped: missing provider or call id", "provider", provider, "call_id", callID, "events", len(events))
		return false
	}
	item := CallEvents{Provider: provider, CallID: callID, From: from, To: to, Events: events}
	w.mu.Lock()
	if len(w.queue) >= w.capacity {
		w.dropped.Add(1)
		w.dropsUnlogged++
		now := time.Now()
		var logN uint64
		if now.Sub(w.lastDrop) >= time.Second {
			logN, w.dropsUnlogged, w.lastDrop = w.dropsUnlogged, 0, now
		}
		w.mu.Unlock()
		if logN > 0 {
			w.log.Error("call events dropped: store write queue full",
				"provider", provider, "call_id", callID, "events", len(events),
				"dropped_since_last_log", logN, "dropped_total", w.dropped.Load(), "capacity", w.capacity)
		}
		return false
	}
	w.queue = append(w.queue, item)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return true
}

// Depth is the number of queued batches not yet written.
func (w *Writer) Depth() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.queue)
}

// Dropped is the number of batches refused because the queue was full (or
// invalid, or discarded as unstorable; see Run).
func (w *Writer) Dropped() uint64 { return w.dropped.Load() }

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
	backoff := w.minBackoff
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
		if failures == 0 && w.linger > 0 && w.Depth() < w.maxBatch {
			// Let a batch gather: one commit (one fsync) for many webhooks
			// instead of one per webhook under load.
			t := time.NewTimer(w.linger)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		limit := w.maxBatch
		if failures >= w.isolateAfter && w.sinkAnswers(ctx) {
			limit = 1
		}
		n, err := w.writeBatch(ctx, limit)
		if err == nil {
			if failures > 0 {
				w.log.Info("store writes recovered", "written", n, "pending", w.Depth(), "failed_attempts", failures)
			}
			failures, backoff = 0, w.minBackoff
			continue
		}
		if ctx.Err() != nil {
			return
		}
		failures++
		if limit == 1 && failures >= 2*w.isolateAfter && w.sinkAnswers(ctx) {
			w.discardHead(err)
			failures, backoff = 0, w.minBackoff
			continue
		}
		w.log.Warn("store write failed; keeping events and retrying",
			"err", err, "pending", w.Depth(), "attempt", failures, "retry_in", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(backoff*2, w.maxBackoff)
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
	w.mu.Unlock()
	w.dropped.Add(1)
	w.log.Error("call events discarded: the store keeps refusing them while it is up",
		"provider", it.Provider, "call_id", it.CallID, "events", len(it.Events), "err", err)
}

// Flush writes everything queued, retrying while ctx allows. Use it at
// shutdown, after cancelling Run's context, with a deadline. It returns an
// error saying how much is left when it could not write everything.
func (w *Writer) Flush(ctx context.Context) error {
	backoff := w.minBackoff
	var lastErr error
	for w.Depth() > 0 {
		if _, err := w.writeBatch(ctx, w.maxBatch); err != nil {
			lastErr = err
			if ctx.Err() != nil {
				break
			}
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				t.Stop()
			case <-t.C:
			}
			backoff = min(backoff*2, w.maxBackoff)
		}
	}
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
	batch := append([]CallEvents(nil), w.queue[:n]...)
	w.mu.Unlock()
	if n == 0 {
		return 0, nil
	}
	if err := w.sink.AddEventBatch(ctx, batch); err != nil {
		return 0, err
	}
	// Only the holder of wlock removes from the head, so the first n
	// entries are still the ones just written.
	w.mu.Lock()
	clear(w.queue[:n])
	w.queue = w.queue[n:]
	if len(w.queue) == 0 {
		w.queue = nil
	}
	w.mu.Unlock()
	return n, nil
}
