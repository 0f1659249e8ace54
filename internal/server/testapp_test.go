package server

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	promtest "github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ivr-project/ivr/internal/auth"
	"github.com/ivr-project/ivr/internal/config"
	"github.com/ivr-project/ivr/internal/httpobs"
	"github.com/ivr-project/ivr/internal/publish"
	"github.com/ivr-project/ivr/internal/store"
)

// Test fixtures shared by the server's tests.
const (
	testPublic      = "https://ivr.test"
	testTwilioToken = "twilio-test-token"
	testPlivoToken  = "plivo-test-token"
	testCallCenter  = "+15551230000"
)

type testApp struct {
	handler http.Handler
	deps    Deps
	db      *store.DB
}

type appOption func(*Deps)

// newTestApp builds the real application (server.New) on a SQLite store in a
// temp dir and the bundled example flow, with the call-event writer running
// (stopped and flushed when the test ends). opts change the dependencies.
func newTestApp(t testing.TB, opts ...appOption) *testApp {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "ivr.db"))
	if err != nil {
		t.Fatal(err)
	}
	flows, err := publish.NewSource("", nil)
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	events := store.NewWriter(db, 10000, nil)
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { events.Run(wctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		fctx, fcancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer fcancel()
		events.Flush(fctx)
		db.Close()
	})
	d := Deps{
		Config: config.Config{
			PublicURL:     testPublic,
			CallCenter:    testCallCenter,
			FallbackText:  "Sorry, connecting you.",
			VoiceDeadline: 2 * time.Second,
			TwilioTokens:  []string{testTwilioToken},
			PlivoToken:    testPlivoToken,
			Providers:     map[string]bool{"twilio": true, "plivo": true},
		},
		Flows:   flows,
		Store:   db,
		Events:  events,
		Nonces:  auth.NewMemoryNonces(1000, time.Hour),
		Metrics: httpobs.NewMetrics(func() float64 { return float64(events.Depth()) }, func() float64 { return float64(events.Dropped()) }),
	}
	for _, o := range opts {
		o(&d)
	}
	h, err := New(d)
	if err != nil {
		t.Fatal(err)
	}
	return &testApp{handler: h, deps: d, db: db}
}

// request builds a correctly signed provider request for method and
// path (with query); form goes in the body for POST, in the query for GET.
func (a *testApp) request(provider, method, path string, form url.Values) *http.Request {
	return signedRequest(provider, testToken(provider), testPublic, method, path, form)
}

// testToken is the test app's auth token of provider.
func testToken(provider string) string {
	if provider == "plivo" {
		return testPlivoToken
	}
	return testTwilioToken
}

// nonces makes every Plivo test request's nonce unique.
var nonces atomic.Int64

// signedRequest builds the request provider sends for method and path (with
// query) under public, signed with token: form goes in the body for POST, in
// the query for GET. Any method is signed (a refused PUT is signed too).
func signedRequest(provider, token, public, method, path string, form url.Values) *http.Request {
	u := public + path
	var body io.Reader
	if method == http.MethodGet && len(form) > 0 {
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		u += sep + form.Encode()
		path = strings.TrimPrefix(u, public)
	} else if len(form) > 0 {
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, path, body)
	if body != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	params := form
	if method == http.MethodGet {
		params = nil
	}
	switch provider {
	case "twilio":
		r.Header.Set("X-Twilio-Signature", auth.SignTwilio(token, u, params))
	case "plivo":
		nonce := strconv.FormatInt(time.Now().UnixNano()+nonces.Add(1), 10)
		r.Header.Set("X-Plivo-Signature-V3-Nonce", nonce)
		r.Header.Set("X-Plivo-Signature-V3", auth.SignPlivoV3(token, u, nonce, method, params))
	}
	return r
}

func (a *testApp) serve(r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	a.handler.ServeHTTP(w, r)
	return w
}

func callForm(provider string) url.Values {
	if provider == "plivo" {
		return url.Values{"CallUUID": {"a1b2c3d4-e5f6-4a5b-8c7d-9e0f1a2b3c4d"}, "From": {"14155550100"}, "To": {"14155550199"}, "CallStatus": {"ringing"}, "Direction": {"inbound"}}
	}
	return url.Values{"CallSid": {"CA0123456789abcdef0123456789abcdef"}, "From": {"+14155550100"}, "To": {"+14155550199"}, "CallStatus": {"ringing"}, "Direction": {"inbound"}}
}

// node is a parsed XML element, for structural assertions.
type node struct {
	Name     string
	Attr     map[string]string
	Text     string
	Children []*node
}

func parseXML(t testing.TB, body string) *node {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(body))
	var stack []*node
	var root *node
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("response is not XML: %v\n%s", err, body)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			n := &node{Name: tok.Name.Local, Attr: map[string]string{}}
			for _, a := range tok.Attr {
				n.Attr[a.Name.Local] = a.Value
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, n)
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].Text += string(tok)
			}
		}
	}
	if root == nil {
		t.Fatalf("empty XML document: %q", body)
	}
	return root
}

// find returns every element reached by a path like "Response/Dial/Number".
func (n *node) find(path string) []*node {
	parts := strings.Split(path, "/")
	if n.Name != parts[0] {
		return nil
	}
	cur := []*node{n}
	for _, p := range parts[1:] {
		var next []*node
		for _, c := range cur {
			for _, ch := range c.Children {
				if ch.Name == p {
					next = append(next, ch)
				}
			}
		}
		cur = next
	}
	return cur
}

// has reports whether an element named name appears anywhere below n.
func (n *node) has(name string) bool {
	for _, c := range n.Children {
		if c.Name == name || c.has(name) {
			return true
		}
	}
	return false
}

type httpRecorder = httptest.ResponseRecorder

func ioNopCloser(s string) io.ReadCloser { return io.NopCloser(strings.NewReader(s)) }

func storeListAll() store.ListOptions { return store.ListOptions{Limit: 500} }

// testutilCount is how many fallbacks the app has answered.
func testutilCount(a *testApp) int {
	n := 0
	for _, p := range []string{"twilio", "plivo"} {
		for _, r := range []string{"flow", "render", "panic", "deadline", "not_found", "method_not_allowed", "bad_signature"} {
			n += int(promtest.ToFloat64(a.deps.Metrics.Fallbacks.WithLabelValues(p, r)))
		}
	}
	return n
}
