package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/store"
	"github.com/ivr-project/ivr/internal/testutil"
)

// testSecret is a whsec_ secret made for these tests.
const testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// verify checks a delivery the way a receiver would, written from the
// Standard Webhooks specification rather than from Sign: the key is the
// base64 after "whsec_"; the signed content is "<webhook-id>.<webhook-timestamp>.<body>";
// webhook-signature is a space-separated list of "v1,<base64 HMAC-SHA256>",
// any of which may match; the timestamp must be within 5 minutes of now.
func verify(secret string, h http.Header, body []byte, now time.Time) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return errors.New("missing webhook headers")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("bad timestamp %q", ts)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("timestamp %s too far from now", ts)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "." + string(body)))
	want := mac.Sum(nil)
	for _, s := range strings.Fields(sigs) {
		version, b64, ok := strings.Cut(s, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return errors.New("no matching signature")
}

// The specification's own example: secret, id, timestamp and body give
// this signature.
func TestSignSpecVector(t *testing.T) {
	key, err := ParseSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"test": 2432232314}`)
	got := Sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), body)
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

// During a rotation every delivery carries a signature per secret: a
// receiver that still has the old secret verifies, and so does one with
// the new.
func TestRotationSignsWithEverySecret(t *testing.T) {
	const newSecret = "whsec_c2l4dGVlbi1ieXRlcy1vZi1rZXktbWF0ZXJpYWwhIQ=="
	key, prev, err := ParseSecrets(newSecret + "  " + testSecret)
	if err != nil || len(prev) != 1 {
		t.Fatalf("ParseSecrets: %v, %d previous", err, len(prev))
	}
	db := openDB(t, testutil.SQLiteDSN(t))
	db.EnableOutbox()
	rcv := newReceiver(t, func(int, delivery) int { return http.StatusOK })
	completeCall(t, db, "CA1")
	startWorker(t, db, rcv.URL, func(c *Config) { c.Secret, c.Previous = key, prev })
	testutil.WaitFor(t, "delivery", func() bool { return len(rcv.deliveries()) == 1 })
	d := rcv.deliveries()[0]
	if d.err != nil { // verified with testSecret, the previous one
		t.Errorf("old secret: %v", d.err)
	}
	if err := verify(newSecret, d.header, d.body, time.Now()); err != nil {
		t.Errorf("new secret: %v", err)
	}
	if n := len(strings.Fields(d.header.Get("webhook-signature"))); n != 2 {
		t.Errorf("signatures = %d, want 2", n)
	}
	if _, _, err := ParseSecrets(newSecret + " whsec_???"); err == nil || !strings.Contains(err.Error(), "secret 2 of 2") {
		t.Errorf("a bad second secret: %v", err)
	}
}

func TestParseSecret(t *testing.T) {
	for _, bad := range []string{"", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_!!!", "whsec_c2hvcnQ="} {
		if _, err := ParseSecret(bad); err == nil {
			t.Errorf("ParseSecret(%q): no error", bad)
		}
	}
}

// receiver is an httptest server whose answers a test scripts per request.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []delivery
	answer func(n int, d delivery) int // status for the n-th request (0-based); 0 = hang past the timeout
	hang   chan struct{}
}

type delivery struct {
	header http.Header
	body   []byte
	err    error // of verify
}

func newReceiver(t *testing.T, answer func(n int, d delivery) int) *receiver {
	r := &receiver{answer: answer, hang: make(chan struct{})}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		d := delivery{header: req.Header.Clone(), body: body, err: verify(testSecret, req.Header, body, time.Now())}
		r.mu.Lock()
		n := len(r.got)
		r.got = append(r.got, d)
		r.mu.Unlock()
		status := r.answer(n, d)
		if status == 0 {
			select {
			case <-r.hang:
			case <-req.Context().Done():
			}
			return
		}
		w.WriteHeader(status)
		fmt.Fprint(w, "answer ", status)
	}))
	t.Cleanup(func() { close(r.hang); r.Close() })
	return r
}

func (r *receiver) deliveries() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.got...)
}

func startWorker(t *testing.T, db *store.DB, url string, tweak func(*Config)) {
	t.Helper()
	key, err := ParseSecret(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	// Timeout: a hanging receiver (answer 0) costs this much, but an
	// answer on loopback must never be cut by it on a loaded machine.
	cfg := Config{URL: url, Secret: key, Timeout: 2 * time.Second, Poll: 10 * time.Millisecond,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 80 * time.Millisecond}
	if tweak != nil {
		tweak(&cfg)
	}
	w, err := New(db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

func completeCall(t *testing.T, db *store.DB, id string) {
	t.Helper()
	err := db.UpdateStatus(context.Background(), store.StatusUpdate{Provider: "twilio", CallID: id, From: "+15550001", To: "+15550002", Status: "completed", Final: true})
	if err != nil {
		t.Fatal(err)
	}
}

func outbox(t *testing.T, db *store.DB) []store.OutboxEvent {
	t.Helper()
	evs, err := db.ListOutbox(context.Background(), store.OutboxListOptions{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// The receiver fails, then times out, then recovers: the event is
// delivered on the third attempt, with the same id and body each time, and
// every attempt verifies.
func TestDeliveryFailsTimesOutRecovers(t *testing.T) {
	testutil.ForEachStore(t, func(t *testing.T, newDSN func(testing.TB) string) {
		dsn := newDSN(t)
		db := openDB(t, dsn)
		db.EnableOutbox()
		rcv := newReceiver(t, func(n int, _ delivery) int {
			return []int{http.StatusInternalServerError, 0, http.StatusNoContent}[min(n, 2)]
		})
		completeCall(t, db, "CA1")
		var (
			mu       sync.Mutex
			outcomes []string
		)
		startWorker(t, db, rcv.URL, func(c *Config) {
			c.Observe = func(typ, outcome string) { mu.Lock(); outcomes = append(outcomes, typ+" "+outcome); mu.Unlock() }
		})
		testutil.WaitFor(t, "delivery", func() bool { evs := outbox(t, db); return evs[0].State == store.OutboxDelivered })
		mu.Lock()
		if got := strings.Join(outcomes, ", "); got != "call.completed failed, call.completed failed, call.completed delivered" {
			t.Errorf("observed %s", got)
		}
		mu.Unlock()
		got := rcv.deliveries()
		if len(got) != 3 {
			t.Fatalf("attempts = %d, want 3", len(got))
		}
		for i, d := range got {
			if d.err != nil {
				t.Errorf("attempt %d: signature: %v", i, d.err)
			}
			if d.header.Get("webhook-id") != got[0].header.Get("webhook-id") || string(d.body) != string(got[0].body) {
				t.Errorf("attempt %d differs from the first: %s %s", i, d.header.Get("webhook-id"), d.body)
			}
			if ct := d.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
		}
		e := outbox(t, db)[0]
		if e.Attempts != 3 || e.LastStatus != http.StatusNoContent || e.LastError != "" || e.DeliveredAt == nil {
			t.Errorf("event after delivery = %+v", e)
		}
		if !strings.Contains(string(got[0].body), `"type":"call.completed"`) || e.EventID != got[0].header.Get("webhook-id") {
			t.Errorf("body %s, id %s", got[0].body, got[0].header.Get("webhook-id"))
		}
	})
}

// An event that keeps failing past the give-up period is marked failed,
// with its last error kept for the admin.
func TestDeliveryGivesUp(t *testing.T) {
	db := openDB(t, testutil.SQLiteDSN(t))
	db.EnableOutbox()
	rcv := newReceiver(t, func(int, delivery) int { return http.StatusBadGateway })
	completeCall(t, db, "CA1")
	startWorker(t, db, rcv.URL, func(c *Config) { c.GiveUpAfter = time.Nanosecond })
	testutil.WaitFor(t, "give up", func() bool { return outbox(t, db)[0].State == store.OutboxFailed })
	e := outbox(t, db)[0]
	if e.Attempts != 1 || e.LastStatus != http.StatusBadGateway || !strings.Contains(e.LastError, "HTTP 502: answer 502") {
		t.Errorf("failed event = %+v", e)
	}
}

// A failed POST's error is logged and shown on /admin/webhooks: it does
// not repeat the URL, whose query may carry the receiver's credentials.
func TestDeliveryErrorLeavesOutTheURL(t *testing.T) {
	db := openDB(t, testutil.SQLiteDSN(t))
	db.EnableOutbox()
	addr := "http://" + testutil.ClosedAddr(t) // the POST itself fails
	completeCall(t, db, "CA1")
	var logs testutil.Buffer
	startWorker(t, db, addr+"/hook?token=SECRET-IN-URL", func(c *Config) {
		c.GiveUpAfter = time.Nanosecond
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	testutil.WaitFor(t, "give up", func() bool { return outbox(t, db)[0].State == store.OutboxFailed })
	e := outbox(t, db)[0]
	if !strings.HasPrefix(e.LastError, "POST: ") || strings.Contains(e.LastError, "SECRET") {
		t.Errorf("last error %q", e.LastError)
	}
	testutil.WaitFor(t, "the give-up log", func() bool { return strings.Contains(logs.String(), "given up") })
	if strings.Contains(logs.String(), "SECRET") {
		t.Errorf("the log names the URL:\n%s", logs.String())
	}
}

// Backoff doubles from MinBackoff up to MaxBackoff, with jitter between
// half and all of each step.
func TestBackoff(t *testing.T) {
	w, _ := New(nil, Config{URL: "http://x", Secret: []byte("k"), MinBackoff: time.Second, MaxBackoff: 16 * time.Second})
	for n, full := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 4: 8 * time.Second, 5: 16 * time.Second, 40: 16 * time.Second} {
		for range 50 {
			if d := w.backoff(n); d < full/2 || d > full {
				t.Fatalf("backoff(%d) = %s, want in [%s, %s]", n, d, full/2, full)
			}
		}
	}
	// The defaults retry for the whole give-up period: at most an hour apart.
	w, _ = New(nil, Config{URL: "http://x", Secret: []byte("k")})
	if d := w.backoff(1000); d > time.Hour || w.cfg.GiveUpAfter < 24*time.Hour {
		t.Errorf("default backoff(1000) = %s, give-up %s", d, w.cfg.GiveUpAfter)
	}
}

// Two instances on one database (each with its own connection pool, as two
// processes would have) deliver every event exactly once.
func TestTwoInstancesDeliverOnce(t *testing.T) {
	testutil.ForEachStore(t, func(t *testing.T, newDSN func(testing.TB) string) {
		dsn := newDSN(t)
		a, b := openDB(t, dsn), openDB(t, dsn)
		a.EnableOutbox()
		rcv := newReceiver(t, func(int, delivery) int { return http.StatusOK })
		const n = 120
		for i := range n {
			completeCall(t, a, fmt.Sprintf("CA%03d", i))
		}
		startWorker(t, a, rcv.URL, func(c *Config) { c.Owner = "a"; c.Timeout = 5 * time.Second })
		startWorker(t, b, rcv.URL, func(c *Config) { c.Owner = "b"; c.Timeout = 5 * time.Second })
		testutil.WaitFor(t, "all deliveries", func() bool {
			for _, e := range outbox(t, a) {
				if e.State != store.OutboxDelivered {
					return false
				}
			}
			return true
		})
		seen := map[string]int{}
		for _, d := range rcv.deliveries() {
			if d.err != nil {
				t.Error(d.err)
			}
			seen[d.header.Get("webhook-id")]++
		}
		if len(seen) != n {
			t.Errorf("distinct events received = %d, want %d", len(seen), n)
		}
		for id, c := range seen {
			if c != 1 {
				t.Errorf("%s delivered %d times", id, c)
			}
		}
	})
}

// --- stores -------------------------------------------------------------

func openDB(t *testing.T, dsn string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestDefaultClientBoundsTheConnection(t *testing.T) {
	w, err := New(nil, Config{URL: "https://hooks.example.com/ivr", Secret: []byte("k")})
	if err != nil {
		t.Fatal(err)
	}
	tr, ok := w.cfg.Client.Transport.(*http.Transport)
	if !ok || tr.TLSHandshakeTimeout <= 0 || tr.DialContext == nil || tr.MaxResponseHeaderBytes <= 0 {
		t.Fatalf("default client transport %T %+v: want bounded dial, handshake and headers", w.cfg.Client.Transport, tr)
	}
	if w.cfg.Client.Timeout != DefaultTimeout {
		t.Errorf("client timeout %v, want %v", w.cfg.Client.Timeout, DefaultTimeout)
	}
}
