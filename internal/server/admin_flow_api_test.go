package server

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/httpobs"
	"github.com/ivr-project/ivr/internal/ivr"
	"github.com/ivr-project/ivr/internal/store"
	"github.com/ivr-project/ivr/internal/testutil"
)

const apiFlowV1 = `menus:
  main:
    greeting: "Version one."
    options:
      "1": hangup
`

const apiFlowV2 = `menus:
  main:
    greeting: "Version two."
    options:
      "1": {goto: other}
  other:
    greeting: "Other."
    options:
      "1": hangup
`

// apiFlowBad names a menu that does not exist, on line 5.
const apiFlowBad = `menus:
  main:
    greeting: "Broken."
    options:
      "1": {goto: nowhere}
`

// forEachFlowStore runs fn with an admin server on SQLite and on PostgreSQL
// (a fresh schema), in store mode (flowPath "") or file mode.
func forEachFlowStore(t *testing.T, flowPath func(t *testing.T) string, fn func(t *testing.T, e *adminEnv)) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			e := newAdminEnv(t, flowPath(t), nil)
			if backend == "postgres" {
				testutil.PostgresBase(t)
				db, err := store.Open(context.Background(), testutil.PostgresURL(t))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				d := e.deps
				d.Store, d.Publisher, d.Metrics, d.Failures = db, nil, httpobs.NewMetrics(nil, nil), nil
				h, err := New(d)
				if err != nil {
					t.Fatal(err)
				}
				e.h, e.db, e.deps = h, db, d
			}
			fn(t, e)
		})
	}
}

func storeMode(*testing.T) string { return "" }

func jsonBody(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func (e *adminEnv) liveFlow(t testing.TB) (int64, string) {
	t.Helper()
	w := e.do(t, "GET", "/admin/api/flow", "", withBearer(adminTestToken))
	var got struct {
		Revision int64  `json:"revision"`
		Text     string `json:"text"`
	}
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &got) != nil {
		t.Fatalf("GET /admin/api/flow: %d %s", w.Code, w.Body)
	}
	return got.Revision, got.Text
}

func TestFlowAPIPublish(t *testing.T) {
	forEachFlowStore(t, storeMode, func(t *testing.T, e *adminEnv) {
		rev, text := e.liveFlow(t)
		if rev != 1 || text != string(ivr.Example()) {
			t.Fatalf("live flow = revision %d (%d bytes), want 1 with the bundled example", rev, len(text))
		}
		session, csrf := e.login(t)
		bearer := withBearer(adminTestToken)
		sameOrigin := withHeader("Origin", "http://example.com")
		huge := "# " + strings.Repeat("x", ivr.MaxFileSize) + "\n" + apiFlowV2
		for _, tc := range []struct {
			name string
			body string
			opts []reqOpt
			want int
			has  string
		}{
			{"no credentials", jsonBody(t, map[string]any{"text": apiFlowV2, "base_revision": 1}), []reqOpt{sameOrigin}, 401, "admin token"},
			{"wrong token", jsonBody(t, map[string]any{"text": apiFlowV2, "base_revision": 1}), []reqOpt{withBearer("guess"), sameOrigin}, 401, "admin token"},
			{"session without CSRF token", jsonBody(t, map[string]any{"text": apiFlowV2, "base_revision": 1}), []reqOpt{withCookie(session), withCookie(csrf), sameOrigin}, 403, "CSRF"},
			{"session from another origin", jsonBody(t, map[string]any{"text": apiFlowV2, "base_revision": 1}), []reqOpt{withCookie(session), withCookie(csrf), withHeader(csrfHeader, csrf.Value), withHeader("Origin", "https://evil.example")}, 403, "cross-site"},
			{"bearer from another origin", jsonBody(t, map[string]any{"text": apiFlowV2, "base_revision": 1}), []reqOpt{bearer, withHeader("Origin", "https://evil.example")}, 403, "cross-site"},
			{"check fails", jsonBody(t, map[string]any{"text": apiFlowBad, "base_revision": 1}), []reqOpt{bearer}, 422, `"line":5`},
			{"stale base", jsonBody(t, map[string]any{"text": apiFlowV2, "base_revision": 0}), []reqOpt{bearer}, 409, "since this draft was opened"},
			{"too large", jsonBody(t, map[string]any{"text": huge, "base_revision": 1}), []reqOpt{bearer}, 413, "more than the 1048576 allowed"},
			{"request too large", jsonBody(t, map[string]any{"text": huge + huge + huge, "base_revision": 1}), []reqOpt{bearer}, 413, "a flow may be at most"},
			{"bad JSON", `{"text": 3}`, []reqOpt{bearer}, 400, "bad JSON"},
			{"unknown field", `{"txt": "x"}`, []reqOpt{bearer}, 400, "unknown field"},
			{"published with the session", jsonBody(t, map[string]any{"text": apiFlowV1, "base_revision": 1, "note": "one", "author": "ana"}), []reqOpt{withCookie(session), withCookie(csrf), withHeader(csrfHeader, csrf.Value), sameOrigin}, 200, `"revision": 2`},
			{"published with the token", jsonBody(t, map[string]any{"text": apiFlowV2, "base_revision": 2, "note": "two"}), []reqOpt{bearer}, 200, `"revision": 3`},
			{"same base again", jsonBody(t, map[string]any{"text": apiFlowV1, "base_revision": 2}), []reqOpt{bearer}, 409, "live revision 3"},
		} {
			w := e.do(t, "POST", "/admin/api/flow", tc.body, tc.opts...)
			if w.Code != tc.want || !strings.Contains(w.Body.String(), tc.has) {
				t.Errorf("%s: %d %.300s, want %d with %q", tc.name, w.Code, w.Body, tc.want, tc.has)
			}
		}
		if rev, text := e.liveFlow(t); rev != 3 || text != apiFlowV2 {
			t.Fatalf("live flow after publishing = %d %q", rev, text)
		}
		if e.deps.Flows.Flow().Revision() != testutil.MustParse(t, ivr.Parse, apiFlowV2).Revision() {
			t.Fatal("the published flow does not serve")
		}
		e.checkHistory(t)
	})
}

// checkHistory: the revisions list, one revision, a diff, rollback.
func (e *adminEnv) checkHistory(t *testing.T) {
	bearer := withBearer(adminTestToken)
	w := e.do(t, "GET", "/admin/api/flow/revisions", "", bearer)
	var list struct {
		Revisions []store.FlowRevision `json:"revisions"`
	}
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &list) != nil || len(list.Revisions) != 3 {
		t.Fatalf("revisions: %d %s", w.Code, w.Body)
	}
	if r := list.Revisions[1]; r.ID != 2 || r.Note != "one" || r.Author != "ana" || r.At.IsZero() {
		t.Errorf("revision 2 in the list = %+v", r)
	}
	if w := e.do(t, "GET", "/admin/api/flow/revisions/2", "", bearer); w.Code != 200 || !strings.Contains(w.Body.String(), "Version one.") {
		t.Errorf("revision 2: %d %s", w.Code, w.Body)
	}
	for target, want := range map[string]int{"/admin/api/flow/revisions/9": 404, "/admin/api/flow/revisions/x": 400, "/admin/api/flow/diff?from=1": 400, "/admin/api/flow/diff?from=1&to=9": 404} {
		if w := e.do(t, "GET", target, "", bearer); w.Code != want {
			t.Errorf("GET %s: %d, want %d", target, w.Code, want)
		}
	}
	w = e.do(t, "GET", "/admin/api/flow/diff?from=2&to=3", "", bearer)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `-    greeting: \"Version one.\"`) || !strings.Contains(w.Body.String(), `+  other:`) {
		t.Errorf("diff 2..3: %d %s", w.Code, w.Body)
	}
	for _, tc := range []struct {
		body string
		opts []reqOpt
		want int
	}{
		{`{"revision": 2}`, []reqOpt{withHeader("Origin", "http://example.com")}, 401},
		{`{"revision": 9}`, []reqOpt{bearer}, 404},
		{`{"revision": 2}`, []reqOpt{bearer}, 200},
	} {
		if w := e.do(t, "POST", "/admin/api/flow/rollback", tc.body, tc.opts...); w.Code != tc.want {
			t.Errorf("rollback %s: %d %s, want %d", tc.body, w.Code, w.Body, tc.want)
		}
	}
	if rev, text := e.liveFlow(t); rev != 4 || text != apiFlowV1 {
		t.Fatalf("after rollback to 2: live = %d %q", rev, text)
	}
	got, err := e.db.FlowRevisionByID(context.Background(), 4)
	if err != nil || got.Note != "rollback to revision 2" {
		t.Fatalf("revision 4 = %+v, %v", got, err)
	}
}

func TestFlowAPICheck(t *testing.T) {
	e := newAdminEnv(t, "", nil)
	bearer := withBearer(adminTestToken)
	for _, tc := range []struct {
		text string
		want string
	}{
		{apiFlowV2, `"problems": []`},
		{apiFlowBad, `"line": 5`},
		{"menus: [", `"line": 1`},
	} {
		w := e.do(t, "POST", "/admin/api/flow/check", jsonBody(t, map[string]string{"text": tc.text}), bearer)
		if w.Code != 200 || !strings.Contains(w.Body.String(), tc.want) {
			t.Errorf("check %q: %d %s, want %s", tc.text, w.Code, w.Body, tc.want)
		}
	}
	if w := e.do(t, "POST", "/admin/api/flow/check", jsonBody(t, map[string]string{"text": apiFlowV2}), withHeader("Origin", "http://example.com")); w.Code != 401 {
		t.Errorf("check without a token: %d", w.Code)
	}
}

// File mode: the file stays the source of truth; a publish writes it (and
// records the revision); an edit on disk is recorded as a revision.
func TestFlowAPIFileMode(t *testing.T) {
	var path string
	forEachFlowStore(t, func(t *testing.T) string {
		path = filepath.Join(t.TempDir(), "flow.yaml")
		if err := os.WriteFile(path, []byte(apiFlowV1), 0o640); err != nil {
			t.Fatal(err)
		}
		return path
	}, func(t *testing.T, e *adminEnv) {
		rev, text := e.liveFlow(t)
		if rev != 1 || text != apiFlowV1 {
			t.Fatalf("live = %d %q", rev, text)
		}
		w := e.do(t, "POST", "/admin/api/flow", jsonBody(t, map[string]any{"text": apiFlowV2, "base_revision": 1}), withBearer(adminTestToken))
		if w.Code != 200 {
			t.Fatalf("publish: %d %s", w.Code, w.Body)
		}
		if b, err := os.ReadFile(path); err != nil || string(b) != apiFlowV2 {
			t.Fatalf("the file after publishing: %q, %v", b, err)
		}
		if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o640 {
			t.Errorf("the file's mode after publishing: %v, %v", st.Mode(), err)
		}
		if e.flows.Flow().Revision() != testutil.MustParse(t, ivr.Parse, apiFlowV2).Revision() {
			t.Fatal("the published file is not live")
		}
		edited := strings.Replace(apiFlowV1, "Version one.", "Edited on disk.", 1)
		if err := os.WriteFile(path, []byte(edited), 0o640); err != nil {
			t.Fatal(err)
		}
		if err := e.flows.Reload(); err != nil { // what Watch does on a change
			t.Fatal(err)
		}
		if rev, text := e.liveFlow(t); rev != 3 || text != edited {
			t.Fatalf("after a disk edit: live = %d %q", rev, text)
		}
		got, err := e.db.FlowRevisionByID(context.Background(), 3)
		if err != nil || got.Author != "file" {
			t.Fatalf("revision 3 = %+v, %v", got, err)
		}
		w = e.do(t, "POST", "/admin/api/flow", jsonBody(t, map[string]any{"text": apiFlowV2, "base_revision": 2}), withBearer(adminTestToken))
		if w.Code != 409 {
			t.Fatalf("publish on a base older than the disk edit: %d %s", w.Code, w.Body)
		}
	})
}

// Replay, map and try-the-draft through the API.
func TestFlowAPIDraftTools(t *testing.T) {
	e := newAdminEnv(t, "", nil)
	bearer := withBearer(adminTestToken)
	// A recorded call on the live example: 2 (support), then 1 (transfer).
	if err := e.db.AddEvents(context.Background(), "twilio", "CAreplay", "+15551230000", "+15559870000", replayEvents(t)); err != nil {
		t.Fatal(err)
	}
	draft := strings.Replace(string(ivr.Example()), "do: {goto: support}", "do: {goto: billing}", 1)
	for _, tc := range []struct {
		name, body string
		want       int
		has        []string
	}{
		{"the live flow again", jsonBody(t, map[string]any{"text": string(ivr.Example()), "calls": 10}), 200, []string{`"replayed": 1`, `"changed": []`}},
		{"support goes to billing", jsonBody(t, map[string]any{"text": draft, "calls": 10}), 200, []string{`"call_id": "CAreplay"`, `"support"`, `"billing"`, `"diverges_at": 1`, `+        do: {goto: billing}`}},
		{"a broken draft", jsonBody(t, map[string]any{"text": apiFlowBad, "calls": 10}), 422, []string{`"line":5`}},
		{"no calls asked", jsonBody(t, map[string]any{"text": draft}), 400, []string{"calls must be"}},
	} {
		w := e.do(t, "POST", "/admin/api/flow/replay", tc.body, bearer)
		for _, h := range tc.has {
			if w.Code != tc.want || !strings.Contains(w.Body.String(), h) {
				t.Errorf("replay %s: %d %.600s, want %d with %q", tc.name, w.Code, w.Body, tc.want, h)
			}
		}
	}
	w := e.do(t, "POST", "/admin/api/flow/map", jsonBody(t, map[string]string{"text": apiFlowV2}), bearer)
	if w.Code != 200 || !strings.HasPrefix(w.Body.String(), "<svg") || !strings.Contains(w.Body.String(), `data-node="m:other"`) {
		t.Errorf("map of a draft: %d %.300s", w.Code, w.Body)
	}
	if w := e.do(t, "POST", "/admin/api/flow/map", jsonBody(t, map[string]string{"text": apiFlowBad}), bearer); w.Code != 422 {
		t.Errorf("map of a broken draft: %d", w.Code)
	}
	// Try the draft: the answer is the draft's, and nothing is recorded.
	w = e.do(t, "POST", "/admin/api/try", jsonBody(t, map[string]any{"provider": "twilio", "call_id": "CAdraft", "draft": apiFlowV2}), bearer)
	if w.Code != 200 || !strings.Contains(w.Body.String(), "Version two.") {
		t.Fatalf("try the draft: %d %.400s", w.Code, w.Body)
	}
	w = e.do(t, "POST", "/admin/api/try", jsonBody(t, map[string]any{"provider": "twilio", "call_id": "CAdraft", "draft": apiFlowBad}), bearer)
	if w.Code != 422 || !strings.Contains(w.Body.String(), "flow.yaml:5:") {
		t.Errorf("try a broken draft: %d %.400s", w.Code, w.Body)
	}
	w = e.do(t, "POST", "/admin/api/try", jsonBody(t, map[string]any{"provider": "twilio", "call_id": "CAdraft", "draft": apiFlowV2, "hangup": true}), bearer)
	if w.Code != 200 || !strings.Contains(w.Body.String(), "not recorded") {
		t.Errorf("hang up a draft call: %d %.400s", w.Code, w.Body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	e.deps.Events.Flush(ctx)
	if _, err := e.db.GetCall(ctx, "twilio", "CAdraft"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a call on the draft was recorded: %v", err)
	}
}

// replayEvents are the events of a call on the example: main, 2, support, 1, transfer.
func replayEvents(t *testing.T) []store.Event {
	t.Helper()
	f := testutil.MustParse(t, ivr.Parse, string(ivr.Example()))
	var out []store.Event
	for _, e := range []ivr.Event{
		{Menu: "main", Kind: ivr.EventEnter},
		{Menu: "main", Heard: ivr.HeardKeys, Entry: "2", Kind: ivr.EventOption, Key: "2"},
		{Menu: "support", Kind: ivr.EventEnter},
		{Menu: "support", Heard: ivr.HeardKeys, Entry: "1", Kind: ivr.EventOption, Key: "1"},
		{Menu: "support", Kind: ivr.EventTransfer, More: &ivr.EventMore{Numbers: []string{"+15005550006"}}},
	} {
		e.At = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		out = append(out, store.Event{Event: e, Revision: f.Revision()})
	}
	return out
}

// The insights page names the content hashes call events carry by their
// published revision numbers.
func TestInsightsNameRevisions(t *testing.T) {
	e := newAdminEnv(t, "", nil)
	e.liveFlow(t) // seeds revision 1 with the example
	evs := replayEvents(t)
	for i := range evs {
		evs[i].At = time.Now().UTC()
	}
	if err := e.db.AddEvents(context.Background(), "twilio", "CArev", "+15551230000", "+15559870000", evs); err != nil {
		t.Fatal(err)
	}
	w := e.do(t, "GET", "/admin/insights", "", withBearer(adminTestToken))
	want := "revision 1 · " + testutil.MustParse(t, ivr.Parse, string(ivr.Example())).Revision()
	if w.Code != 200 || !strings.Contains(w.Body.String(), want) {
		t.Errorf("insights page: %d, want an option %q", w.Code, want)
	}
}
