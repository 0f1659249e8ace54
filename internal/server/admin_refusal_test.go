package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestAdminRefusals: the admin's refusals (401, 403, 429) are answered by
// its one error responder like every other admin error: {"error": ...} on
// the JSON API, the error page elsewhere, saying why. The page shows
// nothing of the admin to whoever was refused: no navigation, no flow
// problems, no CSRF cookie.
func TestAdminRefusals(t *testing.T) {
	withToken := newAdminEnv(t, "", nil)
	local := newAdminEnv(t, "", map[string]string{"IVR_ADMIN_TOKEN": ""})
	remote, loopback := withRemote("203.0.113.5:1234"), withRemote("127.0.0.1:1")
	for _, tc := range []struct {
		name         string
		e            *adminEnv
		method, path string
		opts         []reqOpt
		status       int
		says         string
	}{
		{"api without token", withToken, "GET", "/admin/api/calls", nil, http.StatusUnauthorized, "missing or wrong admin token"},
		{"post without token", withToken, "POST", "/admin/logout", nil, http.StatusUnauthorized, "missing or wrong admin token"},
		{"api from another machine", local, "GET", "/admin/api/calls", []reqOpt{remote}, http.StatusForbidden, "admin UI disabled"},
		{"page from another machine", local, "GET", "/admin/flow", []reqOpt{remote}, http.StatusForbidden, "admin UI disabled"},
		{"page under another name", local, "GET", "/admin/flow", []reqOpt{loopback, withHost("rebound.example")}, http.StatusForbidden, "answers only http://localhost"},
		{"api from another site", local, "GET", "/admin/api/calls", []reqOpt{loopback, withHost("127.0.0.1:8080"), withHeader("Sec-Fetch-Site", "cross-site")}, http.StatusForbidden, "refuses requests from other sites"},
		{"api post without origin", local, "POST", "/admin/api/flow/check", []reqOpt{loopback, withHost("127.0.0.1:8080")}, http.StatusForbidden, "no Origin or Referer"},
		{"api post from another origin", withToken, "POST", "/admin/api/flow/check", []reqOpt{withBearer(adminTestToken), withHeader("Origin", "https://evil.example")}, http.StatusForbidden, "origin does not match"},
		{"form post without csrf token", local, "POST", "/admin/closure", []reqOpt{loopback, withHost("127.0.0.1:8080"), withHeader("Origin", "http://127.0.0.1:8080")}, http.StatusForbidden, "CSRF token missing or wrong"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := tc.e.do(t, tc.method, tc.path, "", tc.opts...)
			checkRefusal(t, w, strings.HasPrefix(tc.path, "/admin/api/"), tc.status, tc.says)
		})
	}

	// Locked out after too many wrong tokens: 429 on the API and on pages.
	attacker := withRemote("198.51.100.7:4000")
	for range adminMaxWrong {
		withToken.do(t, "GET", "/admin/api/calls", "", withBearer("guess"), attacker)
	}
	checkRefusal(t, withToken.do(t, "GET", "/admin/api/calls", "", withBearer(adminTestToken), attacker), true, http.StatusTooManyRequests, "too many wrong admin tokens")
	checkRefusal(t, withToken.do(t, "GET", "/admin/flow", "", withBearer(adminTestToken), attacker), false, http.StatusTooManyRequests, "too many wrong admin tokens")
}

// checkRefusal asserts a refusal's status and that it says why, as JSON on
// the API and as the bare error page elsewhere.
func checkRefusal(t *testing.T, w *httptest.ResponseRecorder, api bool, status int, says string) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d (%s)", w.Code, status, w.Body.String())
	}
	if status == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
		t.Errorf("401 without WWW-Authenticate")
	}
	if api {
		var body struct{ Error string }
		if ct := w.Header().Get("Content-Type"); ct != "application/json" || json.Unmarshal(w.Body.Bytes(), &body) != nil || !strings.Contains(body.Error, says) {
			t.Errorf("API refusal: %s %q, want JSON whose error says %q", ct, w.Body.String(), says)
		}
		return
	}
	page := w.Body.String()
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") || !strings.Contains(page, says) {
		t.Errorf("page refusal: %s %q, want the error page saying %q", ct, page, says)
	}
	if strings.Contains(page, `href="/admin/calls"`) || strings.Contains(page, "flow-errors") || w.Header().Get("Set-Cookie") != "" {
		t.Errorf("the refusal page shows the admin (navigation, banners or a cookie): %s", page)
	}
}
