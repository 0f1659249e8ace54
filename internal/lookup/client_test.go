package lookup

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/testutil"
)

// api is a local JSON API for the tests: each path answers as its handler says.
func api(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /accounts/{id}", func(w http.ResponseWriter, r *http.Request) {
		switch r.PathValue("id") {
		case "123456":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"balance": 42.50, "big": 12345678901234567890, "active": true, "none": null,
				"account": {"status": "active", "owner": {"name": "Ada"}}, "items": [{"id": "a1"}, {"id": "b2"}]}`)
		default:
			http.Error(w, `{"error": "not found"}`, http.StatusNotFound)
		}
	})
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		json.NewEncoder(w).Encode(map[string]string{
			"auth": r.Header.Get("Authorization"), "type": r.Header.Get("Content-Type"),
			"accept": r.Header.Get("Accept"), "body": string(body), "method": r.Method,
		})
	})
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	mux.HandleFunc("GET /status/{code}", func(w http.ResponseWriter, r *http.Request) {
		switch r.PathValue("code") {
		case "500":
			w.WriteHeader(500)
		case "302":
			http.Redirect(w, r, "/accounts/123456", http.StatusFound)
		case "429":
			w.WriteHeader(429)
		}
	})
	mux.HandleFunc("GET /big", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("chunked") == "" {
			w.Header().Set("Content-Length", "65537")
		}
		w.Write([]byte(`{"a":"`))
		w.Write(bytes.Repeat([]byte("x"), 65537-8))
		w.Write([]byte(`"}`))
	})
	// 10 MiB of JSON that travels as about 10 KiB: read only up to the cap.
	// Compressed once here, not per request (under the race detector on a
	// loaded machine, compressing took longer than the lookup's timeout).
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(`{"a":"`))
	zw.Write(bytes.Repeat([]byte("0"), 10<<20))
	zw.Write([]byte(`"}`))
	zw.Close()
	mux.HandleFunc("GET /gzip", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
		w.Write(buf.Bytes())
	})
	mux.HandleFunc("GET /drip", func(w http.ResponseWriter, r *http.Request) {
		// Headers at once, then the body a byte at a time, never ending.
		w.Write([]byte(`{"a":"`))
		for {
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(5 * time.Millisecond):
				w.Write([]byte("x"))
			}
		}
	})
	mux.HandleFunc("GET /exact", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"a":"`))
		w.Write(bytes.Repeat([]byte("x"), 65536-8))
		w.Write([]byte(`"}`))
	})
	mux.HandleFunc("GET /long", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"a":"`+strings.Repeat("y", 300)+`"}`)
	})
	mux.HandleFunc("GET /text/{what}", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, map[string]string{"html": "<html>oops</html>", "two": `{"a":1} {"a":2}`, "empty": "", "cut": `{"a": [1, 2`}[r.PathValue("what")])
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestDo(t *testing.T) {
	srv := api(t)
	c := New(Options{})
	cases := []struct {
		name   string
		l      Lookup
		kind   string
		status int
		values map[string]string
	}{
		{"ok", Lookup{URL: srv.URL + "/accounts/123456", Save: map[string]string{
			"balance": "balance", "status": "account.status", "name": "account.owner.name",
			"second": "items.1.id", "active": "active", "big": "big"}},
			KindOK, 200, map[string]string{"balance": "42.50", "status": "active", "name": "Ada", "second": "b2", "active": "true", "big": "12345678901234567890"}},
		{"ok without save", Lookup{URL: srv.URL + "/accounts/123456"}, KindOK, 200, map[string]string{}},
		{"post", Lookup{Method: "POST", URL: srv.URL + "/echo", Body: []byte(`{"caller":"+1555"}`),
			Headers: map[string]string{"Authorization": "Bearer tok"},
			Save:    map[string]string{"auth": "auth", "type": "type", "body": "body", "accept": "accept", "method": "method"}},
			KindOK, 200, map[string]string{"auth": "Bearer tok", "type": "application/json", "body": `{"caller":"+1555"}`, "accept": "application/json", "method": "POST"}},
		{"404", Lookup{URL: srv.URL + "/accounts/999"}, KindStatus, 404, nil},
		{"500", Lookup{URL: srv.URL + "/status/500"}, KindStatus, 500, nil},
		{"redirect not followed", Lookup{URL: srv.URL + "/status/302", Save: map[string]string{"s": "account.status"}}, KindStatus, 302, nil},
		{"timeout", Lookup{URL: srv.URL + "/slow", Timeout: 20 * time.Millisecond}, KindTimeout, 0, nil},
		{"too large announced", Lookup{URL: srv.URL + "/big"}, KindTooLarge, 200, nil},
		{"too large chunked", Lookup{URL: srv.URL + "/big?chunked=1"}, KindTooLarge, 200, nil},
		{"gzip bomb", Lookup{URL: srv.URL + "/gzip", Save: map[string]string{"a": "a"}}, KindTooLarge, 200, nil},
		{"body drips", Lookup{URL: srv.URL + "/drip", Timeout: time.Second}, KindTimeout, 200, nil}, // headers well within it
		{"exactly 64 KiB", Lookup{URL: srv.URL + "/exact"}, KindOK, 200, map[string]string{}},
		{"value too long", Lookup{URL: srv.URL + "/long", Save: map[string]string{"a": "a"}}, KindTooLarge, 200, nil},
		{"html", Lookup{URL: srv.URL + "/text/html"}, KindBadJSON, 200, nil},
		{"two values", Lookup{URL: srv.URL + "/text/two"}, KindBadJSON, 200, nil},
		{"empty", Lookup{URL: srv.URL + "/text/empty"}, KindBadJSON, 200, nil},
		{"cut", Lookup{URL: srv.URL + "/text/cut"}, KindBadJSON, 200, nil},
		{"missing", Lookup{URL: srv.URL + "/accounts/123456", Save: map[string]string{"x": "account.nothing"}}, KindMissingField, 200, nil},
		{"null", Lookup{URL: srv.URL + "/accounts/123456", Save: map[string]string{"x": "none"}}, KindMissingField, 200, nil},
		{"object", Lookup{URL: srv.URL + "/accounts/123456", Save: map[string]string{"x": "account"}}, KindMissingField, 200, nil},
		{"index out of range", Lookup{URL: srv.URL + "/accounts/123456", Save: map[string]string{"x": "items.2.id"}}, KindMissingField, 200, nil},
		{"refused", Lookup{URL: "http://127.0.0.1:1/x"}, KindError, 0, nil},
		{"not http", Lookup{URL: "ftp://example.com/x"}, KindError, 0, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.l.Request = "r_" + strings.ReplaceAll(tc.name, " ", "_") // a breaker each
			o := c.Do(context.Background(), tc.l)
			if o.Kind != tc.kind || o.Status != tc.status {
				t.Fatalf("kind %q status %d (err %v), want %q %d", o.Kind, o.Status, o.Err, tc.kind, tc.status)
			}
			if o.Result.Request != tc.l.Request || o.Result.OK != (tc.kind == KindOK) {
				t.Fatalf("result %+v", o.Result)
			}
			if tc.values != nil && !equal(o.Result.Values, tc.values) {
				t.Fatalf("values %v, want %v", o.Result.Values, tc.values)
			}
			if o.Kind != KindOK && (o.Err == nil || o.Result.Values != nil) {
				t.Fatalf("a failure needs a reason and no values: %+v", o)
			}
			if o.Duration <= 0 {
				t.Fatal("no duration")
			}
		})
	}
}

func equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// The caller's context (the voice deadline) bounds the request even when
// the request's own timeout is longer.
func TestDoCallerDeadline(t *testing.T) {
	srv := api(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	o := New(Options{}).Do(ctx, Lookup{Request: "slow", URL: srv.URL + "/slow", Timeout: 10 * time.Second})
	if o.Kind != KindTimeout {
		t.Fatalf("kind %q, want timeout", o.Kind)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %s: the caller's deadline was ignored", d)
	}
}

func TestBreaker(t *testing.T) {
	var hits atomic.Int32
	fail := atomic.Bool{}
	fail.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if fail.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, `{"ok": "yes"}`)
	}))
	defer srv.Close()
	var mu sync.Mutex
	var changes []string
	var logs testutil.Buffer
	// OpenFor: the lookup right after the breaker opens must find it still
	// open, even on a loaded machine.
	c := New(Options{Failures: 3, OpenFor: time.Second, Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
		OnBreaker: func(name, from, to string) {
			mu.Lock()
			changes = append(changes, name+":"+from+">"+to)
			mu.Unlock()
		}})
	l := Lookup{Request: "crm", URL: srv.URL, Save: map[string]string{"ok": "ok"}}
	for i := range 3 {
		if o := c.Do(context.Background(), l); o.Kind != KindStatus {
			t.Fatalf("try %d: kind %q", i, o.Kind)
		}
	}
	o := c.Do(context.Background(), l)
	if o.Kind != KindBreakerOpen || o.Result.OK || o.Status != 0 {
		t.Fatalf("after 3 failures: %+v, want breaker_open", o)
	}
	if hits.Load() != 3 {
		t.Fatalf("the API was asked %d times, want 3 (open breaker must not ask)", hits.Load())
	}
	// Another request name has its own breaker.
	if o := c.Do(context.Background(), Lookup{Request: "other", URL: srv.URL}); o.Kind != KindStatus {
		t.Fatalf("other request: %q", o.Kind)
	}
	// Once OpenFor has passed, one trial goes through; success closes it.
	fail.Store(false)
	testutil.WaitFor(t, "the breaker to let a trial through", func() bool {
		o = c.Do(context.Background(), l)
		return o.Kind != KindBreakerOpen
	})
	if o.Kind != KindOK || o.Result.Values["ok"] != "yes" {
		t.Fatalf("after the open period: %+v", o)
	}
	mu.Lock()
	got := strings.Join(changes, " ")
	mu.Unlock()
	if got != "crm:closed>open crm:open>half-open crm:half-open>closed" {
		t.Fatalf("state changes %q", got)
	}
	if !strings.Contains(logs.String(), `"msg":"lookup breaker open"`) {
		t.Fatalf("the opening is not logged: %s", logs.String())
	}
}

// Answers that are the API's (4xx, bad JSON, a missing field) keep the breaker closed.
func TestBreakerIgnoresAnswers(t *testing.T) {
	srv := api(t)
	c := New(Options{Failures: 2})
	for i := range 5 {
		for _, l := range []Lookup{
			{Request: "acct", URL: srv.URL + "/accounts/1"},
			{Request: "acct", URL: srv.URL + "/text/html"},
			{Request: "acct", URL: srv.URL + "/accounts/123456", Save: map[string]string{"x": "nope"}},
		} {
			if o := c.Do(context.Background(), l); o.Kind == KindBreakerOpen {
				t.Fatalf("round %d: the breaker opened on an answer", i)
			}
		}
	}
	// A step with no time left asks nothing and counts nothing.
	done, stop := context.WithTimeout(context.Background(), 0)
	defer stop()
	for range 5 {
		if o := c.Do(done, Lookup{Request: "late", URL: srv.URL + "/accounts/123456"}); o.Kind != KindTimeout {
			t.Fatalf("no time left: %q", o.Kind)
		}
	}
	if o := c.Do(context.Background(), Lookup{Request: "late", URL: srv.URL + "/accounts/123456"}); o.Kind != KindOK {
		t.Fatalf("late lookups opened the breaker: %q", o.Kind)
	}
	// A caller who hangs up is not the API's failure either.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 5 {
		if o := c.Do(ctx, Lookup{Request: "gone", URL: srv.URL + "/slow"}); o.Kind == KindBreakerOpen {
			t.Fatal("the breaker opened on cancelled callers")
		}
	}
}

// An outcome's error never repeats the URL's path and query (a caller's
// value), a header (a secret) or the body; neither do the breaker's logs.
func TestErrorsKeepSecrets(t *testing.T) {
	srv := api(t)
	var logs testutil.Buffer
	c := New(Options{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})), Failures: 1})
	secret := "Bearer s3cr3t-T0KEN"
	var out strings.Builder
	kinds := map[string]bool{}
	for _, l := range []Lookup{
		{Request: "a", URL: srv.URL + "/accounts/987654?pin=4321", Headers: map[string]string{"Authorization": secret}},
		{Request: "b", Method: "POST", URL: srv.URL + "/echo", Headers: map[string]string{"X-Api-Key": secret},
			Body: []byte(`{"account":"987654"}`), Save: map[string]string{"x": "nothing"}},
		{Request: "c", URL: "http://127.0.0.1:1/accounts/987654", Headers: map[string]string{"Authorization": secret}},
		{Request: "c", URL: "http://127.0.0.1:1/accounts/987654", Headers: map[string]string{"Authorization": secret}},
		{Request: "d", URL: srv.URL + "/text/html?account=987654"},
		{Request: "e", URL: srv.URL + "/slow?account=987654", Timeout: time.Millisecond},
		{Request: "f", URL: "http://[::1]:namedport/987654"},
	} {
		o := c.Do(context.Background(), l)
		kinds[o.Kind] = true
		out.WriteString(o.Err.Error() + "\n")
	}
	out.WriteString(logs.String())
	for _, bad := range []string{"s3cr3t", "987654", "4321", "oops", "Bearer"} {
		if strings.Contains(out.String(), bad) {
			t.Errorf("errors or logs hold %q:\n%s", bad, out.String())
		}
	}
	for _, k := range []string{KindStatus, KindMissingField, KindError, KindBreakerOpen, KindBadJSON, KindTimeout} {
		if !kinds[k] {
			t.Errorf("no %s outcome in %v", k, kinds)
		}
	}
}

// TestDoUnsent: a lookup the engine could not build (Unsent) is not sent,
// does not count against its breaker, and hands back its own result.
func TestDoUnsent(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	c := New(Options{Failures: 1})
	for range 3 {
		o := c.Do(context.Background(), Lookup{Request: "a", Method: "GET", URL: srv.URL, Unsent: "secret X is not set (IVR_SECRET_X)"})
		if o.Kind != KindUnsent || o.Result.OK || o.Result.Request != "a" || o.Result.Unsent == "" || o.Err == nil {
			t.Fatalf("outcome %+v", o)
		}
	}
	if o := c.Do(context.Background(), Lookup{Request: "a", Method: "GET", URL: srv.URL}); o.Kind != KindStatus && o.Kind != KindBadJSON {
		t.Errorf("after unsent lookups the request is %s (breaker counted them?)", o.Kind)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("the API was asked %d times, want 1 (unsent lookups sent)", n)
	}
}
