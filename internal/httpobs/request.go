// Package httpobs is what both sides of the HTTP layer share to observe
// requests: the Prometheus metrics, the capped logger, and each request's
// id and outcome (set explicitly by whoever decides it, counted by Observe).
package httpobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
)

// newRequestID returns a short random id for logs.
func newRequestID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// reqInfo travels in the request context so that the outermost middleware
// can count the outcome decided deep inside.
type reqInfo struct {
	id      string
	outcome string
}

type ctxKey struct{}

func info(ctx context.Context) *reqInfo {
	if ri, ok := ctx.Value(ctxKey{}).(*reqInfo); ok {
		return ri
	}
	return &reqInfo{}
}

// routeLabels caches chi's RoutePattern() (a string built on every call) by
// the matched patterns. Its keys come from the registered routes, never from
// the request, so it stays as small as the route table. What it saves on
// every request (BenchmarkRouteLabel): chi's 2 allocations (56 B) and about
// half the time (~200 ns against ~450 ns).
type routeLabels struct {
	mu     sync.RWMutex
	labels map[routeKey]string
}

// routeKey is the matched pattern list of a route nested at most 4 deep.
type routeKey [4]string

// label is rc.RoutePattern(), or "unmatched" when that is empty.
func (l *routeLabels) label(rc *chi.Context) string {
	if rc == nil {
		return "unmatched"
	}
	if len(rc.RoutePatterns) > len(routeKey{}) {
		return patternLabel(rc)
	}
	var k routeKey
	copy(k[:], rc.RoutePatterns)
	l.mu.RLock()
	s, ok := l.labels[k]
	l.mu.RUnlock()
	if ok {
		return s
	}
	s = patternLabel(rc)
	l.mu.Lock()
	if l.labels == nil {
		l.labels = make(map[routeKey]string)
	}
	l.labels[k] = s
	l.mu.Unlock()
	return s
}

func patternLabel(rc *chi.Context) string {
	if p := rc.RoutePattern(); p != "" {
		return p
	}
	return "unmatched"
}

// Observe gives each request an id, then counts and times it by route and outcome.
func Observe(m *Metrics, providerName string) func(http.Handler) http.Handler {
	routes := &routeLabels{}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			ri := &reqInfo{id: newRequestID(), outcome: "ok"}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, ri)))
			route := routes.label(chi.RouteContext(r.Context()))
			m.Requests.WithLabelValues(providerName, route, ri.outcome).Inc()
			m.Latency.WithLabelValues(providerName, route).Observe(time.Since(start).Seconds())
		})
	}
}

// RequestID is the request's id for logs ("" outside Observe).
func RequestID(ctx context.Context) string { return info(ctx).id }

// SetOutcome sets the outcome Observe counts the request under ("ok" unless
// set): "fallback", "refused", "probe", "store_error"... Outside Observe it
// does nothing.
func SetOutcome(ctx context.Context, outcome string) { info(ctx).outcome = outcome }
