package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/httpobs"
	"github.com/ivr-project/ivr/internal/publish"
	"github.com/ivr-project/ivr/internal/store"
	"github.com/ivr-project/ivr/internal/testutil"
)

// instance is one server of several sharing a store, following its
// revisions at the configured interval (IVR_FLOW_WATCH_INTERVAL, 2 s).
type instance struct {
	*adminEnv
	pub *publish.Service
}

func newInstance(t *testing.T, dsn string) *instance {
	t.Helper()
	e := newAdminEnv(t, "", map[string]string{"IVR_PUBLIC_URL": testPublic})
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	pub := publish.New(e.flows, db, nil)
	if err := pub.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { pub.Follow(ctx, e.deps.Config.FlowWatchInterval); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	d := e.deps
	d.Store, d.Publisher, d.Metrics, d.Failures = db, pub, httpobs.NewMetrics(nil, nil), nil
	h, err := New(d)
	if err != nil {
		t.Fatal(err)
	}
	e.h, e.db, e.deps = h, db, d
	return &instance{adminEnv: e, pub: pub}
}

var callSeq int

// newCall answers a new call on provider and returns the XML.
func (e *adminEnv) newCall(t *testing.T, provider string) string {
	t.Helper()
	callSeq++
	form := callForm(provider)
	if provider == "plivo" {
		form.Set("CallUUID", fmt.Sprintf("closure-%d-%d", time.Now().UnixNano(), callSeq))
	} else {
		form.Set("CallSid", fmt.Sprintf("CAclosure%d%d", time.Now().UnixNano(), callSeq))
	}
	r := signedRequest(provider, adminTryToken, testPublic, http.MethodPost, "/"+provider+"/voice", form)
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	if w.Code != 200 {
		t.Fatalf("%s answer: %d %s", provider, w.Code, w.Body)
	}
	return w.Body.String()
}

// TestClosureTwoInstances: a closure set through the API on one instance
// is heard by the next call on a second instance sharing PostgreSQL within
// 5 s, on both providers; it is in the history with who and when, and it
// ends by itself at its end time.
func TestClosureTwoInstances(t *testing.T) {
	testutil.PostgresBase(t)
	dsn := testutil.PostgresURL(t)
	a, b := newInstance(t, dsn), newInstance(t, dsn)
	const msg = "We are closed today because of the storm."
	for _, p := range []string{"twilio", "plivo"} {
		if body := b.newCall(t, p); strings.Contains(body, msg) {
			t.Fatalf("%s: closure heard before it was set: %s", p, body)
		}
	}
	until := time.Now().Add(8 * time.Second).UTC().Truncate(time.Second)
	body := jsonBody(t, map[string]any{"message": msg, "then": "hangup", "until": until.Format(time.RFC3339), "author": "Ann (ops)"})
	set := time.Now()
	w := a.do(t, "POST", "/admin/api/closure", body, withBearer(adminTestToken))
	if w.Code != 200 {
		t.Fatalf("POST /admin/api/closure: %d %s", w.Code, w.Body)
	}
	heard := map[string]time.Duration{}
	for len(heard) < 2 && time.Since(set) < 6*time.Second {
		for _, p := range []string{"twilio", "plivo"} {
			if _, ok := heard[p]; ok {
				continue
			}
			if body := b.newCall(t, p); strings.Contains(body, msg) {
				if !strings.Contains(body, "<Hangup") || strings.Contains(body, "<Gather") || strings.Contains(body, "<GetInput") {
					t.Fatalf("%s: closure answer is not message + hang-up: %s", p, body)
				}
				heard[p] = time.Since(set)
			}
		}
		time.Sleep(50 * time.Millisecond) // polling interval of the check, not a wait for a result
	}
	t.Logf("closure heard on the second instance after: twilio %v, plivo %v", heard["twilio"], heard["plivo"])
	for _, p := range []string{"twilio", "plivo"} {
		if d, ok := heard[p]; !ok || d > 5*time.Second {
			t.Errorf("%s: the second instance's next call heard the closure after %v (heard: %v), want within 5 s", p, d, ok)
		}
	}
	var got struct {
		Message string    `json:"message"`
		Then    string    `json:"then"`
		Until   time.Time `json:"until"`
		SetBy   string    `json:"set_by"`
	}
	w = b.do(t, "GET", "/admin/api/closure", "", withBearer(adminTestToken))
	if json.Unmarshal(w.Body.Bytes(), &got) != nil || got.Message != msg || got.Then != "hangup" || !got.Until.Equal(until) || got.SetBy != "Ann (ops)" {
		t.Errorf("GET /admin/api/closure on the second instance: %s", w.Body)
	}
	var hist struct {
		Revisions []struct {
			Revision int64     `json:"revision"`
			At       time.Time `json:"at"`
			Author   string    `json:"author"`
			Note     string    `json:"note"`
		} `json:"revisions"`
	}
	w = b.do(t, "GET", "/admin/api/flow/revisions", "", withBearer(adminTestToken))
	if err := json.Unmarshal(w.Body.Bytes(), &hist); err != nil || len(hist.Revisions) == 0 {
		t.Fatalf("revisions: %s", w.Body)
	}
	if h := hist.Revisions[0]; h.Author != "Ann (ops)" || !strings.HasPrefix(h.Note, "closure set: then hangup, until "+until.Format(time.RFC3339)) || h.At.Before(set.Add(-time.Second)) {
		t.Errorf("newest revision = %+v, want the closure by Ann (ops)", h)
	}
	// It ends by itself at until, on both instances, without anyone lifting it.
	for time.Now().Before(until) {
		time.Sleep(100 * time.Millisecond)
	}
	for _, e := range []*instance{a, b} {
		for _, p := range []string{"twilio", "plivo"} {
			if body := e.newCall(t, p); strings.Contains(body, msg) {
				t.Errorf("%s: closure still heard after its end time: %s", p, body)
			}
		}
		if w := e.do(t, "GET", "/admin/api/closure", "", withBearer(adminTestToken)); strings.TrimSpace(w.Body.String()) != "{}" {
			t.Errorf("GET /admin/api/closure after its end: %s", w.Body)
		}
	}
}

// TestClosureAPI: validation, lifting with DELETE, and the banner on admin
// pages while it is on.
func TestClosureAPI(t *testing.T) {
	e := newAdminEnv(t, "", map[string]string{"IVR_PUBLIC_URL": testPublic})
	for _, body := range []string{
		`{"message": "", "then": "hangup"}`,
		`{"message": "x", "then": "dance"}`,
		`{"message": "x", "then": "hangup", "until": "tomorrow"}`,
		`{"message": "x", "then": "hangup", "until": "2001-01-01T00:00:00Z"}`,
	} {
		if w := e.do(t, "POST", "/admin/api/closure", body, withBearer(adminTestToken)); w.Code != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", body, w.Code, w.Body)
		}
	}
	if w := e.do(t, "POST", "/admin/api/closure", `{"message":"Closed.","then":"voicemail","until":null}`); w.Code != http.StatusSeeOther && w.Code != http.StatusUnauthorized {
		t.Errorf("without a token: %d", w.Code)
	}
	w := e.do(t, "POST", "/admin/api/closure", `{"message":"Closed for inventory.","then":"voicemail","until":null}`, withBearer(adminTestToken))
	if w.Code != 200 {
		t.Fatalf("set: %d %s", w.Code, w.Body)
	}
	body := e.newCall(t, "twilio")
	if !strings.Contains(body, "Closed for inventory.") || !strings.Contains(body, "<Record") {
		t.Errorf("call during a voicemail closure: %s", body)
	}
	session, _ := e.login(t)
	page := e.do(t, "GET", "/admin/calls", "", withCookie(session))
	if !strings.Contains(page.Body.String(), `id="closure-banner"`) || !strings.Contains(page.Body.String(), "Closed for inventory.") {
		t.Errorf("no closure banner on an admin page while it is on")
	}
	if w := e.do(t, "DELETE", "/admin/api/closure?author=bob", "", withBearer(adminTestToken)); w.Code != 200 {
		t.Fatalf("lift: %d %s", w.Code, w.Body)
	}
	if body := e.newCall(t, "plivo"); strings.Contains(body, "Closed for inventory.") {
		t.Errorf("closure heard after lifting: %s", body)
	}
	page = e.do(t, "GET", "/admin/calls", "", withCookie(session))
	if strings.Contains(page.Body.String(), `id="closure-banner"`) {
		t.Errorf("closure banner after lifting")
	}
}
