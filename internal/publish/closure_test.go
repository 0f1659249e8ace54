package publish

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/ivr"
	"github.com/ivr-project/ivr/internal/store"
)

// Two instances on one store: a closure set on one is on the other after
// its next sync, ends by itself at its end time, is in the history, and a
// draft opened before it still publishes (the text did not change).
func TestClosureAcrossInstances(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "ivr.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	instance := func() *Service {
		src, err := NewSource("", nil)
		if err != nil {
			t.Fatal(err)
		}
		s := New(src, db, nil)
		if err := s.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b := instance(), instance()
	base, err := b.Live(ctx)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	until := now.Add(time.Hour)
	if _, err := a.SetClosure(ctx, &store.Closure{Message: "Storm.", Then: ivr.ClosureHangup, Until: &until, By: "ann", At: now}, "ann"); err != nil {
		t.Fatal(err)
	}
	if a.Source().Closure(now) == nil {
		t.Fatal("closure not on where it was set")
	}
	if b.Source().Closure(now) != nil {
		t.Fatal("closure on the other instance before it synced")
	}
	if err := b.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if c := b.Source().Closure(now); c == nil || c.Message != "Storm." || c.Then != ivr.ClosureHangup {
		t.Fatalf("other instance after sync: %+v", c)
	}
	if b.Source().Closure(until) != nil || b.Source().Closure(until.Add(time.Minute)) != nil {
		t.Error("closure still on at its end time")
	}
	// A draft based on the revision before the closure still publishes.
	rev, err := b.Publish(ctx, base.ID, []byte(flowA), "bob", "edit")
	if err != nil {
		t.Fatalf("publish on a base older only by a closure change: %v", err)
	}
	if rev.Closure == nil {
		t.Error("the publish dropped the closure")
	}
	// A stale draft (the text changed since) is still refused.
	if _, err := a.Publish(ctx, base.ID, []byte(flowA+"\n"), "ann", "stale"); err == nil {
		t.Error("publish on a base whose text changed since: want a conflict")
	}
	if _, err := a.SetClosure(ctx, nil, "carl"); err != nil {
		t.Fatal(err)
	}
	if err := b.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if b.Source().Closure(now) != nil {
		t.Error("lifted closure still on")
	}
	hist, err := db.FlowRevisions(ctx, 10)
	if err != nil || len(hist) != 4 {
		t.Fatalf("history = %+v, %v", hist, err)
	}
	if hist[0].Author != "carl" || hist[0].Note != "closure lifted" || hist[2].Author != "ann" || hist[2].Note != "closure set: then hangup, until 2026-12-05T13:00:00Z: Storm." {
		t.Errorf("history = %+v", hist)
	}
}
