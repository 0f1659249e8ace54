package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestDemoAccounts(t *testing.T) {
	app := newTestApp(t)
	for id, want := range map[string]int{"123456": 200, "234567": 200, "345678": 200, "999999": 404, "12345": 404} {
		w := app.serve(httptest.NewRequest(http.MethodGet, "/demo/accounts/"+id, nil))
		if w.Code != want || w.Header().Get("Content-Type") != "application/json" {
			t.Fatalf("%s: %d %q", id, w.Code, w.Header().Get("Content-Type"))
		}
		var v map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
			t.Fatalf("%s: not JSON: %v", id, err)
		}
		if want == 200 && (v["balance"] == nil || v["account"].(map[string]any)["status"] == nil || v["account"].(map[string]any)["balance"] == nil) {
			t.Fatalf("%s: %s", id, w.Body)
		}
	}
}

func TestDemoCallbacks(t *testing.T) {
	app := newTestApp(t)
	post := func(body string) (int, map[string]any) {
		w := app.serve(httptest.NewRequest(http.MethodPost, "/demo/callbacks", strings.NewReader(body)))
		var v map[string]any
		json.Unmarshal(w.Body.Bytes(), &v)
		return w.Code, v
	}
	code, v := post(`{"account": "345678", "caller": "+14155550100", "reason": "suspended"}`)
	ticket, _ := v["ticket"].(string)
	if code != 200 || len(ticket) != 4 {
		t.Fatalf("%d %v", code, v)
	}
	if _, again := post(`{"account": "345678", "caller": "+14155550100", "reason": "suspended"}`); again["ticket"] != ticket {
		t.Fatalf("the same request got another ticket: %v", again)
	}
	for body, want := range map[string]int{`{"account": "999999"}`: 404, `nope`: 400, `{}`: 400} {
		if code, _ := post(body); code != want {
			t.Errorf("%s: %d, want %d", body, code, want)
		}
	}
}

func TestNoDemoInProduction(t *testing.T) {
	app := newTestApp(t, func(d *Deps) {
		d.Config.Production = true
		d.Config.StateKey = make([]byte, 32)
	})
	if w := app.serve(httptest.NewRequest(http.MethodGet, "/demo/accounts/123456", nil)); w.Code != http.StatusNotFound {
		t.Fatalf("production serves the demo: %d", w.Code)
	}
	if w := app.serve(httptest.NewRequest(http.MethodPost, "/demo/callbacks", strings.NewReader(`{"account": "123456"}`))); w.Code == http.StatusOK {
		t.Fatalf("production serves the demo: %d", w.Code)
	}
}

func TestProductionNeedsAStateKey(t *testing.T) {
	d := newTestApp(t).deps
	d.Config.Production = true
	if _, err := New(d); err == nil {
		t.Fatal("production without IVR_STATE_KEY must not start")
	}
}
