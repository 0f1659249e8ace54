package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/testutil"
)

// TestShutdownDrain: with IVR_SHUTDOWN_DRAIN set, a stop (SIGTERM/SIGINT:
// run's context cancelled) first turns /readyz to 503 "draining" while calls
// are still answered, with keep-alives off, and only then shuts down.
func TestShutdownDrain(t *testing.T) {
	const drain = 1500 * time.Millisecond
	base, stop, stderr := startServer(t, map[string]string{
		"TWILIO_AUTH_TOKEN":      shutdownToken,
		"IVR_CALL_CENTER_NUMBER": "+15005550006",
		"IVR_SHUTDOWN_DRAIN":     drain.String(),
	})
	readyz := func() (int, map[string]any) {
		t.Helper()
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			t.Fatalf("/readyz: %v", err)
		}
		defer resp.Body.Close()
		var body map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatalf("/readyz body: %v", err)
		}
		return resp.StatusCode, body
	}
	if code, body := readyz(); code != http.StatusOK || body["draining"] != false {
		t.Fatalf("/readyz before the stop: %d %v", code, body)
	}

	stopped := make(chan error, 1)
	began := time.Now()
	go func() { stopped <- stop() }()
	var code int
	var body map[string]any
	if !testutil.Eventually(drain/2, func() bool {
		code, body = readyz()
		return code == http.StatusServiceUnavailable && body["draining"] == true && body["ready"] == false
	}) {
		t.Fatalf("/readyz after the stop: %d %v, want 503 draining", code, body)
	}

	// Still answering calls, asking clients not to keep the connection.
	resp, err := http.DefaultClient.Do(signedRequest(base, "/twilio/voice", answerForm(callSid("DRAIN", 1))))
	if err != nil {
		t.Fatalf("call while draining: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "<Gather") {
		t.Fatalf("call while draining: %d %s, want the menu", resp.StatusCode, b)
	}
	if !resp.Close {
		t.Error("answer while draining keeps the connection alive; want Connection: close")
	}

	select {
	case err := <-stopped:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
		if took := time.Since(began); took < drain {
			t.Errorf("run returned after %s, before the %s drain ended", took, drain)
		}
	case <-time.After(drain + 20*time.Second):
		t.Fatal("run did not return after the drain")
	}
	if !strings.Contains(stderr.String(), "draining") {
		t.Errorf("the drain is not logged:\n%s", stderr.String())
	}
}

// TestShutdownDrainSecondSignal: a second SIGTERM during the drain ends it
// at once (the operator means it), and run still shuts down cleanly.
func TestShutdownDrainSecondSignal(t *testing.T) {
	base, stop, stderr := startServer(t, map[string]string{
		"TWILIO_AUTH_TOKEN":      shutdownToken,
		"IVR_CALL_CENTER_NUMBER": "+15005550006",
		"IVR_SHUTDOWN_DRAIN":     "60s",
	})
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	// /readyz turning 503 means run is listening for the second signal (it
	// subscribes before it starts draining), so the SIGTERM below cannot
	// reach the test process unhandled.
	var err error
	if !testutil.Eventually(10*time.Second, func() bool {
		var resp *http.Response
		resp, err = http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusServiceUnavailable
	}) {
		t.Fatalf("/readyz never turned 503 after the stop (last: %v)", err)
	}
	began := time.Now()
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
		if took := time.Since(began); took > 10*time.Second {
			t.Errorf("run took %s after the second signal", took)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the second signal did not cut the 60 s drain short")
	}
	if !strings.Contains(stderr.String(), "drain cut short") {
		t.Errorf("not logged:\n%s", stderr.String())
	}
}

// blockingListener's Accept stays blocked until release is closed, even
// after Close: it holds Serve in the state a busy machine leaves it in, the
// listener closed but Serve not yet returned. A second Close fails, as a
// real listener's does.
type blockingListener struct {
	net.Listener
	accepting chan struct{} // closed when Serve first calls Accept
	once      sync.Once
	release   chan struct{}
	closes    atomic.Int32
}

func (l *blockingListener) Accept() (net.Conn, error) {
	l.once.Do(func() { close(l.accepting) })
	<-l.release
	return nil, net.ErrClosed
}

func (l *blockingListener) Close() error {
	if l.closes.Add(1) > 1 {
		return net.ErrClosed
	}
	return l.Listener.Close()
}

// TestShutdownListenerClosedFirst: shutdown closes the listener to stop
// accepting and then calls Shutdown, which closes the listeners Serve still
// tracks; when Serve has not yet returned, that second Close must not turn
// a clean stop into "shutdown: use of closed network connection".
func TestShutdownListenerClosedFirst(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	bl := &blockingListener{Listener: inner, accepting: make(chan struct{}), release: make(chan struct{})}
	web := &webServers{srv: &http.Server{Handler: http.NotFoundHandler()}, ln: bl, scheme: "http"}
	// Shutdown starts its OnShutdown hooks right after it has closed the
	// listeners Serve tracks; only then does Accept return (and Serve, which
	// Shutdown waits for).
	web.srv.RegisterOnShutdown(func() { close(bl.release) })
	errc := web.serve()
	defer func() {
		select {
		case err := <-errc:
			if !errors.Is(err, http.ErrServerClosed) {
				t.Errorf("Serve returned %v, want http.ErrServerClosed", err)
			}
		case <-time.After(testutil.WaitTimeout):
			t.Error("Serve did not return after Shutdown")
		}
	}()
	<-bl.accepting // Serve tracks its listener before it calls Accept
	if err := web.ln.Close(); err != nil {
		t.Fatalf("first Close: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := web.srv.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown after the listener was closed: %v", err)
	}
	if n := bl.closes.Load(); n != 1 {
		t.Errorf("the listener was closed %d times, want once", n)
	}
}
