package main

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/store"
	"github.com/ivr-project/ivr/internal/testutil"
)

const (
	hookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	hookToken  = "webhook-test-token"
)

// hookReceiver records the deliveries it gets; while hang is set it holds
// each request open until the client gives up.
type hookReceiver struct {
	*httptest.Server
	mu     sync.Mutex
	hang   bool
	got    []hookDelivery
	gotOne chan struct{} // closed at the first request
	once   sync.Once
}

type hookDelivery struct {
	id   string
	body []byte
	ok   bool // the signature verified
	code int  // what was answered (0: held open)
}

func newHookReceiver(t *testing.T, hang bool) *hookReceiver {
	h := &hookReceiver{hang: hang, gotOne: make(chan struct{})}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		d := hookDelivery{id: r.Header.Get("webhook-id"), body: body, ok: hookSignatureOK(r.Header, body)}
		h.mu.Lock()
		hang := h.hang
		if !hang {
			d.code = http.StatusNoContent
		}
		h.got = append(h.got, d)
		h.mu.Unlock()
		h.once.Do(func() { close(h.gotOne) })
		if hang {
			<-r.Context().Done()
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookReceiver) setHang(v bool) {
	h.mu.Lock()
	h.hang = v
	h.mu.Unlock()
}

func (h *hookReceiver) deliveries() []hookDelivery {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookDelivery(nil), h.got...)
}

// hookSignatureOK verifies as the Standard Webhooks specification says:
// HMAC-SHA256 keyed with the base64 after whsec_, over id.timestamp.body.
func hookSignatureOK(h http.Header, body []byte) bool {
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(hookSecret, "whsec_"))
	m := hmac.New(sha256.New, key)
	m.Write([]byte(h.Get("webhook-id") + "." + h.Get("webhook-timestamp") + "." + string(body)))
	want := "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
	for _, s := range strings.Fields(h.Get("webhook-signature")) {
		if hmac.Equal([]byte(s), []byte(want)) {
			return true
		}
	}
	return false
}

// startChild runs the real server in a process of its own (see
// TestChildServer) and returns its base URL.
func startChild(t *testing.T, env ...string) (string, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildServer$")
	cmd.Env = append(os.Environ(), append([]string{"IVR_TEST_CHILD=1", "IVR_ADDR=127.0.0.1:0",
		"TWILIO_AUTH_TOKEN=" + hookToken, "IVR_NGROK_API=off", "IVR_PUBLIC_URL="}, env...)...)
	cmd.Dir = t.TempDir() // no .env from the work tree
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	re := regexp.MustCompile(`listening on (\S+)`)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			go func() {
				for sc.Scan() {
				}
			}()
			return m[1], cmd
		}
	}
	t.Fatal("the server process did not start")
	return "", nil
}

// TestWebhookSurvivesKill: a call.completed is committed with its status
// callback's 200; the server is SIGKILLed while delivering it; after a
// restart it is delivered, with the same id. The restarted server also
// closes a call whose final callback never came, and reports it.
func TestWebhookSurvivesKill(t *testing.T) {
	stores := map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "ivr.db") },
		"postgres": func(t *testing.T) string { return testutil.PostgresURL(t) },
	}
	for name, dsn := range stores {
		t.Run(name, func(t *testing.T) { testWebhookKill(t, dsn(t)) })
	}
}

func testWebhookKill(t *testing.T, dsn string) {
	rcv := newHookReceiver(t, true)
	env := []string{"IVR_DATABASE_URL=" + dsn, "IVR_WEBHOOK_URL=" + rcv.URL, "IVR_WEBHOOK_SECRET=" + hookSecret, "IVR_WEBHOOK_TIMEOUT=1s"}
	base, cmd := startChild(t, env...)
	status := func(base, sid, st string) {
		t.Helper()
		form := url.Values{"CallSid": {sid}, "CallStatus": {st}, "From": {"+14155550100"}, "To": {"+14155550199"}, "CallDuration": {"5"}}
		if resp, body := postTwilio(t, hookToken, base, "/twilio/status", form); resp.StatusCode != http.StatusOK {
			t.Fatalf("status %s: HTTP %d %s", st, resp.StatusCode, body)
		}
	}
	status(base, "CAopen", "in-progress") // its final callback never comes
	status(base, "CAdone", "completed")   // committed with its call.completed
	select {
	case <-rcv.gotOne: // the worker is delivering it: kill it mid-attempt
	case <-time.After(20 * time.Second):
		t.Fatal("no delivery attempt")
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	first := rcv.deliveries()[0]

	rcv.setHang(false)
	startChild(t, append(env, "IVR_CALL_CLOSE_AFTER=1ms")...)
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	testutil.WaitFor(t, "both call.completed delivered", func() bool {
		evs, err := db.ListOutbox(context.Background(), store.OutboxListOptions{State: store.OutboxDelivered})
		return err == nil && len(evs) == 2
	})
	byCall := map[string]map[string]any{}
	for _, d := range rcv.deliveries() {
		if !d.ok {
			t.Errorf("delivery %s: the signature does not verify", d.id)
		}
		var p struct {
			Type string
			Data map[string]any
		}
		if err := json.Unmarshal(d.body, &p); err != nil || p.Type != store.EventCallCompleted {
			t.Fatalf("body %s: %v", d.body, err)
		}
		if d.code != 0 {
			byCall[p.Data["call_id"].(string)] = p.Data
		}
		if p.Data["call_id"] == "CAdone" && d.id != first.id {
			t.Errorf("CAdone delivered under another id: %s, first %s", d.id, first.id)
		}
	}
	if d := byCall["CAdone"]; d == nil || d["status"] != "completed" || d["closed_by"] != "provider" {
		t.Errorf("CAdone after the restart: %v", d)
	}
	if d := byCall["CAopen"]; d == nil || d["status"] != store.StatusUnknown || d["closed_by"] != "ivr" {
		t.Errorf("the call without a final callback: %v", d)
	}
}

// TestTwoInstancesDeliverWebhooksOnce runs two real servers on one
// PostgreSQL, each with its delivery worker: callbacks through both, every
// event delivered exactly once.
func TestTwoInstancesDeliverWebhooksOnce(t *testing.T) {
	dsn := testutil.PostgresURL(t)
	rcv := newHookReceiver(t, false)
	env := map[string]string{"IVR_DATABASE_URL": dsn, "TWILIO_AUTH_TOKEN": hookToken,
		"IVR_WEBHOOK_URL": rcv.URL, "IVR_WEBHOOK_SECRET": hookSecret}
	a, _, _ := startServer(t, env)
	b, _, _ := startServer(t, env)
	const n = 60
	for i := range n {
		base := []string{a, b}[i%2]
		form := url.Values{"CallSid": {"CA" + padInt(i)}, "CallStatus": {"completed"}, "From": {"+14155550100"}, "To": {"+14155550199"}}
		if resp, body := postTwilio(t, hookToken, base, "/twilio/status", form); resp.StatusCode != http.StatusOK {
			t.Fatalf("HTTP %d %s", resp.StatusCode, body)
		}
	}
	testutil.WaitFor(t, "every event delivered", func() bool { return len(rcv.deliveries()) >= n })
	seen := map[string]int{}
	for _, d := range rcv.deliveries() {
		if !d.ok {
			t.Errorf("%s: bad signature", d.id)
		}
		seen[d.id]++
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("%s delivered %d times", id, c)
		}
	}
	if len(seen) != n {
		t.Errorf("%d distinct events delivered, want %d", len(seen), n)
	}
	// The instances count the attempts they made; the pending gauge (read
	// from the shared outbox) comes to 0.
	testutil.WaitFor(t, "ivr_webhook_pending 0", func() bool {
		return strings.Contains(metricsText(t, a), "ivr_webhook_pending 0\n")
	})
	total := 0.0
	for _, base := range []string{a, b} {
		total += metricValue(metricsText(t, base), `ivr_webhook_attempts_total{outcome="delivered",type="call.completed"}`)
	}
	if total != n {
		t.Errorf("delivered attempts counted by the two instances = %v, want %d", total, n)
	}
}

// metricValue is the value of the series line that starts with name (0 when absent).
func metricValue(text, name string) float64 {
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return 0
}

func metricsText(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// A webhook secret that is not whsec_<base64> stops the server at start,
// saying what to write, without printing the value.
func TestRunRefusesBadWebhookSecret(t *testing.T) {
	env := map[string]string{"IVR_ADDR": "127.0.0.1:0", "IVR_NGROK_API": "off",
		"IVR_DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "ivr.db"),
		"IVR_WEBHOOK_URL":  "https://hooks.example.com/ivr", "IVR_WEBHOOK_SECRET": "not-a-standard-secret"}
	err := run(context.Background(), []string{"ivr"}, testEnv(t, env), nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "IVR_WEBHOOK_SECRET") || !strings.Contains(err.Error(), "whsec_") {
		t.Fatalf("run = %v, want an error about IVR_WEBHOOK_SECRET", err)
	}
	if strings.Contains(err.Error(), "not-a-standard-secret") {
		t.Fatalf("the error prints the secret: %v", err)
	}
}
