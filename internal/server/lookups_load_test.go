package server

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/store"
)

// behindSink is a store that takes the writer's first batch and holds it
// until the test ends: the writer is behind on a healthy store (nothing
// failed), so every later record waits for room, as under saturation.
type behindSink struct {
	took    chan struct{} // closed when the first batch arrived
	once    sync.Once
	release chan struct{}
}

func (s *behindSink) AddEventBatch(ctx context.Context, _ []store.CallEvents) error {
	s.once.Do(func() { close(s.took) })
	select {
	case <-s.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// TestLookupOnErrorWithTheWriterBehind (issue 27 item 7): a lookup slower
// than its share of the 2s voice deadline ends at its budget, 250ms before
// the deadline, while the record writer is behind, so that queueing the
// step's record waits for room (up to a second, longer than the 250ms).
// The caller must still hear the flow's on_error, never the deadline's
// fallback: the answer goes out before the record waits.
// (scripts/slow-lookups.sh measures the same at 1,000 and 3,000 calls.)
func TestLookupOnErrorWithTheWriterBehind(t *testing.T) {
	flow, err := os.ReadFile("testdata/lookup/flow.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(flow, []byte("timeout: 300ms")) {
		t.Fatal("testdata/lookup/flow.yaml no longer sets the account lookup's timeout: 300ms")
	}
	path := filepath.Join(t.TempDir(), "flow.yaml")
	if err := os.WriteFile(path, bytes.Replace(flow, []byte("timeout: 300ms"), []byte("timeout: 5s"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	sink := &behindSink{took: make(chan struct{}), release: make(chan struct{})}
	events := store.NewWriter(sink, 1, slog.New(slog.DiscardHandler)) // pressure from one record in the queue
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { events.Run(ctx); close(done) }()
	t.Cleanup(func() { close(sink.release); cancel(); <-done })

	api := newAccountAPI(t)
	a := newTestApp(t, withLookupsFrom(t, path, api, nil), func(d *Deps) {
		d.Config.VoiceDeadline = 2 * time.Second
		d.Events = events
	})
	// The writer takes a first record and keeps it: every later one waits.
	events.EnqueueOwned("twilio", "CAfirst", "", "", nil)
	select {
	case <-sink.took:
	case <-time.After(10 * time.Second):
		t.Fatal("the writer did not take the first record")
	}
	bodies := lookupCall(t, a, "twilio", "777777#") // 777777: the API never answers
	if !strings.Contains(bodies[1], "We cannot look that up now.") {
		t.Fatalf("want the flow's on_error, not the fallback:\n%s", bodies[1])
	}
	if n := testutilCount(a); n != 0 {
		t.Fatalf("%d fallbacks", n)
	}
	if events.Waits() < 2 {
		t.Fatal("no record waited for the writer: the test does not load it")
	}
}
