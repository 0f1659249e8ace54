package server

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/auth"
	"github.com/ivr-project/ivr/internal/config"
	"github.com/ivr-project/ivr/internal/ivr"
	"github.com/ivr-project/ivr/internal/store"
	promtest "github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ivr-project/ivr/internal/testutil"
)

const (
	adminTestToken = "admin-token-for-tests-0123456789"
	adminTryToken  = "try-token-for-tests-9876543210"
)

// adminEnv is a whole server (newTestApp) configured from variables as
// `ivr serve` is, with the admin token set.
type adminEnv struct {
	h       http.Handler
	deps    Deps
	db      *store.DB
	flows   *ivr.Source
	metrics *Metrics
}

// newAdminEnv builds the server. env adds or overrides configuration
// variables (IVR_ADMIN_TOKEN is set unless env sets it, even to "").
func newAdminEnv(t testing.TB, flowPath string, env map[string]string) *adminEnv {
	t.Helper()
	vars := map[string]string{
		"IVR_ADMIN_TOKEN":        adminTestToken,
		"TWILIO_AUTH_TOKEN":      adminTryToken,
		"PLIVO_AUTH_TOKEN":       adminTryToken,
		"IVR_CALL_CENTER_NUMBER": "+15005550006",
		"IVR_NGROK_API":          "off",
	}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() && os.Getenv("IVR_TEST_LOG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	flows, err := ivr.NewSource(flowPath, logger)
	if err != nil {
		t.Fatalf("flow: %v", err)
	}
	metrics := NewMetrics(nil, nil)
	a := newTestApp(t, func(d *Deps) {
		d.Config, d.Logger, d.Flows, d.Metrics = cfg, logger, flows, metrics
		d.Nonces = auth.NewMemoryNonces(10000, time.Hour)
		d.Failures = store.NewFailureCounter(d.Store, logger)
	})
	return &adminEnv{h: a.handler, deps: a.deps, db: a.db, flows: flows, metrics: metrics}
}

type reqOpt func(*http.Request)

func withBearer(tok string) reqOpt {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}
func withCookie(c *http.Cookie) reqOpt { return func(r *http.Request) { r.AddCookie(c) } }
func withHeader(k, v string) reqOpt    { return func(r *http.Request) { r.Header.Set(k, v) } }
func withRemote(addr string) reqOpt    { return func(r *http.Request) { r.RemoteAddr = addr } }

func (e *adminEnv) do(t testing.TB, method, target, body string, opts ...reqOpt) *httptest.ResponseRecorder {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, target, rd)
	r.RemoteAddr = "192.0.2.10:5555" // not loopback unless a test says so
	if body != "" {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if strings.HasPrefix(body, "{") {
			r.Header.Set("Content-Type", "application/json")
		}
	}
	for _, o := range opts {
		o(r)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}

func cookieNamed(w *httptest.ResponseRecorder, name string) *http.Cookie {
	for _, c := range w.Result().Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// login goes through the form and returns the session and CSRF cookies.
func (e *adminEnv) login(t testing.TB) (session, csrf *http.Cookie) {
	t.Helper()
	page := e.do(t, "GET", "/admin/login", "")
	csrf = cookieNamed(page, csrfCookie)
	if page.Code != 200 || csrf == nil {
		t.Fatalf("GET /admin/login: %d, csrf cookie %v", page.Code, csrf)
	}
	form := url.Values{"token": {adminTestToken}, csrfField: {csrf.Value}, "next": {"/admin/calls"}}
	w := e.do(t, "POST", "/admin/login", form.Encode(), withCookie(csrf), withHeader("Origin", "http://example.com"))
	session = cookieNamed(w, sessionCookie)
	if w.Code != http.StatusSeeOther || session == nil {
		t.Fatalf("POST /admin/login: %d %q, session cookie %v", w.Code, w.Body.String(), session)
	}
	return session, csrf
}

func TestAdminAccessWithToken(t *testing.T) {
	e := newAdminEnv(t, "", nil)
	session, _ := e.login(t)
	a := newAdmin(e.deps)
	expired := &http.Cookie{Name: sessionCookie, Value: a.newSession(time.Now().Add(-sessionTTL - time.Minute))}
	forged := &http.Cookie{Name: sessionCookie, Value: "99999999999.0123456789abcdef"}
	raw := &http.Cookie{Name: sessionCookie, Value: adminTestToken}
	tests := []struct {
		name     string
		method   string
		path     string
		opts     []reqOpt
		want     int
		location string
	}{
		{"page without token redirects to login", "GET", "/admin/flow", nil, http.StatusSeeOther, "/admin/login?next=%2Fadmin%2Fflow"},
		{"root without token redirects to login", "GET", "/admin/", nil, http.StatusSeeOther, "/admin/login?next=%2Fadmin%2F"},
		{"calls page without token", "GET", "/admin/calls", nil, http.StatusSeeOther, "/admin/login?next=%2Fadmin%2Fcalls"},
		{"api without token", "GET", "/admin/api/calls", nil, http.StatusUnauthorized, ""},
		{"api with wrong bearer", "GET", "/admin/api/calls", []reqOpt{withBearer("wrong")}, http.StatusUnauthorized, ""},
		{"api with empty bearer", "GET", "/admin/api/calls", []reqOpt{withHeader("Authorization", "Bearer ")}, http.StatusUnauthorized, ""},
		{"api with basic auth", "GET", "/admin/api/calls", []reqOpt{withHeader("Authorization", "Basic "+adminTestToken)}, http.StatusUnauthorized, ""},
		{"api with bearer", "GET", "/admin/api/calls", []reqOpt{withBearer(adminTestToken)}, http.StatusOK, ""},
		{"page with bearer", "GET", "/admin/flow", []reqOpt{withBearer(adminTestToken)}, http.StatusOK, ""},
		{"page with session", "GET", "/admin/flow", []reqOpt{withCookie(session)}, http.StatusOK, ""},
		{"api with session", "GET", "/admin/api/calls", []reqOpt{withCookie(session)}, http.StatusOK, ""},
		{"try with wrong bearer", "POST", "/admin/api/try", []reqOpt{withBearer("nope")}, http.StatusUnauthorized, ""},
		{"expired session", "GET", "/admin/flow", []reqOpt{withCookie(expired)}, http.StatusSeeOther, "/admin/login?next=%2Fadmin%2Fflow"},
		{"forged session", "GET", "/admin/flow", []reqOpt{withCookie(forged)}, http.StatusSeeOther, "/admin/login?next=%2Fadmin%2Fflow"},
		{"token as cookie", "GET", "/admin/api/calls", []reqOpt{withCookie(raw)}, http.StatusUnauthorized, ""},
		{"login page is open", "GET", "/admin/login", nil, http.StatusOK, ""},
		{"static is open", "GET", "/admin/static/admin.css", nil, http.StatusOK, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := e.do(t, tc.method, tc.path, "", tc.opts...)
			if w.Code != tc.want {
				t.Fatalf("%s %s = %d, want %d (%s)", tc.method, tc.path, w.Code, tc.want, w.Body.String())
			}
			if tc.location != "" && w.Header().Get("Location") != tc.location {
				t.Errorf("Location = %q, want %q", w.Header().Get("Location"), tc.location)
			}
			if w.Code == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
				t.Errorf("401 without WWW-Authenticate")
			}
		})
	}
}

func TestAdminLoginCookie(t *testing.T) {
	e := newAdminEnv(t, "", nil)
	session, csrf := e.login(t)
	if session.Value == "" || strings.Contains(session.Value, adminTestToken) {
		t.Errorf("session cookie %q must be an HMAC, not the token", session.Value)
	}
	// The attributes as the browser sees them.
	page := e.do(t, "GET", "/admin/login", "")
	c := cookieNamed(page, csrfCookie)
	form := url.Values{"token": {adminTestToken}, csrfField: {c.Value}, "next": {"/admin/calls"}}
	w := e.do(t, "POST", "/admin/login", form.Encode(), withCookie(c), withHeader("Origin", "http://example.com"))
	set := w.Header().Get("Set-Cookie")
	for _, want := range []string{"ivr_admin=", "Path=/admin", "HttpOnly", "SameSite=Strict", "Max-Age="} {
		if !strings.Contains(set, want) {
			t.Errorf("Set-Cookie %q lacks %q", set, want)
		}
	}
	if strings.Contains(set, "Secure") {
		t.Errorf("Set-Cookie %q is Secure on plain http without an https public URL", set)
	}
	if loc := w.Header().Get("Location"); loc != "/admin/calls" {
		t.Errorf("after login Location = %q, want /admin/calls", loc)
	}
	if !strings.Contains(cookieNamed(page, csrfCookie).String(), "SameSite=Strict") {
		t.Errorf("csrf cookie attributes: %s", cookieNamed(page, csrfCookie))
	}

	t.Run("secure over https", func(t *testing.T) {
		w := e.do(t, "POST", "/admin/login", form.Encode(), withCookie(c), withHeader("Origin", "https://example.com"),
			func(r *http.Request) { r.TLS = &tls.ConnectionState{} })
		if s := w.Header().Get("Set-Cookie"); !strings.Contains(s, "Secure") {
			t.Errorf("Set-Cookie over TLS = %q, want Secure", s)
		}
	})
	t.Run("secure with https public URL", func(t *testing.T) {
		e2 := newAdminEnv(t, "", map[string]string{"IVR_PUBLIC_URL": "https://ivr.example.com"})
		page := e2.do(t, "GET", "/admin/login", "")
		c := cookieNamed(page, csrfCookie)
		form := url.Values{"token": {adminTestToken}, csrfField: {c.Value}}
		w := e2.do(t, "POST", "/admin/login", form.Encode(), withCookie(c), withHeader("Origin", "https://ivr.example.com"))
		if s := w.Header().Get("Set-Cookie"); w.Code != http.StatusSeeOther || !strings.Contains(s, "Secure") {
			t.Errorf("login = %d, Set-Cookie %q, want 303 and Secure", w.Code, s)
		}
	})
	t.Run("wrong token", func(t *testing.T) {
		form := url.Values{"token": {"guess"}, csrfField: {csrf.Value}}
		w := e.do(t, "POST", "/admin/login", form.Encode(), withCookie(csrf), withHeader("Origin", "http://example.com"))
		if w.Code != http.StatusUnauthorized || cookieNamed(w, sessionCookie) != nil {
			t.Errorf("wrong token: %d, session %v", w.Code, cookieNamed(w, sessionCookie))
		}
		if !strings.Contains(w.Body.String(), "Wrong token") {
			t.Errorf("wrong token page does not say so")
		}
	})
	t.Run("next stays on the admin", func(t *testing.T) {
		for _, next := range []string{"https://evil.example/", "//evil.example/admin/", "/twilio/voice", "/admin/\\evil"} {
			form := url.Values{"token": {adminTestToken}, csrfField: {csrf.Value}, "next": {next}}
			w := e.do(t, "POST", "/admin/login", form.Encode(), withCookie(csrf), withHeader("Origin", "http://example.com"))
			if loc := w.Header().Get("Location"); loc != "/admin/flow" {
				t.Errorf("next=%q: Location %q, want /admin/flow", next, loc)
			}
		}
	})
	t.Run("logout", func(t *testing.T) {
		w := e.do(t, "POST", "/admin/logout", url.Values{csrfField: {csrf.Value}}.Encode(),
			withCookie(session), withCookie(csrf), withHeader("Origin", "http://example.com"))
		c := cookieNamed(w, sessionCookie)
		if w.Code != http.StatusSeeOther || c == nil || c.MaxAge >= 0 {
			t.Errorf("logout: %d, cookie %v; want 303 and a deleted cookie", w.Code, c)
		}
	})
}

func TestAdminCrossSite(t *testing.T) {
	e := newAdminEnv(t, "", nil)
	session, csrf := e.login(t)
	login := url.Values{"token": {adminTestToken}, csrfField: {csrf.Value}}.Encode()
	try := `{"provider":"twilio"}`
	tests := []struct {
		name, path, body string
		opts             []reqOpt
	}{
		{"login from evil origin", "/admin/login", login, []reqOpt{withCookie(csrf), withHeader("Origin", "https://evil.example")}},
		{"login from evil referer", "/admin/login", login, []reqOpt{withCookie(csrf), withHeader("Referer", "https://evil.example/page")}},
		{"login without origin", "/admin/login", login, []reqOpt{withCookie(csrf)}},
		{"login with null origin", "/admin/login", login, []reqOpt{withCookie(csrf), withHeader("Origin", "null")}},
		{"login without csrf token", "/admin/login", url.Values{"token": {adminTestToken}}.Encode(), []reqOpt{withCookie(csrf), withHeader("Origin", "http://example.com")}},
		{"login without csrf cookie", "/admin/login", login, []reqOpt{withHeader("Origin", "http://example.com")}},
		{"try from evil origin", "/admin/api/try", try, []reqOpt{withCookie(session), withCookie(csrf), withHeader(csrfHeader, csrf.Value), withHeader("Origin", "https://evil.example")}},
		{"try from evil origin with bearer", "/admin/api/try", try, []reqOpt{withBearer(adminTestToken), withHeader("Origin", "https://evil.example")}},
		{"try without csrf header", "/admin/api/try", try, []reqOpt{withCookie(session), withCookie(csrf), withHeader("Origin", "http://example.com")}},
		{"try with wrong csrf header", "/admin/api/try", try, []reqOpt{withCookie(session), withCookie(csrf), withHeader(csrfHeader, strings.Repeat("0", 64)), withHeader("Origin", "http://example.com")}},
		{"logout from evil origin", "/admin/logout", url.Values{csrfField: {csrf.Value}}.Encode(), []reqOpt{withCookie(session), withCookie(csrf), withHeader("Origin", "https://evil.example")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := e.do(t, "POST", tc.path, tc.body, tc.opts...)
			if w.Code != http.StatusForbidden {
				t.Fatalf("POST %s = %d, want 403 (%s)", tc.path, w.Code, w.Body.String())
			}
			if cookieNamed(w, sessionCookie) != nil {
				t.Errorf("a refused request set the session cookie")
			}
		})
	}
	t.Run("same origin try is accepted", func(t *testing.T) {
		w := e.do(t, "POST", "/admin/api/try", try, withCookie(session), withCookie(csrf),
			withHeader(csrfHeader, csrf.Value), withHeader("Origin", "http://example.com"))
		if w.Code != http.StatusOK {
			t.Fatalf("try = %d %s", w.Code, w.Body.String())
		}
	})
}

func TestAdminSecurityHeaders(t *testing.T) {
	e := newAdminEnv(t, "", nil)
	want := map[string]string{
		"X-Frame-Options":        "DENY",
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "same-origin",
		"Cache-Control":          "no-store",
	}
	for _, tc := range []struct {
		path string
		opts []reqOpt
	}{
		{"/admin/login", nil},
		{"/admin/flow", nil}, // redirect
		{"/admin/flow", []reqOpt{withBearer(adminTestToken)}},
		{"/admin/try", []reqOpt{withBearer(adminTestToken)}},
		{"/admin/calls", []reqOpt{withBearer(adminTestToken)}},
		{"/admin/api/calls", nil}, // 401
		{"/admin/api/calls", []reqOpt{withBearer(adminTestToken)}},
		{"/admin/static/try.js", nil},
		{"/admin/nope", []reqOpt{withBearer(adminTestToken)}},
	} {
		w := e.do(t, "GET", tc.path, "", tc.opts...)
		for k, v := range want {
			if got := w.Header().Get(k); got != v {
				t.Errorf("GET %s (%d): %s = %q, want %q", tc.path, w.Code, k, got, v)
			}
		}
		csp := w.Header().Get("Content-Security-Policy")
		for _, part := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, part) {
				t.Errorf("GET %s: CSP %q lacks %q", tc.path, csp, part)
			}
		}
		if strings.Contains(csp, "unsafe-inline") {
			t.Errorf("GET %s: CSP allows inline code: %q", tc.path, csp)
		}
	}
	// No inline script or style in any page (the CSP would block it).
	for _, p := range []string{"/admin/login", "/admin/flow", "/admin/try", "/admin/calls"} {
		body := e.do(t, "GET", p, "", withBearer(adminTestToken)).Body.String()
		if regexp.MustCompile(`<script>|<script [^>]*>[^<]|<style|style="|\son[a-z]+="`).MatchString(body) {
			t.Errorf("GET %s has inline script or style", p)
		}
	}
}

func TestAdminNoTokenMode(t *testing.T) {
	e := newAdminEnv(t, "", map[string]string{"IVR_ADMIN_TOKEN": ""})
	for _, tc := range []struct {
		remote string
		path   string
		want   int
	}{
		{"127.0.0.1:1234", "/admin/flow", http.StatusOK},
		{"[::1]:1234", "/admin/api/calls", http.StatusOK},
		{"127.0.0.1:1234", "/admin/calls", http.StatusOK},
		{"203.0.113.5:1234", "/admin/flow", http.StatusForbidden},
		{"203.0.113.5:1234", "/admin/api/calls", http.StatusForbidden},
		{"203.0.113.5:1234", "/admin/login", http.StatusForbidden},
		{"203.0.113.5:1234", "/admin/static/admin.css", http.StatusForbidden},
	} {
		w := e.do(t, "GET", tc.path, "", withRemote(tc.remote), withHost("localhost:8080"))
		if w.Code != tc.want {
			t.Errorf("GET %s from %s = %d, want %d", tc.path, tc.remote, w.Code, tc.want)
		}
		if w.Header().Get("X-Frame-Options") != "DENY" {
			t.Errorf("GET %s from %s: no security headers", tc.path, tc.remote)
		}
	}
	// Local mode still wants the CSRF token on POSTs.
	w := e.do(t, "POST", "/admin/api/try", `{"provider":"twilio"}`, withRemote("127.0.0.1:1"), withHost("127.0.0.1:8080"), withHeader("Origin", "http://127.0.0.1:8080"))
	if w.Code != http.StatusForbidden {
		t.Errorf("local try without CSRF token = %d, want 403", w.Code)
	}
	page := e.do(t, "GET", "/admin/try", "", withRemote("127.0.0.1:1"), withHost("127.0.0.1:8080"))
	c := cookieNamed(page, csrfCookie)
	w = e.do(t, "POST", "/admin/api/try", `{"provider":"twilio"}`, withRemote("127.0.0.1:1"), withHost("127.0.0.1:8080"), withHeader("Origin", "http://127.0.0.1:8080"),
		withCookie(c), withHeader(csrfHeader, c.Value))
	if w.Code != http.StatusOK {
		t.Errorf("local try with CSRF token = %d, want 200: %s", w.Code, w.Body.String())
	}
	if strings.Contains(page.Body.String(), "Log out") {
		t.Errorf("local mode shows a logout button")
	}
}

func TestAdminFlowMap(t *testing.T) {
	e := newAdminEnv(t, "", nil)
	w := e.do(t, "GET", "/admin/flow", "", withBearer(adminTestToken))
	if w.Code != 200 {
		t.Fatalf("GET /admin/flow = %d", w.Code)
	}
	body := w.Body.String()
	menus := e.flows.Flow().Menus()
	if len(menus) < 2 {
		t.Fatalf("example flow has %d menus", len(menus))
	}
	for _, m := range menus {
		for _, want := range []string{`id="menu-` + m.ID + `"`, `data-node="m:` + m.ID + `"`} {
			if !strings.Contains(body, want) {
				t.Errorf("flow map lacks %s", want)
			}
		}
	}
	for _, want := range []string{
		"<svg", "transfer to &#43;15005550006", "voicemail", "hang up", "go to billing", "back to the previous menu",
		"America/New_York", "es-ES", "3× invalid", "3× silent", `class="edge edge-option"`, "closed", "☎ &#43;15005550006", "✉ voicemail", "no answer: → support",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("flow map lacks %q", want)
		}
	}
	if strings.Contains(body, "serving the last good flow") {
		t.Errorf("flow map shows the error banner for a good flow")
	}
}

func TestAdminFlowReloadError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flow.yaml")
	if err := os.WriteFile(path, ivr.Example(), 0o644); err != nil {
		t.Fatal(err)
	}
	e := newAdminEnv(t, path, nil)
	broken := strings.Replace(string(ivr.Example()), "do: {goto: billing}", "do: {goto: nowhere}", 1)
	if broken == string(ivr.Example()) {
		t.Fatal("could not break the example flow")
	}
	if err := os.WriteFile(path, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	err := e.flows.Reload()
	if err == nil {
		t.Fatal("Reload of a broken flow succeeded")
	}
	w := e.do(t, "GET", "/admin/flow", "", withBearer(adminTestToken))
	body := w.Body.String()
	if !strings.Contains(body, "serving the last good flow") {
		t.Errorf("no banner after a failed reload")
	}
	for _, line := range flowProblems(e.flows) {
		esc := strings.NewReplacer(`"`, "&#34;", "'", "&#39;", "<", "&lt;", ">", "&gt;", "&", "&amp;").Replace(line)
		if !strings.Contains(body, esc) {
			t.Errorf("banner lacks the problem %q", line)
		}
	}
	if !regexp.MustCompile(regexp.QuoteMeta(path) + `:\d+:\d+: `).MatchString(body) {
		t.Errorf("banner does not show file:line:col problems:\n%s", body)
	}
	if !strings.Contains(body, `id="menu-main"`) {
		t.Errorf("the last good flow is not shown")
	}
	// Every page shows the banner; a good reload removes it.
	if b := e.do(t, "GET", "/admin/calls", "", withBearer(adminTestToken)).Body.String(); !strings.Contains(b, "serving the last good flow") {
		t.Errorf("calls page lacks the banner")
	}
	os.WriteFile(path, ivr.Example(), 0o644)
	if err := e.flows.Reload(); err != nil {
		t.Fatalf("reload good flow: %v", err)
	}
	if b := e.do(t, "GET", "/admin/flow", "", withBearer(adminTestToken)).Body.String(); strings.Contains(b, "serving the last good flow") {
		t.Errorf("banner still shown after a good reload")
	}
}

// seedCalls stores n calls, one a minute apart from base (call i starts at
// base + i minutes), from +1555000000i, completed when i is even.
func seedCalls(t *testing.T, db *store.DB, base time.Time, n int) {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		id := fmt.Sprintf("CA%032d", i)
		from := fmt.Sprintf("+1555000000%d", i)
		at := base.Add(time.Duration(i) * time.Minute)
		evs := []store.Event{{Event: ivr.Event{At: at, Menu: "main", Action: "enter"}}, {Event: ivr.Event{At: at.Add(time.Second), Menu: "main", Input: "2", Action: "goto support"}}}
		if err := db.AddEvents(ctx, "twilio", id, from, "+15559870000", evs); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			if err := db.UpdateStatus(ctx, store.StatusUpdate{Provider: "twilio", CallID: id, Status: "completed", Final: true, At: at.Add(time.Minute), DurationSeconds: 30}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

type apiCalls struct {
	Calls []store.Call `json:"calls"`
	Next  string       `json:"next"`
}

func (e *adminEnv) apiCalls(t *testing.T, query string) apiCalls {
	t.Helper()
	w := e.do(t, "GET", "/admin/api/calls?"+query, "", withBearer(adminTestToken))
	if w.Code != 200 {
		t.Fatalf("GET /admin/api/calls?%s = %d %s", query, w.Code, w.Body.String())
	}
	var out apiCalls
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestAdminCallsPagingAndFilters(t *testing.T) {
	e := newAdminEnv(t, "", nil)
	base := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
	seedCalls(t, e.db, base, 7)
	seedCalls(t, e.db, base.AddDate(0, 0, 2).Add(time.Hour), 0)

	// API paging: newest first, 3 + 3 + 1.
	var ids []string
	cursor := ""
	for page := 0; ; page++ {
		res := e.apiCalls(t, "limit=3&cursor="+url.QueryEscape(cursor))
		for _, c := range res.Calls {
			ids = append(ids, c.CallID)
		}
		if res.Next == "" {
			break
		}
		if page > 5 {
			t.Fatal("paging does not end")
		}
		cursor = res.Next
	}
	if len(ids) != 7 || ids[0] != fmt.Sprintf("CA%032d", 6) || ids[6] != fmt.Sprintf("CA%032d", 0) {
		t.Errorf("paged ids = %v, want 7 calls newest first", ids)
	}
	if got := e.apiCalls(t, "status=completed").Calls; len(got) != 4 {
		t.Errorf("status=completed: %d calls, want 4", len(got))
	}
	if got := e.apiCalls(t, "number=%2B15550000003").Calls; len(got) != 1 || got[0].From != "+15550000003" || len(got[0].Events) != 2 {
		t.Errorf("number filter: %+v", got)
	}
	if got := e.apiCalls(t, "since=2025-03-11").Calls; len(got) != 0 {
		t.Errorf("since=2025-03-11: %d calls, want 0", len(got))
	}
	if got := e.apiCalls(t, "until=2025-03-10").Calls; len(got) != 7 {
		t.Errorf("until=2025-03-10 (inclusive): %d calls, want 7", len(got))
	}
	if w := e.do(t, "GET", "/admin/api/calls?since=yesterday", "", withBearer(adminTestToken)); w.Code != 400 {
		t.Errorf("bad since = %d, want 400", w.Code)
	}

	// The HTML page: filters, paging links, detail links.
	rows := regexp.MustCompile(`<tr data-call-id="([^"]+)"`)
	page := e.do(t, "GET", "/admin/calls?limit=3", "", withBearer(adminTestToken)).Body.String()
	if got := rows.FindAllStringSubmatch(page, -1); len(got) != 3 || got[0][1] != fmt.Sprintf("CA%032d", 6) {
		t.Fatalf("first page rows = %v", got)
	}
	next := regexp.MustCompile(`id="next-page" rel="next" href="([^"]+)"|href="([^"]+)" id="next-page"`).FindStringSubmatch(page)
	if next == nil {
		t.Fatalf("no next-page link on the first page")
	}
	href := strings.ReplaceAll(next[1]+next[2], "&amp;", "&")
	page2 := e.do(t, "GET", href, "", withBearer(adminTestToken)).Body.String()
	if got := rows.FindAllStringSubmatch(page2, -1); len(got) != 3 || got[0][1] != fmt.Sprintf("CA%032d", 3) {
		t.Errorf("second page rows = %v", got)
	}
	if !strings.Contains(page2, `id="first-page"`) {
		t.Errorf("second page has no link to the first")
	}
	filtered := e.do(t, "GET", "/admin/calls?status=completed&number=%2B15550000004", "", withBearer(adminTestToken)).Body.String()
	if got := rows.FindAllStringSubmatch(filtered, -1); len(got) != 1 || got[0][1] != fmt.Sprintf("CA%032d", 4) {
		t.Errorf("filtered rows = %v", got)
	}
	if !strings.Contains(filtered, `value="&#43;15550000004"`) {
		t.Errorf("the filter form does not keep its values")
	}
	if w := e.do(t, "GET", "/admin/calls?until=nope", "", withBearer(adminTestToken)); w.Code != 400 || !strings.Contains(w.Body.String(), "YYYY-MM-DD") {
		t.Errorf("bad date on the page = %d", w.Code)
	}

	// Detail page.
	id := fmt.Sprintf("CA%032d", 2)
	w := e.do(t, "GET", "/admin/calls/twilio/"+id, "", withBearer(adminTestToken))
	if w.Code != 200 || !strings.Contains(w.Body.String(), "goto support") || !strings.Contains(w.Body.String(), "completed") {
		t.Errorf("detail page = %d:\n%s", w.Code, w.Body.String())
	}
	if w := e.do(t, "GET", "/admin/calls/twilio/CAnope", "", withBearer(adminTestToken)); w.Code != 404 {
		t.Errorf("unknown call = %d, want 404", w.Code)
	}
}

func TestAdminFallbackCounts(t *testing.T) {
	e := newAdminEnv(t, "", nil)
	// A real refused request: no signature on the Twilio answer URL.
	r := e.do(t, "POST", "/twilio/voice", url.Values{"CallSid": {"CAforged"}}.Encode())
	if r.Code != 200 || !strings.Contains(r.Body.String(), "+15005550006") {
		t.Fatalf("unsigned voice request: %d %s", r.Code, r.Body.String())
	}
	// Counts come from the store (every instance, across restarts) plus
	// this instance's counts not stored yet.
	f := e.deps.Failures
	f.Add("twilio", store.FailureFallback, "flow")
	f.Add("twilio", store.FailureFallback, "flow")
	if err := f.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		f.Add("plivo", store.FailureFallback, "flow")
	}
	for i := 0; i < 4; i++ {
		f.Add("plivo", store.FailureRefused, "replayed_nonce")
	}

	falls, total := storedByReason(context.Background(), e.deps, store.FailureFallback)
	byReason := map[string]float64{}
	for _, f := range falls {
		byReason[f.Reason] = f.Count
	}
	if byReason["flow"] != 5 || byReason["missing_signature"] != 1 || total != 6 {
		t.Errorf("fallbacks by reason = %v (total %v), want flow 5, missing_signature 1", byReason, total)
	}
	body := e.do(t, "GET", "/admin/calls", "", withBearer(adminTestToken)).Body.String()
	fb := section(body, `id="fallback-counts"`, "</table>")
	rf := section(body, `id="refused-counts"`, "</table>")
	for _, want := range []string{"<td>flow</td><td class=\"num\">5</td>", "<td>missing_signature</td><td class=\"num\">1</td>"} {
		if !strings.Contains(fb, want) {
			t.Errorf("fallback table lacks %s:\n%s", want, fb)
		}
	}
	for _, want := range []string{"<td>replayed_nonce</td><td class=\"num\">4</td>", "<td>missing_signature</td><td class=\"num\">1</td>"} {
		if !strings.Contains(rf, want) {
			t.Errorf("refused table lacks %s:\n%s", want, rf)
		}
	}
}

func section(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	s = s[i:]
	if j := strings.Index(s, to); j >= 0 {
		return s[:j]
	}
	return s
}

// tryStep posts one try step with the bearer token.
func (e *adminEnv) tryStep(t *testing.T, req tryRequest) tryResponse {
	t.Helper()
	b, _ := json.Marshal(req)
	w := e.do(t, "POST", "/admin/api/try", string(b), withBearer(adminTestToken))
	if w.Code != 200 {
		t.Fatalf("try %+v = %d %s", req, w.Code, w.Body.String())
	}
	var res tryResponse
	if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	if res.Error != "" || res.Fallback {
		t.Fatalf("try %+v: error %q fallback %v\n%s", req, res.Error, res.Fallback, res.XML)
	}
	return res
}

func TestAdminTryCallToTransfer(t *testing.T) {
	for _, provider := range []string{"twilio", "plivo"} {
		t.Run(provider, func(t *testing.T) {
			e := newAdminEnv(t, "", nil)
			const from = "+15551112222"
			res := e.tryStep(t, tryRequest{Provider: provider, From: from})
			if res.CallID == "" || res.Gather == nil || !res.Gather.Keys || !res.Gather.Speech {
				t.Fatalf("answer: call %q gather %+v\n%s", res.CallID, res.Gather, res.XML)
			}
			if !strings.Contains(res.Gather.Action, "/"+provider+"/voice/menu/main") {
				t.Errorf("gather action %q is not menu main", res.Gather.Action)
			}
			if res.Next == nil || res.Next.Why != "timeout" {
				t.Errorf("no timeout redirect after the gather: %+v", res.Next)
			}
			if !promptsContain(res.Prompts, "For billing, press 1") {
				t.Errorf("prompts = %+v", res.Prompts)
			}
			callID := res.CallID

			// Silence: the timeout comes back to the menu.
			silent := e.tryStep(t, tryRequest{Provider: provider, CallID: callID, From: from, URL: res.Next.URL})
			if silent.Gather == nil || !promptsContain(silent.Prompts, "didn't hear anything") {
				t.Errorf("timeout step: %+v", silent.Prompts)
			}
			// 2 = support, then 1 = transfer.
			sup := e.tryStep(t, tryRequest{Provider: provider, CallID: callID, From: from, URL: res.Gather.Action, Digits: "2"})
			if sup.Gather == nil || !promptsContain(sup.Prompts, "Support.") {
				t.Fatalf("after 2: %+v\n%s", sup.Prompts, sup.XML)
			}
			tr := e.tryStep(t, tryRequest{Provider: provider, CallID: callID, From: from, URL: sup.Gather.Action, Digits: "1"})
			if tr.End == nil || tr.End.Kind != "transfer" || len(tr.End.Numbers) != 2 || strings.TrimPrefix(tr.End.Numbers[0], "+") != "15005550006" {
				t.Fatalf("after 2,1: end %+v\n%s", tr.End, tr.XML)
			}
			if tr.Request.Signed == "" || tr.Request.Params["From"] != "+15551112222" {
				t.Errorf("request view %+v", tr.Request)
			}
			// Nobody answers: the no-answer actions run (voicemail).
			na := e.tryStep(t, tryRequest{Provider: provider, CallID: callID, From: from, URL: tr.End.After, DialStatus: "no-answer"})
			if na.End == nil || na.End.Kind != "voicemail" {
				t.Errorf("no answer: end %+v\n%s", na.End, na.XML)
			}
			hang := e.tryStep(t, tryRequest{Provider: provider, CallID: callID, From: from, Hangup: true, Duration: 42})
			if hang.Status != 200 {
				t.Errorf("hangup status %d", hang.Status)
			}

			// The call is recorded through the real handlers and the writer.
			var c store.Call
			var err error
			if !testutil.Eventually(5*time.Second, func() bool {
				c, err = e.db.GetCall(context.Background(), provider, callID)
				return err == nil && len(c.Events) >= 4 && c.Status == "completed"
			}) {
				t.Fatalf("call not recorded: %+v (err %v)", c, err)
			}
			if c.From != "+15551112222" || c.DurationSeconds != 42 {
				t.Errorf("recorded call %+v", c)
			}
		})
	}
}

func promptsContain(ps []tryPrompt, s string) bool {
	for _, p := range ps {
		if strings.Contains(p.Text, s) {
			return true
		}
	}
	return false
}

func TestAdminTryRefusals(t *testing.T) {
	e := newAdminEnv(t, "", nil)
	for _, tc := range []struct {
		name, body string
		want       int
	}{
		{"bad provider", `{"provider":"vonage"}`, 400},
		{"unknown field", `{"provider":"twilio","token":"x"}`, 400},
		{"not json", `provider=twilio`, 400},
		{"admin url", `{"provider":"twilio","url":"/admin/api/calls"}`, 400},
		{"other provider's url", `{"provider":"twilio","url":"https://x/plivo/voice/menu/main"}`, 400},
		{"dot dot", `{"provider":"twilio","url":"/twilio/voice/../../admin/api/calls"}`, 400},
		{"voice prefix lookalike", `{"provider":"twilio","url":"/twilio/voicemail"}`, 400},
	} {
		w := e.do(t, "POST", "/admin/api/try", tc.body, withBearer(adminTestToken), withHeader("Content-Type", "application/json"))
		if w.Code != tc.want {
			t.Errorf("%s: %d, want %d (%s)", tc.name, w.Code, tc.want, w.Body.String())
		}
	}
}

func TestAdminTryTarget(t *testing.T) {
	for _, tc := range []struct{ provider, in, want string }{
		{"twilio", "", "/twilio/voice"},
		{"twilio", "https://abc.ngrok.app/twilio/voice/menu/main?attempt=2&lang=es", "/twilio/voice/menu/main?attempt=2&lang=es"},
		{"plivo", "https://example.com/ivr/plivo/voice/action/dial-done?menu=support", "/plivo/voice/action/dial-done?menu=support"},
		{"plivo", "/plivo/voice/menu/main", "/plivo/voice/menu/main"},
		{"twilio", "/twilio/status", ""},
		{"twilio", "/twilio/voice//menu", ""},
		{"twilio", "/twilio/voice/menu/../../../admin", ""},
	} {
		got, err := tryTarget(tc.provider, tc.in)
		if (err != nil) != (tc.want == "") || got != tc.want {
			t.Errorf("tryTarget(%s, %q) = %q, %v; want %q", tc.provider, tc.in, got, err, tc.want)
		}
	}
}

func TestAdminTrySteps(t *testing.T) {
	for _, tc := range []struct {
		name, provider, doc string
		prompts             int
		gather              *tryGather
		next                *tryNext
		end                 string
	}{
		{"twilio menu", "twilio", `<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Say voice="woman" language="en-GB">Hello &amp; welcome!</Say>
  <Play loop="2">https://cdn.example.com/jingle.mp3</Play>
  <Pause length="1"/>
  <Gather input="dtmf speech" action="https://h/twilio/voice/menu/main?attempt=2" method="POST" numDigits="4" finishOnKey="#">
    <Say>Say billing or press 1.</Say>
  </Gather>
  <Redirect method="POST">https://h/twilio/voice/menu/main?attempt=2</Redirect>
</Response>`, 4, &tryGather{Action: "https://h/twilio/voice/menu/main?attempt=2", Keys: true, Speech: true, NumDigits: 4, FinishKey: "#"},
			&tryNext{URL: "https://h/twilio/voice/menu/main?attempt=2", Why: "timeout"}, ""},
		{"plivo getinput", "plivo", `<Response><Speak>Hi</Speak><GetInput action="https://h/plivo/voice/menu/m" inputType="speech" finishOnKey="none" redirect="true"><Speak>Yes or no?</Speak><Wait length="2"/></GetInput><Redirect>https://h/plivo/voice/menu/m?attempt=1</Redirect></Response>`,
			3, &tryGather{Action: "https://h/plivo/voice/menu/m", Speech: true}, &tryNext{URL: "https://h/plivo/voice/menu/m?attempt=1", Why: "timeout"}, ""},
		{"plivo getdigits", "plivo", `<Response><GetDigits action="/plivo/voice/menu/m" numDigits="1"><Speak>Press</Speak></GetDigits></Response>`,
			1, &tryGather{Action: "/plivo/voice/menu/m", Keys: true, NumDigits: 1}, nil, ""},
		{"redirect", "twilio", `<Response><Play>https://a/b.mp3</Play><Redirect method="POST">https://h/twilio/voice/menu/main</Redirect><Say>never</Say></Response>`,
			1, nil, &tryNext{URL: "https://h/twilio/voice/menu/main", Why: "redirect"}, ""},
		{"dial", "twilio", `<Response><Say>Connecting</Say><Dial action="https://h/twilio/voice/action/dial-done"><Number>+15551230001</Number><Number>+15551230002</Number></Dial></Response>`, 1, nil, nil, "transfer"},
		{"dial text", "twilio", `<Response><Dial>+15551230001</Dial><Hangup/></Response>`, 0, nil, nil, "transfer"},
		{"record", "plivo", `<Response><Speak>Leave a message</Speak><Record action="https://h/plivo/voice/action/voicemail-done" maxLength="60"/></Response>`, 1, nil, nil, "voicemail"},
		{"hangup", "twilio", `<Response><Say>Bye</Say><Hangup/></Response>`, 1, nil, nil, "hangup"},
		{"empty", "twilio", `<Response></Response>`, 0, nil, nil, "end"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			steps, err := trySteps(tc.provider, []byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			prompts, gather, next, end := readSteps(steps)
			if len(prompts) != tc.prompts {
				t.Errorf("prompts = %+v, want %d", prompts, tc.prompts)
			}
			if fmt.Sprint(gather) != fmt.Sprint(tc.gather) {
				t.Errorf("gather = %+v, want %+v", gather, tc.gather)
			}
			if fmt.Sprint(next) != fmt.Sprint(tc.next) {
				t.Errorf("next = %+v, want %+v", next, tc.next)
			}
			if (end == nil && tc.end != "") || (end != nil && end.Kind != tc.end) {
				t.Errorf("end = %+v, want %q", end, tc.end)
			}
		})
	}
	steps, _ := trySteps("twilio", []byte(`<Response><Dial><Number>+1</Number><Number>+2</Number></Dial></Response>`))
	if len(steps) != 1 || fmt.Sprint(steps[0].Numbers) != "[+1 +2]" {
		t.Errorf("dial numbers: %+v", steps)
	}
	for _, bad := range []string{"", "not xml", "<Html></Html>"} {
		for _, provider := range []string{"twilio", "plivo"} {
			if _, err := trySteps(provider, []byte(bad)); err == nil {
				t.Errorf("trySteps(%s, %q) succeeded", provider, bad)
			}
		}
	}
}

func TestAdminSessionValue(t *testing.T) {
	a := &admin{token: "t", sessionKey: []byte("k")}
	now := time.Unix(1_700_000_000, 0)
	v := a.newSession(now)
	if !a.validSession(v, now.Add(time.Hour)) {
		t.Error("fresh session refused")
	}
	if a.validSession(v, now.Add(sessionTTL+time.Second)) {
		t.Error("expired session accepted")
	}
	exp, mac, _ := strings.Cut(v, ".")
	if a.validSession(exp+"0."+mac, now) || a.validSession(exp+"."+mac[:10], now) || a.validSession("", now) {
		t.Error("tampered session accepted")
	}
	b := &admin{token: "other", sessionKey: []byte("other key")}
	if b.validSession(v, now) {
		t.Error("session of another token accepted")
	}
}

// TestAdminLockout: wrong admin tokens are counted per client address, by
// bearer and by the login form alike; after adminMaxWrong of them that
// address is refused (429, Retry-After) even with the right token, while
// other addresses and sessions already open keep working.
func TestAdminLockout(t *testing.T) {
	e := newAdminEnv(t, "", nil)
	session, csrf := e.login(t) // from 192.0.2.10, before the lockout
	attacker := withRemote("198.51.100.7:4000")

	// A right token clears the count: 9 wrong, 1 right, 9 wrong is not a lockout.
	for round := 0; round < 2; round++ {
		for i := 0; i < adminMaxWrong-1; i++ {
			if w := e.do(t, "GET", "/admin/api/calls", "", withBearer("guess"), attacker); w.Code != http.StatusUnauthorized {
				t.Fatalf("wrong bearer #%d: %d, want 401", i+1, w.Code)
			}
		}
		if round == 0 {
			if w := e.do(t, "GET", "/admin/api/calls", "", withBearer(adminTestToken), attacker); w.Code != http.StatusOK {
				t.Fatalf("right bearer after %d wrong: %d, want 200", adminMaxWrong-1, w.Code)
			}
		}
	}
	// The 10th wrong one in this window: by the login form.
	page := e.do(t, "GET", "/admin/login", "", attacker)
	c := cookieNamed(page, csrfCookie)
	form := url.Values{"token": {"guess"}, csrfField: {c.Value}}
	if w := e.do(t, "POST", "/admin/login", form.Encode(), withCookie(c), withHeader("Origin", "http://example.com"), attacker); w.Code != http.StatusUnauthorized {
		t.Fatalf("wrong login: %d, want 401", w.Code)
	}

	w := e.do(t, "GET", "/admin/api/calls", "", withBearer(adminTestToken), attacker)
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("right bearer from a locked-out address: %d, want 429", w.Code)
	}
	if ra, err := strconv.Atoi(w.Header().Get("Retry-After")); err != nil || ra <= 0 || ra > int(adminLockoutWindow/time.Second) {
		t.Errorf("Retry-After = %q, want 1..%d seconds", w.Header().Get("Retry-After"), int(adminLockoutWindow/time.Second))
	}
	form = url.Values{"token": {adminTestToken}, csrfField: {c.Value}}
	w = e.do(t, "POST", "/admin/login", form.Encode(), withCookie(c), withHeader("Origin", "http://example.com"), attacker)
	if w.Code != http.StatusTooManyRequests || cookieNamed(w, sessionCookie) != nil || !strings.Contains(w.Body.String(), "Too many wrong tokens") {
		t.Errorf("right login from a locked-out address: %d, session %v; want 429 without a session, saying why", w.Code, cookieNamed(w, sessionCookie))
	}

	// Everyone else is unaffected, and so is a session opened before.
	if w := e.do(t, "GET", "/admin/api/calls", "", withBearer(adminTestToken)); w.Code != http.StatusOK {
		t.Errorf("right bearer from another address: %d, want 200", w.Code)
	}
	if w := e.do(t, "GET", "/admin/flow", "", withCookie(session), withCookie(csrf), attacker); w.Code != http.StatusOK {
		t.Errorf("open session from the locked-out address: %d, want 200", w.Code)
	}

	for outcome, want := range map[string]float64{"wrong_token": float64(2*(adminMaxWrong-1) + 1), "locked_out": 2} {
		got := 0.0
		for _, route := range []string{"/admin/api/calls", "/admin/login"} {
			got += promtest.ToFloat64(e.metrics.Requests.WithLabelValues("admin", route, outcome))
		}
		if got != want {
			t.Errorf("ivr_requests_total{provider=admin,outcome=%s} = %v, want %v", outcome, got, want)
		}
	}
}
