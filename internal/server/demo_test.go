package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
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
		if want == 200 && (v["balance"] == nil || v["account"].(map[string]any)["status"] == nil) {
			t.Fatalf("%s: %s", id, w.Body)
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
}

func TestProductionNeedsAStateKey(t *testing.T) {
	d := newTestApp(t).deps
	d.Config.Production = true
	if _, err := New(d); err == nil {
		t.Fatal("production without IVR_STATE_KEY must not start")
	}
}
