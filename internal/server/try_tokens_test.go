package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	promtest "github.com/prometheus/client_golang/prometheus/testutil"
)

// TestTryWorksWithoutProviderTokens: on a fresh local setup with no provider
// tokens, the routes accept nothing from outside, yet the admin's Try it
// plays the menu through the real signed path (signed with an in-process
// secret that is never printed).
func TestTryWorksWithoutProviderTokens(t *testing.T) {
	a := newTestApp(t, func(d *Deps) {
		d.Config.TwilioTokens, d.Config.PlivoToken = nil, ""
		d.Config.AdminToken = "admin-secret"
	})
	for _, provider := range []string{"twilio", "plivo"} {
		// From outside: refused, whatever token the sender guessed.
		assertFallback(t, provider, a.serve(a.request(provider, http.MethodPost, "/"+provider+"/voice", callForm(provider))))
		if got := promtest.ToFloat64(a.deps.Metrics.Refused.WithLabelValues(provider, "no_token")); got != 1 {
			t.Errorf("refused{reason=no_token} = %v, want 1", got)
		}

		r := httptest.NewRequest(http.MethodPost, "/admin/api/try", strings.NewReader(`{"provider":"`+provider+`"}`))
		r.Header.Set("Authorization", "Bearer admin-secret")
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Origin", "http://example.com")
		w := a.serve(r)
		if w.Code != 200 {
			t.Fatalf("%s try: %d %s", provider, w.Code, w.Body.String())
		}
		var resp struct {
			Fallback bool            `json:"fallback"`
			Gather   json.RawMessage `json:"gather"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
			t.Fatal(err)
		}
		if resp.Fallback || string(resp.Gather) == "null" || len(resp.Gather) == 0 {
			t.Fatalf("%s try should reach the menu: %s", provider, w.Body.String())
		}
	}
}

// TestAdminStaticHasNoListing: the embedded assets are served, their
// directory is not listed.
func TestAdminStaticHasNoListing(t *testing.T) {
	a := newTestApp(t, func(d *Deps) { d.Config.AdminToken = "admin-secret" })
	for path, want := range map[string]int{"/admin/static/": 404} {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		if w := a.serve(r); w.Code != want {
			t.Errorf("GET %s: %d, want %d", path, w.Code, want)
		}
	}
	r := httptest.NewRequest(http.MethodGet, "/admin/static/admin.css", nil)
	if w := a.serve(r); w.Code != 200 {
		t.Errorf("GET /admin/static/admin.css: %d, want 200", w.Code)
	}
}
