package main

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/auth"
	"github.com/ivr-project/ivr/internal/carrier"
	"github.com/ivr-project/ivr/internal/store"
	"github.com/ivr-project/ivr/internal/testutil"
)

const shutdownToken = "shutdown-test-token"

func callSid(prefix string, i int) string {
	return fmt.Sprintf("CA%s%030d", prefix, i)
}

func answerForm(sid string) url.Values {
	return url.Values{"CallSid": {sid}, "From": {"+14155550100"}, "To": {"+14155550199"}, "CallStatus": {"ringing"}}
}

// signedRequest returns a Twilio-signed form POST to base+path.
func signedRequest(base, path string, form url.Values) *http.Request {
	return send(signed(carrier.Twilio, shutdownToken, base+path, form), "")
}

// openStore opens the SQLite file run used, after run returned.
func openStore(t *testing.T, path string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatalf("reopen store: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// waitRefused waits until the server's listener is closed (new connections
// are refused): Shutdown has begun.
func waitRefused(t *testing.T, addr string) {
	t.Helper()
	if testutil.Eventually(testutil.WaitTimeout, func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return true
		}
		c.Close()
		return false
	}) {
		return
	}
	t.Fatalf("the listener was still accepting %s after the context was cancelled", testutil.WaitTimeout)
}

// slowRequest is a request whose headers and first half of body are on the
// wire (the server is reading it: the connection is active) and whose second
// half is sent later.
type slowRequest struct {
	conn net.Conn
	sid  string
	rest string
}

func startSlow(t *testing.T, base string, sid string) *slowRequest {
	t.Helper()
	form := answerForm(sid)
	body := form.Encode()
	u, _ := url.Parse(base)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	head := fmt.Sprintf("POST /twilio/voice HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
		"X-Twilio-Signature: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
		u.Host, auth.SignTwilio(shutdownToken, base+"/twilio/voice", form), len(body))
	half := len(body) / 2
	if _, err := io.WriteString(conn, head+body[:half]); err != nil {
		t.Fatal(err)
	}
	return &slowRequest{conn: conn, sid: sid, rest: body[half:]}
}

// finish sends the rest of the body and reads the whole response.
func (s *slowRequest) finish() (int, string, error) {
	defer s.conn.Close()
	s.conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(s.conn, s.rest); err != nil {
		return 0, "", fmt.Errorf("write rest of body: %w", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(s.conn), nil)
	if err != nil {
		return 0, "", fmt.Errorf("read response: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, string(b), fmt.Errorf("read body: %w", err)
	}
	return resp.StatusCode, string(b), nil
}

type result struct {
	kind string // "voice" | "status"
	sid  string
	code int
	body string
	err  error
}

// TestShutdownFinishesRequestsInFlight cancels run's context while requests
// are in flight: requests already accepted are answered in full, the others
// are refused before the server accepts them (no partial answer, no reset
// of a request the server handled), and every status callback that got a 200
// is in the store afterwards, as is every answered call's events.
func TestShutdownFinishesRequestsInFlight(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "ivr.db")
	base, stop, stderr := startServer(t, map[string]string{
		"TWILIO_AUTH_TOKEN": shutdownToken,
		"IVR_DATABASE_URL":  "sqlite:" + dbPath,
		"IVR_LOG_FORMAT":    "json",
	})
	addr := strings.TrimPrefix(base, "http://")

	// Requests in flight when the context is cancelled: headers and half
	// the body sent. The context is cancelled once later connections are
	// answered, so these were accepted (the server accepts in order); the
	// shutdown must then let their requests reach their handlers and finish.
	var slow []*slowRequest
	for i := range 5 {
		slow = append(slow, startSlow(t, base, callSid("slow", i)))
	}

	// 50 concurrent requests, one connection each, half call answers and
	// half status callbacks; the context is cancelled after the first
	// responses arrive, while the rest are being sent.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 30 * time.Second}
	const n = 50
	results := make(chan result, n)
	answered := make(chan struct{}, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := result{kind: "voice", sid: callSid("burst", i)}
			req := signedRequest(base, "/twilio/voice", answerForm(r.sid))
			if i%2 == 1 {
				r.kind = "status"
				req = signedRequest(base, "/twilio/status", url.Values{
					"CallSid": {r.sid}, "From": {"+14155550100"}, "To": {"+14155550199"},
					"CallStatus": {"completed"}, "CallDuration": {"7"},
				})
			}
			resp, err := client.Do(req)
			if err != nil {
				r.err = err
				results <- r
				return
			}
			answered <- struct{}{}
			r.code = resp.StatusCode
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			r.body, r.err = string(b), err
			if err != nil {
				r.err = fmt.Errorf("response cut: %w", err)
			}
			results <- r
		}()
	}
	<-answered
	<-answered
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	waitRefused(t, addr)

	// Shutdown has begun: the slow requests still get their whole answer.
	for _, s := range slow {
		code, body, err := s.finish()
		if err != nil || code != 200 || !strings.Contains(body, "<Gather") || !strings.HasSuffix(strings.TrimSpace(body), "</Response>") {
			t.Errorf("request in flight at shutdown (%s): %d %v\n%s", s.sid, code, err, body)
		}
	}
	wg.Wait()
	close(results)
	if err := <-stopped; err != nil {
		t.Fatalf("run: %v\nstderr:\n%s", err, stderr.String())
	}

	db := openStore(t, dbPath)
	ctx := context.Background()
	var ok, refused int
	for r := range results {
		if r.err != nil {
			// Refused before the server took the request: the dial failed, or
			// the connection was still in the kernel's backlog when the
			// listener closed (reset without the server reading it). Either
			// way the server never saw it, so it stored nothing for it. An
			// EOF (closed without an answer after the request was read) is
			// what net/http alone does at shutdown; serve's drainer prevents it.
			refused++
			if !errors.Is(r.err, syscall.ECONNREFUSED) && !errors.Is(r.err, syscall.ECONNRESET) {
				t.Errorf("%s %s: %v; want a complete answer or a refused/reset connection", r.kind, r.sid, r.err)
			}
			if refused <= 3 {
				t.Logf("refused: %s %s: %v", r.kind, r.sid, r.err)
			}
			if _, err := db.GetCall(ctx, "twilio", r.sid); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s %s failed (%v) although the server handled it (store: %v)", r.kind, r.sid, r.err, err)
			}
			continue
		}
		ok++
		if r.code != 200 {
			t.Errorf("%s %s: status %d %s", r.kind, r.sid, r.code, r.body)
			continue
		}
		c, err := db.GetCall(ctx, "twilio", r.sid)
		switch {
		case err != nil:
			t.Errorf("%s %s was answered 200 but is not in the store: %v", r.kind, r.sid, err)
		case r.kind == "status" && (c.Status != "completed" || c.DurationSeconds != 7):
			t.Errorf("status callback %s acknowledged but stored as %+v", r.sid, c)
		case r.kind == "voice" && (!strings.Contains(r.body, "<Gather") || len(c.Events) == 0):
			t.Errorf("answer %s: events %v, body %s", r.sid, c.Events, r.body)
		}
	}
	for _, s := range slow {
		if c, err := db.GetCall(ctx, "twilio", s.sid); err != nil || len(c.Events) == 0 {
			t.Errorf("events of the call in flight %s not stored: %v %+v", s.sid, err, c)
		}
	}
	t.Logf("%d answered in full, %d refused before being accepted, %d in flight finished", ok, refused, len(slow))
	if ok < 2 {
		t.Fatalf("only %d requests answered", ok)
	}
}

// TestShutdownFlushesCallEvents holds the SQLite write lock from outside so
// that answered calls' events pile up in the writer's queue, cancels run's
// context (what SIGTERM does), releases the lock, and checks that every
// queued event is in the store once run has returned.
func TestShutdownFlushesCallEvents(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "ivr.db")
	base, stop, stderr := startServer(t, map[string]string{
		"TWILIO_AUTH_TOKEN": shutdownToken,
		"IVR_DATABASE_URL":  "sqlite:" + dbPath,
	})

	// Another process's writer, as far as SQLite knows.
	lockDB, err := sql.Open("sqlite", "file:"+dbPath+"?_txlock=immediate&_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer lockDB.Close()
	lock, err := lockDB.Begin()
	if err != nil {
		t.Fatalf("take the write lock: %v", err)
	}
	released := false
	release := func() {
		if !released {
			released = true
			lock.Rollback()
		}
	}
	defer release()

	const calls = 40
	for i := range calls {
		resp, body := postTwilio(t, shutdownToken, base, "/twilio/voice", answerForm(callSid("flush", i)))
		if resp.StatusCode != 200 || !strings.Contains(body, "<Gather") {
			t.Fatalf("answer %d while the store is locked: %d %s", i, resp.StatusCode, body)
		}
	}
	depth := queueDepth(t, base)
	if depth == 0 {
		t.Fatal("ivr_store_queue_depth is 0 while the store is locked: events were not queued")
	}

	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	testutil.WaitFor(t, "the shutdown to begin with events pending", func() bool {
		return strings.Contains(stderr.String(), "shutting down")
	})
	release()
	if err := <-stopped; err != nil {
		t.Fatalf("run: %v\nstderr:\n%s", err, stderr.String())
	}

	db := openStore(t, dbPath)
	for i := range calls {
		c, err := db.GetCall(context.Background(), "twilio", callSid("flush", i))
		if err != nil || len(c.Events) == 0 {
			t.Errorf("call %d: events not flushed at shutdown: %v %+v", i, err, c)
		}
	}
	t.Logf("%v call-event batches were queued when the context was cancelled", depth)
}

// queueDepth reads ivr_store_queue_depth from /metrics.
func queueDepth(t *testing.T, base string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var v float64
		if _, err := fmt.Sscanf(sc.Text(), "ivr_store_queue_depth %g", &v); err == nil {
			return v
		}
	}
	t.Fatal("no ivr_store_queue_depth in /metrics")
	return 0
}
