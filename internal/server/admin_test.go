package server

import (
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	promtest "github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ivr-project/ivr/internal/admin"
	"github.com/ivr-project/ivr/internal/auth"
	"github.com/ivr-project/ivr/internal/config"
	"github.com/ivr-project/ivr/internal/httpobs"
	"github.com/ivr-project/ivr/internal/publish"
	"github.com/ivr-project/ivr/internal/store"
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
	flows   *publish.Source
	metrics *httpobs.Metrics
}

// newAdminEnv builds the server. env adds or overrides configuration
// variables (IVR_ADMIN_TOKEN is set unless env sets it, even to "").
func newAdminEnv(t testing.TB, flowPath string, env map[string]string) *adminEnv {
	t.Helper()
	return newAdminEnvWith(t, flowPath, env)
}

// newAdminEnvWith is newAdminEnv with opts changing the dependencies last.
func newAdminEnvWith(t testing.TB, flowPath string, env map[string]string, opts ...appOption) *adminEnv {
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
	flows, err := publish.NewSource(flowPath, logger)
	if err != nil {
		t.Fatalf("flow: %v", err)
	}
	metrics := httpobs.NewMetrics(nil, nil)
	a := newTestApp(t, append([]appOption{func(d *Deps) {
		d.Config, d.Logger, d.Flows, d.Metrics = cfg, logger, flows, metrics
		d.Nonces = auth.NewMemoryNonces(10000, time.Hour)
		d.Failures = store.NewFailureCounter(d.Store, logger)
	}}, opts...)...)
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
	a := admin.New(admin.Deps{Config: e.deps.Config})
	expired := &http.Cookie{Name: sessionCookie, Value: a.NewSession(time.Now().Add(-sessionTTL - time.Minute))}
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
