// Package tick runs a function at a fixed interval until a context ends: the
// one polling loop behind the flow file watcher, the revisions follower, the
// secrets refresher and the store's background work.
package tick

import (
	"context"
	"time"
)

// Every calls fn every interval until ctx is done. The first call is one
// interval after the start; a call in progress is not interrupted.
func Every(ctx context.Context, interval time.Duration, fn func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}
