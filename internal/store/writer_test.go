package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/testutil"
)

// flakySink stores batches in memory and fails while down, or for entries
// whose call id is poison.
type flakySink struct {
	mu       sync.Mutex
	down     bool
	poison   string
	got      []CallEvents
	attempts int
}

func (s *flakySink) AddEventBatch(_ context.Context, batch []CallEvents) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts++
	if s.down {
		return errors.New("sink down")
	}
	for _, b := range batch {
		if s.poison != "" && b.CallID == s.poison {
			return errors.New("value refused")
		}
	}
	s.got = append(s.got, batch...)
	return nil
}

func (s *flakySink) Ping(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return errors.New("sink down")
	}
	return nil
}

func (s *flakySink) setDown(v bool) {
	s.mu.Lock()
	s.down = v
	s.mu.Unlock()
}

func (s *flakySink) snapshot() ([]CallEvents, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]CallEvents(nil), s.got...), s.attempts
}

func fastWriter(sink EventSink, capacity int, log *slog.Logger) *Writer {
	w := NewWriter(sink, capacity, log)
	w.minBackoff, w.maxBackoff = time.Millisecond, 5*time.Millisecond
	w.maxBatch = 7
	return w
}

func seqEvents(call, n int) []Event {
	ev := make([]Event, n)
	for i := range ev {
		ev[i] = Event{Event: legacyEvent(at(i), fmt.Sprint("call", call), fmt.Sprint(i), "say")}
	}
	return ev
}

func TestWriterDownThenUp(t *testing.T) {
	sink := &flakySink{down: true}
	w := fastWriter(sink, 1000, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	var want []CallEvents
	for i := range 100 {
		ev := seqEvents(i, 1+i%4)
		id := fmt.Sprint("CA", i%10) // several batches per call: order matters
		if !w.EnqueueOwned("twilio", id, "+1", "+2", ev) {
			t.Fatalf("Enqueue %d refused", i)
		}
		want = append(want, CallEvents{Provider: "twilio", CallID: id, From: "+1", To: "+2", Events: ev})
		if i == 50 {
			testutil.WaitFor(t, "failed attempts", func() bool { _, a := sink.snapshot(); return a >= 3 })
		}
	}
	if d := w.Depth(); d != 100 {
		t.Fatalf("Depth while down = %d, want 100", d)
	}
	sink.setDown(false)
	testutil.WaitFor(t, "queue drained", func() bool { return w.Depth() == 0 })
	got, attempts := sink.snapshot()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("sink got %d batches, want %d in order (first difference matters)", len(got), len(want))
	}
	if w.Dropped() != 0 {
		t.Errorf("Dropped = %d", w.Dropped())
	}
	t.Logf("%d write attempts", attempts)
}

// TestWriterFullQueue forces the queue full: past capacity the calls are
// still queued without their events, past the room for those they are
// refused; every drop is counted and logged, none is silent.
func TestWriterFullQueue(t *testing.T) {
	var logs bytes.Buffer
	sink := &flakySink{down: true}
	w := fastWriter(sink, 5, slog.New(slog.NewTextHandler(&logs, nil)))
	w.callRoom = 3
	// No Run: nothing drains the queue.
	for i := range 12 {
		ok := w.EnqueueOwned("plivo", fmt.Sprint("C", i), "", "", seqEvents(i, 2))
		if ok != (i < 5) {
			t.Errorf("Enqueue %d = %v", i, ok)
		}
	}
	if w.Depth() != 8 || w.Dropped() != 2*7 || w.LostCalls() != 4 {
		t.Errorf("Depth %d Dropped %d LostCalls %d, want 8, 14 and 4", w.Depth(), w.Dropped(), w.LostCalls())
	}
	for _, want := range []string{"level=ERROR", "call events dropped", "events_dropped_since_last_log=2", "call_id=C5"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("drops not logged (%q): %s", want, logs.String())
		}
	}
	w.mu.Lock()
	q := append([]CallEvents(nil), w.queue...)
	w.mu.Unlock()
	for i, it := range q {
		if it.CallID != fmt.Sprint("C", i) || (i < 5) != (len(it.Events) == 2) || (i >= 5 && !it.At.Equal(at(0))) {
			t.Errorf("queue[%d] = %+v", i, it)
		}
	}
	if w.EnqueueOwned("", "", "", "", nil) || w.LostCalls() != 5 {
		t.Error("entry without provider/call id accepted")
	}
}

// TestWriterFullQueueKeepsCalls: with the queue forced full, every call
// enqueued while there was room for it reaches the real store (the ones
// past capacity without their events, started when their first event
// happened); the rest are counted.
func TestWriterFullQueueKeepsCalls(t *testing.T) {
	forEachStore(t, func(t *testing.T, dsn newDSN) {
		d := openT(t, dsn(t))
		var logs bytes.Buffer
		w := NewWriter(d, 4, slog.New(slog.NewTextHandler(&logs, nil))) // room for 16 more calls
		// No Run while enqueueing: the queue only fills.
		const calls = 30
		for i := range calls {
			ev := []Event{{Event: legacyEvent(at(i), "main", "", "answer")}, {Event: legacyEvent(at(i+1), "main", "", "gather")}}
			w.EnqueueOwned("twilio", fmt.Sprint("CAfull", i), "+1555", "+1666", ev)
		}
		if err := w.Flush(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		for i := range calls {
			c, err := d.GetCall(ctxT(t), "twilio", fmt.Sprint("CAfull", i))
			switch {
			case i < 4 && (err != nil || len(c.Events) != 2):
				t.Errorf("call %d: %+v %v, want it with its 2 events", i, c, err)
			case i >= 4 && i < 20 && (err != nil || len(c.Events) != 0 || !c.StartedAt.Equal(at(i)) || c.From != "+1555"):
				t.Errorf("call %d: %+v %v, want the call alone, started at its first event", i, c, err)
			case i >= 20 && !errors.Is(err, ErrNotFound):
				t.Errorf("call %d: %+v %v, want it refused", i, c, err)
			}
		}
		if w.Dropped() != 2*(calls-4) || w.LostCalls() != 10 {
			t.Errorf("Dropped %d LostCalls %d, want %d and 10", w.Dropped(), w.LostCalls(), 2*(calls-4))
		}
		if !strings.Contains(logs.String(), "calls_lost_since_last_log=10") {
			t.Errorf("lost calls not logged: %s", logs.String())
		}
	})
}

func TestWriterFlush(t *testing.T) {
	sink := &flakySink{down: true}
	w := fastWriter(sink, 100, slog.New(slog.DiscardHandler))
	for i := range 20 {
		w.EnqueueOwned("twilio", fmt.Sprint("C", i), "", "", seqEvents(i, 2))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	err := w.Flush(ctx)
	cancel()
	if err == nil || !strings.Contains(err.Error(), "20 batches (40 events) not written") {
		t.Fatalf("Flush while down: %v", err)
	}
	sink.setDown(false)
	if err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, _ := sink.snapshot(); len(got) != 20 || w.Depth() != 0 {
		t.Errorf("after Flush: sink has %d, depth %d", len(got), w.Depth())
	}
}

func TestWriterPoison(t *testing.T) {
	var logs bytes.Buffer
	sink := &flakySink{poison: "BAD"}
	w := fastWriter(sink, 100, slog.New(slog.NewTextHandler(&logs, nil)))
	for i := range 10 {
		id := fmt.Sprint("C", i)
		if i == 4 {
			id = "BAD"
		}
		w.EnqueueOwned("twilio", id, "", "", seqEvents(i, 1))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	testutil.WaitFor(t, "queue drained", func() bool { return w.Depth() == 0 })
	got, _ := sink.snapshot()
	if len(got) != 9 || w.Dropped() != 1 || w.LostCalls() != 1 {
		t.Errorf("sink has %d batches, dropped %d events and %d calls; want 9, 1 and 1", len(got), w.Dropped(), w.LostCalls())
	}
	for i, b := range got {
		if b.CallID == "BAD" || (i > 0 && got[i-1].Events[0].Menu >= b.Events[0].Menu) {
			t.Errorf("batch %d out of order or poison: %+v", i, b)
		}
	}
	if !strings.Contains(logs.String(), "discarded") {
		t.Errorf("discard not logged: %s", logs.String())
	}
}

// TestWriterRealStore runs the Writer on each real store, and on PostgreSQL
// stops and restarts the server in the middle when scripts/with-postgres.sh
// provides IVR_TEST_POSTGRES_CTL.
func TestWriterRealStore(t *testing.T) {
	forEachStore(t, func(t *testing.T, newDSN newDSN) {
		d := openT(t, newDSN(t))
		var logs testutil.Buffer
		w := NewWriter(d, 10000, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})))
		w.minBackoff, w.maxBackoff = 10*time.Millisecond, 200*time.Millisecond
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { w.Run(ctx); close(done) }()
		defer func() { cancel(); <-done }()

		const calls, perCall = 5, 40
		enqueue := func(from, to int) {
			for i := from; i < to; i++ {
				for c := range calls {
					ev := []Event{{Event: legacyEvent(at(i), "m", fmt.Sprint(i), "a")}}
					if !w.EnqueueOwned("twilio", fmt.Sprint("W", c), "+1", "+2", ev) {
						t.Fatal("Enqueue refused")
					}
				}
			}
		}
		enqueue(0, perCall/2)
		ctl := os.Getenv("IVR_TEST_POSTGRES_CTL")
		if d.Driver() == DriverPostgres && ctl != "" {
			testutil.WaitFor(t, "first half written", func() bool { return w.Depth() == 0 })
			if out, err := exec.Command(ctl, "stop").CombinedOutput(); err != nil {
				t.Fatalf("stop postgres: %v\n%s", err, out)
			}
			restarted := false
			defer func() {
				if !restarted {
					_ = exec.Command(ctl, "start").Run()
				}
			}()
			enqueue(perCall/2, perCall)
			testutil.WaitFor(t, "several failed attempts", func() bool {
				return strings.Count(logs.String(), "store write failed") >= 3
			})
			if w.Depth() == 0 {
				t.Fatal("queue drained while the database was down")
			}
			if err := d.UpdateStatus(context.Background(), StatusUpdate{Provider: "twilio", CallID: "W0", Status: "x"}); err == nil {
				t.Fatal("UpdateStatus succeeded while the database was down")
			}
			if out, err := exec.Command(ctl, "start").CombinedOutput(); err != nil {
				t.Fatalf("start postgres: %v\n%s", err, out)
			}
			restarted = true
			t.Log("PostgreSQL stopped and restarted while the Writer had events queued")
		} else {
			if d.Driver() == DriverPostgres {
				t.Log("IVR_TEST_POSTGRES_CTL unset: not stopping PostgreSQL")
			}
			enqueue(perCall/2, perCall)
		}
		fctx, fcancel := context.WithTimeout(context.Background(), time.Minute)
		defer fcancel()
		testutil.WaitFor(t, "queue drained", func() bool { return w.Depth() == 0 })
		if err := w.Flush(fctx); err != nil {
			t.Fatal(err)
		}
		for c := range calls {
			call, err := d.GetCall(fctx, "twilio", fmt.Sprint("W", c))
			if err != nil {
				t.Fatal(err)
			}
			if len(call.Events) != perCall {
				t.Errorf("W%d has %d events, want %d", c, len(call.Events), perCall)
			}
			for i, e := range call.Events {
				if e.Input() != fmt.Sprint(i) {
					t.Errorf("W%d event %d is %q: out of order", c, i, e.Input())
					break
				}
			}
		}
	})
}

// gateSink blocks every write until its gate lets one through, or fails
// while failing is set.
type gateSink struct {
	gate    chan struct{}
	failing atomic.Bool
	mu      sync.Mutex
	got     []CallEvents
}

func (s *gateSink) AddEventBatch(ctx context.Context, batch []CallEvents) error {
	if s.failing.Load() {
		return errors.New("store down")
	}
	select {
	case <-s.gate:
	case <-ctx.Done():
		return ctx.Err()
	}
	s.mu.Lock()
	s.got = append(s.got, batch...)
	s.mu.Unlock()
	return nil
}

// TestWriterBackpressure: while the store is healthy but behind, Enqueue
// waits for the writer instead of dropping; while it fails, nothing waits.
func TestWriterBackpressure(t *testing.T) {
	sink := &gateSink{gate: make(chan struct{})}
	w := NewWriter(sink, 100, slog.New(slog.DiscardHandler))
	w.linger, w.pressure, w.maxWait = 0, 2, time.Minute
	w.minBackoff, w.maxBackoff = time.Millisecond, time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	testutil.WaitFor(t, "Run started", w.running.Load)

	w.EnqueueOwned("twilio", "A", "", "", seqEvents(0, 1))
	w.EnqueueOwned("twilio", "B", "", "", seqEvents(1, 1))
	third := make(chan bool)
	go func() { third <- w.EnqueueOwned("twilio", "C", "", "", seqEvents(2, 1)) }()
	testutil.WaitFor(t, "the third Enqueue waiting", func() bool { return w.Waits() == 1 })
	select {
	case <-third:
		t.Fatal("Enqueue did not wait for the writer")
	default:
	}
	close(sink.gate) // every write goes through from now on
	if !<-third {
		t.Fatal("the waiting Enqueue was refused")
	}
	testutil.WaitFor(t, "queue drained", func() bool { return w.Depth() == 0 })
	sink.mu.Lock()
	stored := len(sink.got)
	sink.mu.Unlock()
	if w.Dropped() != 0 || stored != 3 {
		t.Fatalf("dropped %d, stored %d of 3", w.Dropped(), stored)
	}

	// The store fails: once a write failed, Enqueue past the mark returns at once.
	sink.failing.Store(true)
	w.EnqueueOwned("twilio", "D", "", "", seqEvents(0, 1))
	testutil.WaitFor(t, "a failed write", w.failing.Load)
	before := w.Waits()
	for i := range 5 {
		w.EnqueueOwned("twilio", fmt.Sprint("E", i), "", "", seqEvents(i, 1))
	}
	if w.Waits() != before {
		t.Fatalf("Enqueue waited while the store was failing (%d waits)", w.Waits()-before)
	}
	sink.failing.Store(false)
	testutil.WaitFor(t, "queue drained after the outage", func() bool { return w.Depth() == 0 })
}

// TestWriterEnqueueNew: EnqueueNew queues its entry marked New (the
// batch's hint that the call is most likely new), EnqueueOwned unmarked.
func TestWriterEnqueueNew(t *testing.T) {
	sink := &flakySink{}
	w := fastWriter(sink, 10, slog.New(slog.DiscardHandler))
	if !w.EnqueueNew("twilio", "CAnew", "+1", "+2", seqEvents(0, 1)) || !w.EnqueueOwned("twilio", "CAstep", "+1", "+2", seqEvents(1, 1)) {
		t.Fatal("not queued")
	}
	if w.EnqueueNew("twilio", "", "+1", "+2", seqEvents(2, 1)) || w.LostCalls() != 1 {
		t.Errorf("an entry without a call id: queued, or not counted lost (%d)", w.LostCalls())
	}
	if err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, _ := sink.snapshot()
	if len(got) != 2 || got[0].CallID != "CAnew" || !got[0].New || got[1].CallID != "CAstep" || got[1].New {
		t.Errorf("written %+v; want CAnew marked New, then CAstep not", got)
	}
}

// TestWriterFullBatchAtOnce: a batch that fills while the writer lingers
// is written then, not at the end of the linger; the entries that did not
// fill one wait for it.
func TestWriterFullBatchAtOnce(t *testing.T) {
	sink := &flakySink{}
	w := fastWriter(sink, 1000, slog.New(slog.DiscardHandler))
	w.linger = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	for i := range 2*w.maxBatch + 3 {
		w.EnqueueOwned("twilio", fmt.Sprint("CA", i), "+1", "+2", seqEvents(i, 1))
	}
	testutil.WaitFor(t, "two full batches written", func() bool { got, _ := sink.snapshot(); return len(got) == 2*w.maxBatch })
	time.Sleep(20 * time.Millisecond)
	if got, _ := sink.snapshot(); len(got) != 2*w.maxBatch || w.Depth() != 3 {
		t.Fatalf("%d entries written and %d queued, want %d and 3 (the rest lingers)", len(got), w.Depth(), 2*w.maxBatch)
	}
	for i, c := range func() []CallEvents { got, _ := sink.snapshot(); return got }() {
		if c.CallID != fmt.Sprint("CA", i) {
			t.Fatalf("entry %d is %s: out of order", i, c.CallID)
		}
	}
}
