package server

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	promtest "github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ivr-project/ivr/internal/auth"
	"github.com/ivr-project/ivr/internal/ivr"
)

// failingNonces is a nonce store that is down.
type failingNonces struct{}

func (failingNonces) Claim(context.Context, string, time.Time) (bool, error) {
	return false, errors.New("connection refused")
}

// TestFallbackOnEveryFailure sends one request per failure kind, per
// provider, through the real router and checks the contract's fallback: 200,
// the provider's content type, XML that dials the configured call center and
// offers no menu, the failure counted by reason, and the menu still served
// afterwards.
func TestFallbackOnEveryFailure(t *testing.T) {
	type kind struct {
		name   string
		reason string
		opts   []appOption
		req    func(a *testApp, provider string) *http.Request
	}
	answer := func(provider string) string { return "/" + provider + "/voice" }
	renderPanics := func(d *Deps) {
		d.Render = func(string, string, []ivr.Step) ([]byte, error) { panic("renderer bug") }
	}
	renderFails := func(d *Deps) {
		d.Render = func(string, string, []ivr.Step) ([]byte, error) { return nil, errors.New("step not renderable") }
	}
	renderHangs := func(d *Deps) {
		d.Config.VoiceDeadline = 50 * time.Millisecond
		d.Render = func(string, string, []ivr.Step) ([]byte, error) {
			time.Sleep(time.Second)
			return nil, errors.New("late")
		}
	}
	kinds := []kind{
		{name: "not found", reason: "not_found", req: func(a *testApp, p string) *http.Request {
			return a.request(p, http.MethodPost, "/"+p+"/no/such/route", callForm(p))
		}},
		{name: "wrong method", reason: "method_not_allowed", req: func(a *testApp, p string) *http.Request {
			return a.request(p, http.MethodPut, answer(p), callForm(p))
		}},
		{name: "forged signature", reason: "bad_signature", req: func(a *testApp, p string) *http.Request {
			r := a.request(p, http.MethodPost, answer(p), callForm(p))
			forged := callForm(p)
			forged.Set("From", "+19995550666")
			r2 := a.request(p, http.MethodPost, answer(p), forged)
			r.Body = r2.Body // signature of the original, body of the forgery
			return r
		}},
		{name: "missing signature", reason: "missing_signature", req: func(a *testApp, p string) *http.Request {
			r := a.request(p, http.MethodPost, answer(p), callForm(p))
			r.Header.Del("X-Twilio-Signature")
			r.Header.Del("X-Plivo-Signature-V3")
			return r
		}},
		{name: "malformed body", reason: "bad_body", req: func(a *testApp, p string) *http.Request {
			r := a.request(p, http.MethodPost, answer(p), callForm(p))
			r.Body = http.NoBody
			r2 := a.request(p, http.MethodPost, answer(p), nil)
			r2.Header = r.Header
			r2.Body = ioNopCloser("CallSid=%zz&From=%")
			return r2
		}},
		{name: "oversized body", reason: "body_too_large", req: func(a *testApp, p string) *http.Request {
			f := callForm(p)
			f.Set("Junk", strings.Repeat("x", 2<<20))
			return a.request(p, http.MethodPost, answer(p), f)
		}},
		{name: "unknown menu", reason: "flow", req: func(a *testApp, p string) *http.Request {
			return a.request(p, http.MethodPost, "/"+p+"/voice/menu/no-such-menu", callForm(p))
		}},
		{name: "panic in handler", reason: "panic", opts: []appOption{renderPanics}, req: func(a *testApp, p string) *http.Request {
			return a.request(p, http.MethodPost, answer(p), callForm(p))
		}},
		{name: "step not renderable", reason: "render", opts: []appOption{renderFails}, req: func(a *testApp, p string) *http.Request {
			return a.request(p, http.MethodPost, answer(p), callForm(p))
		}},
		{name: "past the deadline", reason: "deadline", opts: []appOption{renderHangs}, req: func(a *testApp, p string) *http.Request {
			return a.request(p, http.MethodPost, answer(p), callForm(p))
		}},
	}
	for _, provider := range []string{"twilio", "plivo"} {
		for _, k := range kinds {
			t.Run(provider+"/"+k.name, func(t *testing.T) {
				a := newTestApp(t, k.opts...)
				w := a.serve(k.req(a, provider))
				assertFallback(t, provider, w)
				got := promtest.ToFloat64(a.deps.Metrics.Fallbacks.WithLabelValues(provider, k.reason))
				if got != 1 {
					t.Errorf("ivr_fallbacks_total{provider=%q,reason=%q} = %v, want 1", provider, k.reason, got)
				}
				if k.opts == nil { // the same server still serves the menu
					assertMenu(t, a.serve(a.request(provider, http.MethodPost, answer(provider), callForm(provider))))
				}
			})
		}
		t.Run(provider+"/store down", func(t *testing.T) {
			// Twilio: the nonce-free path keeps answering menus while the
			// store is down; events wait in the writer's queue.
			// Plivo: the nonce store is needed to refuse replays, so a store
			// outage there is a fallback.
			a := newTestApp(t, func(d *Deps) { d.Nonces = failingNonces{} })
			a.db.Close()
			w := a.serve(a.request(provider, http.MethodPost, answer(provider), callForm(provider)))
			if provider == "plivo" {
				assertFallback(t, provider, w)
				if got := promtest.ToFloat64(a.deps.Metrics.Fallbacks.WithLabelValues("plivo", "nonce_store")); got != 1 {
					t.Errorf("nonce_store fallbacks = %v, want 1", got)
				}
				return
			}
			assertMenu(t, w)
			// A status callback is not acknowledged when it cannot be stored.
			st := a.serve(a.request(provider, http.MethodPost, "/twilio/status", url.Values{"CallSid": {"CA1"}, "CallStatus": {"completed"}}))
			if st.Code != http.StatusServiceUnavailable {
				t.Errorf("status callback with the store down: %d, want 503 so Twilio retries", st.Code)
			}
		})
	}
}

// TestRefusedCallbacksStoreNothing: a forged status, hangup or message
// request gets an empty document and changes no stored state.
func TestRefusedCallbacksStoreNothing(t *testing.T) {
	cases := []struct{ provider, path string }{
		{"twilio", "/twilio/status"},
		{"twilio", "/twilio/message"},
		{"plivo", "/plivo/hangup"},
		{"plivo", "/plivo/message"},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			a := newTestApp(t)
			form := callForm(c.provider)
			form.Set("CallStatus", "completed")
			form.Set("Text", "HELP")
			form.Set("Body", "HELP")
			r := a.request(c.provider, http.MethodPost, c.path, form)
			r.Header.Set("X-Twilio-Signature", "AAAAAAAAAAAAAAAAAAAAAAAAAAA=")
			r.Header.Set("X-Plivo-Signature-V3", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
			r.Header.Set("X-Plivo-Signature-V2", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
			r.Header.Set("X-Plivo-Signature-V2-Nonce", "12345")
			w := a.serve(r)
			if w.Code != 200 {
				t.Fatalf("status %d", w.Code)
			}
			doc := parseXML(t, w.Body.String())
			if doc.Name != "Response" || len(doc.Children) != 0 {
				t.Fatalf("want an empty <Response>, got %s", w.Body.String())
			}
			calls, _, err := a.db.ListCalls(context.Background(), storeListAll())
			if err != nil {
				t.Fatal(err)
			}
			msgs, err := a.db.ListMessages(context.Background(), 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(calls) != 0 || len(msgs) != 0 {
				t.Fatalf("a forged request stored %d calls and %d messages", len(calls), len(msgs))
			}
		})
	}
}

func assertFallback(t *testing.T, provider string, w *httpRecorder) {
	t.Helper()
	if w.Code != http.StatusOK {
		t.Fatalf("status %d, want 200; body %s", w.Code, w.Body.String())
	}
	wantCT := map[string]string{"twilio": "text/xml", "plivo": "application/xml"}[provider]
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, wantCT) {
		t.Fatalf("Content-Type %q, want %s", ct, wantCT)
	}
	doc := parseXML(t, w.Body.String())
	numbers := doc.find("Response/Dial/Number")
	if len(numbers) != 1 || strings.TrimPrefix(strings.TrimSpace(numbers[0].Text), "+") != strings.TrimPrefix(testCallCenter, "+") {
		t.Fatalf("fallback must dial %s; got %s", testCallCenter, w.Body.String())
	}
	for _, menu := range []string{"Gather", "GetDigits", "GetInput"} {
		if doc.has(menu) {
			t.Fatalf("fallback must not offer a menu (%s): %s", menu, w.Body.String())
		}
	}
}

func assertMenu(t *testing.T, w *httpRecorder) {
	t.Helper()
	doc := parseXML(t, w.Body.String())
	if w.Code != 200 || !(doc.has("Gather") || doc.has("GetDigits") || doc.has("GetInput")) {
		t.Fatalf("want the menu, got %d %s", w.Code, w.Body.String())
	}
}

// TestPlivoCallbackRetriedAfterStoreFailure: a hangup callback that could
// not be stored is answered 503 and its nonce given back, so Plivo's retry of
// the same request (same nonce) is stored once the store is back; a further
// replay is refused. When the nonce store itself fails, callbacks get 503
// too (answering 200 would lose them), while voice routes keep the fallback.
func TestPlivoCallbackRetriedAfterStoreFailure(t *testing.T) {
	nonces := auth.NewMemoryNonces(1000, time.Hour)
	shared := func(d *Deps) { d.Nonces = nonces }
	down := newTestApp(t, shared)
	form := callForm("plivo")
	form.Set("CallStatus", "completed")
	form.Set("Duration", "42")
	req := down.request("plivo", http.MethodPost, "/plivo/hangup", form)
	body := form.Encode()
	again := func() *http.Request {
		r := httptest.NewRequest(http.MethodPost, req.URL.Path, strings.NewReader(body))
		r.Header = req.Header.Clone()
		return r
	}
	down.db.Close()
	if w := down.serve(again()); w.Code != http.StatusServiceUnavailable {
		t.Fatalf("hangup with the store down: %d, want 503", w.Code)
	}

	up := newTestApp(t, shared) // the store is back
	if w := up.serve(again()); w.Code != http.StatusOK {
		t.Fatalf("Plivo's retry with the same nonce: %d %s, want 200", w.Code, w.Body.String())
	}
	calls, _, err := up.db.ListCalls(context.Background(), storeListAll())
	if err != nil || len(calls) != 1 || calls[0].DurationSeconds != 42 || calls[0].Status != "completed" {
		t.Fatalf("after the retry: %+v, %v; want the hangup stored", calls, err)
	}
	up.serve(again())
	if got := promtest.ToFloat64(up.deps.Metrics.Refused.WithLabelValues("plivo", auth.ReasonReplayedNonce)); got != 1 {
		t.Errorf("a replay after the stored retry: refused %v times as replayed, want 1", got)
	}

	t.Run("nonce store down", func(t *testing.T) {
		a := newTestApp(t, func(d *Deps) { d.Nonces = failingNonces{} })
		for _, path := range []string{"/plivo/hangup", "/plivo/message"} {
			r := a.request("plivo", http.MethodPost, path, form)
			if path == "/plivo/message" { // V2 signs the URL and the nonce only
				nonce := "retry-nonce-1"
				r.Header.Set("X-Plivo-Signature-V2-Nonce", nonce)
				r.Header.Set("X-Plivo-Signature-V2", auth.SignPlivoV2(testPlivoToken, testPublic+path, nonce))
			}
			if w := a.serve(r); w.Code != http.StatusServiceUnavailable {
				t.Errorf("%s with the nonce store down: %d %q, want 503 so Plivo retries", path, w.Code, w.Body.String())
			}
		}
		assertFallback(t, "plivo", a.serve(a.request("plivo", http.MethodPost, "/plivo/voice", callForm("plivo"))))
	})
}
