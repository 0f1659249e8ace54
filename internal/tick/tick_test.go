package tick

import (
	"context"
	"testing"
	"time"
)

func TestEveryCallsUntilDone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	done := make(chan struct{})
	go func() {
		Every(ctx, time.Millisecond, func() {
			calls++
			if calls == 3 {
				cancel()
			}
		})
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("Every did not return after its context ended")
	}
	if calls != 3 {
		t.Fatalf("fn called %d times, want 3 (it must stop once ctx is done)", calls)
	}
}
