package ngrok

import (
	"context"
	"net/http"
	"time"

	"github.com/ivr-project/ivr/internal/tick"
)

// Watch asks the agent at api for the tunnel to port every interval until
// ctx is done, and calls changed when its public URL differs from the last
// one seen (last starts as current; "" = none yet). A free ngrok tunnel gets
// a new host each time the agent restarts: the server follows it without a
// restart. While the agent does not answer, the last URL is kept.
func Watch(ctx context.Context, client *http.Client, api, port, current string, interval time.Duration, changed func(old, new string)) {
	last := current
	tick.Every(ctx, interval, func() {
		dctx, cancel := context.WithTimeout(ctx, min(interval, 2*time.Second))
		u, err := Discover(dctx, client, api, port)
		cancel()
		if err != nil || u == last {
			return
		}
		old := last
		last = u
		changed(old, u)
	})
}
