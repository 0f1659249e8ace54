package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
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
	// accepting counts Accept calls under way on the listener (listener):
	// a connection Accept returned is in waiting before Serve sees it, so
	// none slips between the listener's close and the wait (Serve marks a
	// connection new only after Accept returned it; a busy machine's wait
	// could see none waiting in between, and Shutdown then closed that
	// connection unanswered).
	accepting atomic.Int64
}

// listener returns ln with its accepted connections counted as waiting
// from the moment Accept returns them.
func (d *drainer) listener(ln net.Listener) net.Listener { return &drainListener{Listener: ln, d: d} }

type drainListener struct {
	net.Listener
	d *drainer
}

func (l *drainListener) Accept() (net.Conn, error) {
	l.d.accepting.Add(1)
	defer l.d.accepting.Add(-1)
	c, err := l.Listener.Accept()
	if err == nil {
		l.d.mu.Lock()
		l.d.waiting[c] = struct{}{}
		l.d.mu.Unlock()
	}
	return c, err
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
// after limit (a client that opened a connection and sends nothing is cut
// by Shutdown as before).
func (d *drainer) wait(ctx context.Context, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		d.mu.Lock()
		n := len(d.waiting) + int(d.accepting.Load())
		d.mu.Unlock()
		if n == 0 {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// closeOnceListener makes Close idempotent. shutdown closes the listener
// itself to stop accepting, then calls http.Server.Shutdown, which closes
// every listener Serve still tracks: when Serve's goroutine has not yet
// seen its Accept fail (a busy machine), that second Close would fail with
// "use of closed network connection" and Shutdown would return it as an
// error, making a clean stop exit non-zero.
type closeOnceListener struct {
	net.Listener
	once sync.Once
	err  error
}

func (l *closeOnceListener) Close() error {
	l.once.Do(func() { l.err = l.Listener.Close() })
	return l.err
}

// drainPeriod keeps serving for d after a stop signal, with /readyz answering
// 503 (draining) and keep-alives off, so a load balancer takes the instance
// out and clients reconnect elsewhere before the listener closes. A second
// SIGTERM/SIGINT ends it at once. It subscribes to that signal before it sets
// draining, so a /readyz that says draining means a second signal is caught.
func drainPeriod(d time.Duration, srv *http.Server, draining *atomic.Bool, errc <-chan error, logger *slog.Logger) error {
	again := make(chan os.Signal, 1)
	signal.Notify(again, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(again)
	draining.Store(true)
	logger.Info("shutting down: draining; /readyz answers 503 while requests are still served",
		slog.Duration("drain", d))
	srv.SetKeepAlivesEnabled(false)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case sig := <-again:
		logger.Info("shutting down: drain cut short", slog.String("signal", sig.String()))
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve: %w", err)
		}
	}
	return nil
}
