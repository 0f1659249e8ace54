package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	promtest "github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ivr-project/ivr/internal/testutil"
)

// A request carrying a provider's signature is answered by that provider's
// rules whatever its path: an unknown path gets the 200 fallback XML, never
// a plain-text 404 or 405.
func TestSignedRequestOnAnyPathGetsTheFallback(t *testing.T) {
	for _, p := range []string{"twilio", "plivo"} {
		for _, c := range []struct{ method, path string }{
			{http.MethodPost, "/" + strings.ToUpper(p[:1]) + p[1:] + "/voice"}, // /Twilio/voice
			{http.MethodPost, "/" + strings.ToUpper(p) + "/VOICE"},
			{http.MethodPost, "/"},
			{http.MethodPost, "/voice"},
			{http.MethodGet, "/ivr/" + p + "/voice"},
			{http.MethodPost, "/healthz"}, // a route, but not for POST
			{http.MethodPut, "/somewhere/else"},
			{http.MethodPost, "/admin/nothing"},
			{http.MethodGet, "/healthz"},
			{http.MethodPost, "/" + map[string]string{"twilio": "plivo", "plivo": "twilio"}[p] + "/voice"}, // the other provider's URL
		} {
			t.Run(p+" "+c.method+" "+c.path, func(t *testing.T) {
				a := newTestApp(t)
				w := a.serve(a.request(p, c.method, c.path, callForm(p)))
				assertFallback(t, p, w)
				if got := promtest.ToFloat64(a.deps.Metrics.Fallbacks.WithLabelValues(p, "not_found")); got != 1 {
					t.Errorf("fallback not counted as not_found (%v)", got)
				}
			})
		}
	}
	// Without a signature, an unknown path stays a plain 404.
	a := newTestApp(t)
	w := a.serve(httptest.NewRequest(http.MethodPost, "/Twilio/voice", nil))
	if w.Code != http.StatusNotFound {
		t.Errorf("unsigned POST /Twilio/voice = %d, want 404", w.Code)
	}
	// Every Plivo signature header counts.
	for _, h := range []string{"X-Plivo-Signature-V3", "X-Plivo-Signature-Ma-V3", "X-Plivo-Signature-V2", "X-Plivo-Signature-Ma-V2"} {
		r := httptest.NewRequest(http.MethodPost, "/Plivo/voice", nil)
		r.Header.Set(h, "c2lnbmF0dXJl")
		assertFallback(t, "plivo", a.serve(r))
	}
}

// Paths that differ from ours only by repeated slashes are served as the
// route they clean to, and the signature is checked against the raw URI
// the provider requested.
func TestRepeatedSlashesServeTheRoute(t *testing.T) {
	for _, p := range []string{"twilio", "plivo"} {
		t.Run(p, func(t *testing.T) {
			a := newTestApp(t)
			for _, path := range []string{
				"//" + p + "/voice",
				"/" + p + "//voice",
				"//" + p + "//voice/",
				"/" + p + "/voice//menu/main",
				"//" + p + "/voice/menu//main?attempt=2",
			} {
				w := a.serve(a.request(p, http.MethodPost, path, callForm(p)))
				assertMenu(t, w)
				if strings.Contains(strings.ReplaceAll(w.Body.String(), "://", ""), "//") {
					t.Errorf("POST %s: the next URLs carry a doubled slash:\n%s", path, w.Body.String())
				}
			}
			// Signed for the clean URL but sent with a doubled slash (or the
			// reverse): not what was signed, so refused.
			r := a.request(p, http.MethodPost, "/"+p+"/voice", callForm(p))
			r2 := a.request(p, http.MethodPost, "//"+p+"/voice", callForm(p))
			r2.Header = r.Header
			w := a.serve(r2)
			assertFallback(t, p, w)
			if got := promtest.ToFloat64(a.deps.Metrics.Refused.WithLabelValues(p, "bad_signature")); got != 1 {
				t.Errorf("signature over another URL: refused{bad_signature} = %v, want 1", got)
			}
			// A status callback pasted with "//" is stored like any other.
			status := map[string]string{"twilio": "//twilio/status", "plivo": "//plivo//hangup"}[p]
			f := callForm(p)
			f.Set("CallStatus", "completed")
			if w := a.serve(a.request(p, http.MethodPost, status, f)); w.Code != http.StatusOK {
				t.Fatalf("POST %s = %d", status, w.Code)
			}
			id := f.Get(map[string]string{"twilio": "CallSid", "plivo": "CallUUID"}[p])
			if c, err := a.db.GetCall(context.Background(), p, id); err != nil || c.Status != "completed" {
				t.Errorf("POST %s: call stored as %+v, %v", status, c, err)
			}
		})
	}
}

// HEAD and OPTIONS probes of the webhook URLs do not crash, log at error
// level or store anything.
func TestHeadAndOptionsProbes(t *testing.T) {
	for _, p := range []string{"twilio", "plivo"} {
		var logs testutil.Buffer
		a := newTestApp(t, withLogTo(&logs))
		for _, method := range []string{http.MethodHead, http.MethodOptions} {
			for _, path := range []string{"/" + p + "/voice", "//" + p + "/voice", "/" + p + "/voice/menu/main", "/" + p + "/status", "/" + p + "/hangup", "/" + p + "/nowhere"} {
				for _, signed := range []bool{false, true} {
					r := httptest.NewRequest(method, path, nil)
					if signed {
						r = a.request(p, method, path, nil)
					}
					w := a.serve(r)
					if w.Code >= 300 {
						t.Errorf("%s %s (signed %v) = %d", method, path, signed, w.Code)
					}
					if method == http.MethodHead && w.Body.Len() > 0 {
						t.Errorf("HEAD %s has a body", path)
					}
				}
			}
		}
		if n := testutilCount(a); n != 0 {
			t.Errorf("%s: probes counted %d fallbacks", p, n)
		}
		calls, _, err := a.db.ListCalls(context.Background(), storeListAll())
		if err != nil || len(calls) != 0 {
			t.Errorf("%s: probes stored %d calls (%v)", p, len(calls), err)
		}
		if strings.Contains(logs.String(), "level=ERROR") || strings.Contains(logs.String(), "level=WARN") {
			t.Errorf("%s: probes logged:\n%s", p, logs.String())
		}
	}
}

// IVR_PROVIDERS really disables a provider: it has no routes (and its
// signature gets it nothing anywhere); the other provider is untouched.
func TestDisabledProviderHasNoRoutes(t *testing.T) {
	for _, on := range []string{"twilio", "plivo"} {
		off := map[string]string{"twilio": "plivo", "plivo": "twilio"}[on]
		a := newTestApp(t, func(d *Deps) { d.Config.Providers = map[string]bool{on: true} })
		assertMenu(t, a.serve(a.request(on, http.MethodPost, "/"+on+"/voice", callForm(on))))
		for _, path := range []string{"/" + off + "/voice", "/" + off + "/voice/menu/main", "/" + off + "/message", "/elsewhere"} {
			w := a.serve(a.request(off, http.MethodPost, path, callForm(off)))
			if w.Code != http.StatusNotFound {
				t.Errorf("%s disabled: POST %s = %d %q, want 404", off, path, w.Code, w.Body.String())
			}
		}
		if a.db != nil {
			calls, _, _ := a.db.ListCalls(context.Background(), storeListAll())
			for _, c := range calls {
				if c.Provider == off {
					t.Errorf("%s disabled: a call was stored for it", off)
				}
			}
		}
	}
}
