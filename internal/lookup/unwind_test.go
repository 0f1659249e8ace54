package lookup

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// stuckTransport is a transport slow to unwind a request whose context
// has ended (as one is under a burst of thousands of lookups ending
// together): it returns only when released.
type stuckTransport struct{ release chan struct{} }

func (s stuckTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	<-s.release
	return nil, r.Context().Err()
}

// TestDoDoesNotWaitForTheTransport: when the caller's deadline (or the
// request's own timeout) passes, Do answers timeout at once; it does not
// wait for the transport to unwind the request, which under load spent
// the time the voice deadline leaves to answer the flow's on_error.
func TestDoDoesNotWaitForTheTransport(t *testing.T) {
	for _, tc := range []struct {
		name     string
		deadline time.Duration // the caller's
		timeout  time.Duration // the request's own
	}{
		{"the caller's deadline", 50 * time.Millisecond, 10 * time.Second},
		{"the request's timeout", time.Hour, 50 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := stuckTransport{release: make(chan struct{})}
			defer close(tr.release)
			c := New(Options{Transport: tr})
			ctx, cancel := context.WithTimeout(context.Background(), tc.deadline)
			defer cancel()
			got := make(chan Outcome, 1)
			go func() { got <- c.Do(ctx, Lookup{Request: "r", URL: "http://api.test/x", Timeout: tc.timeout}) }()
			select {
			case o := <-got:
				if o.Kind != KindTimeout || o.Result.OK || o.Result.Request != "r" {
					t.Fatalf("outcome %+v, want a timeout", o)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Do waited for the transport to unwind the request")
			}
		})
	}
}
