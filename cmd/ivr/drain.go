package main

import (
	"context"
	"net"
	"net/http"
	"sync"
	"time"
)

// drainer closes the gap net/http leaves at shutdown: a connection accepted
// just before Shutdown whose request is read just after it is closed without
// an answer (net/http checks "shutting down" between reading a request and
// running its handler), which a provider sees as a dropped call. serve stops
// accepting first, waits until every accepted connection's request has
// reached its handler (or the connection closed), and only then calls
// Shutdown, which lets those handlers finish.
type drainer struct {
	mu sync.Mutex
	// waiting holds connections that are accepted or reading a request
	// whose handler has not started yet.
	waiting map[net.Conn]struct{}
}

type drainConnKey struct{}

func newDrainer() *drainer { return &drainer{waiting: make(map[net.Conn]struct{})} }

// install hooks the drainer into srv; call before Serve.
func (d *drainer) install(srv *http.Server) {
	srv.ConnState = d.connState
	srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		return context.WithValue(ctx, drainConnKey{}, c)
	}
	next := srv.Handler
	srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, ok := r.Context().Value(drainConnKey{}).(net.Conn); ok {
			d.started(c)
		}
		next.ServeHTTP(w, r)
	})
}

func (d *drainer) connState(c net.Conn, s http.ConnState) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch s {
	case http.StateNew, http.StateActive:
		// New: no request yet. Active: a request has been read, its
		// handler is about to run (started clears it).
		d.waiting[c] = struct{}{}
	default: // Idle, Hijacked, Closed
		delete(d.waiting, c)
	}
}

func (d *drainer) started(c net.Conn) {
	d.mu.Lock()
	delete(d.waiting, c)
	d.mu.Unlock()
}

// wait returns once no accepted connection is waiting for its handler, or
// after max (a client that opened a connection and sends nothing is cut by
// Shutdown as before).
func (d *drainer) wait(ctx context.Context, max time.Duration) {
	deadline := time.Now().Add(max)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		d.mu.Lock()
		n := len(d.waiting)
		d.mu.Unlock()
		if n == 0 {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
}
