package store

import (
	"errors"
	"sync"
	"testing"
)

func TestFlowRevisions(t *testing.T) {
	forEachStore(t, func(t *testing.T, newDSN newDSN) {
		ctx := ctxT(t)
		d := openT(t, newDSN(t))
		if _, err := d.LatestFlow(ctx); !errors.Is(err, ErrNotFound) {
			t.Fatalf("LatestFlow on an empty store: %v, want ErrNotFound", err)
		}
		if n, err := d.LatestFlowID(ctx); err != nil || n != 0 {
			t.Fatalf("LatestFlowID empty = %d, %v; want 0", n, err)
		}
		r1, err := d.PublishFlow(ctx, 0, FlowRevision{Author: "admin", Note: "first", Hash: "h1", Text: "one"})
		if err != nil || r1.ID != 1 {
			t.Fatalf("publish 1: %+v, %v", r1, err)
		}
		if _, err := d.PublishFlow(ctx, 0, FlowRevision{Hash: "hx", Text: "stale"}); !errors.Is(err, ErrConflict) {
			t.Fatalf("publish on a stale base: %v, want ErrConflict", err)
		}
		if _, err := d.PublishFlow(ctx, 5, FlowRevision{Hash: "hx", Text: "future"}); !errors.Is(err, ErrConflict) {
			t.Fatalf("publish on a future base: %v, want ErrConflict", err)
		}
		r2, err := d.PublishFlow(ctx, 1, FlowRevision{Author: "admin", Note: "second", Hash: "h2", Text: "two\x00"})
		if err != nil || r2.ID != 2 {
			t.Fatalf("publish 2: %+v, %v", r2, err)
		}
		got, err := d.LatestFlow(ctx)
		if err != nil || got.ID != 2 || got.Text != "two" || got.Note != "second" || got.Hash != "h2" || got.At.IsZero() {
			t.Fatalf("LatestFlow = %+v, %v", got, err)
		}
		old, err := d.FlowRevisionByID(ctx, 1)
		if err != nil || old.Text != "one" || old.Author != "admin" {
			t.Fatalf("FlowRevisionByID(1) = %+v, %v", old, err)
		}
		if _, err := d.FlowRevisionByID(ctx, 9); !errors.Is(err, ErrNotFound) {
			t.Fatalf("FlowRevisionByID(9): %v, want ErrNotFound", err)
		}
		list, err := d.FlowRevisions(ctx, 10)
		if err != nil || len(list) != 2 || list[0].ID != 2 || list[1].ID != 1 || list[0].Text != "" {
			t.Fatalf("FlowRevisions = %+v, %v", list, err)
		}
		if _, err := d.PublishFlow(ctx, 2, FlowRevision{Hash: "h1", Text: "one", Note: "rollback to 1"}); err != nil {
			t.Fatal(err)
		}
		m, err := d.FlowRevisionNumbers(ctx)
		if err != nil || m["h1"] != 3 || m["h2"] != 2 || len(m) != 2 {
			t.Fatalf("FlowRevisionNumbers = %v, %v", m, err)
		}
	})
}

// Two instances publishing on the same base at once: exactly one wins.
func TestFlowPublishRace(t *testing.T) {
	forEachStore(t, func(t *testing.T, newDSN newDSN) {
		ctx := ctxT(t)
		dsn := newDSN(t)
		a, b := openT(t, dsn), openT(t, dsn)
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			d := a
			if i%2 == 1 {
				d = b
			}
			wg.Go(func() { _, errs[i] = d.PublishFlow(ctx, 0, FlowRevision{Hash: "h", Text: "t"}) })
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, ErrConflict):
				t.Errorf("unexpected error: %v", err)
			}
		}
		if won != 1 {
			t.Fatalf("%d publishes won on one base, want 1", won)
		}
	})
}
