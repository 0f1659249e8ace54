package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/admin"
	"github.com/ivr-project/ivr/internal/ivr"
	"github.com/ivr-project/ivr/internal/store"
)

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
		evs := []store.Event{{Event: ivr.Event{At: at, Menu: "main", Kind: ivr.EventEnter}},
			{Event: ivr.Event{At: at.Add(time.Second), Menu: "main", Heard: ivr.HeardKeys, Entry: "2", Kind: ivr.EventGoto, Target: "support"}}}
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

	falls, total := admin.StoredByReason(context.Background(), admin.Deps{Store: e.deps.Store, Failures: e.deps.Failures, Logger: e.deps.Logger}, store.FailureFallback)
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

func TestAPICallsStatus(t *testing.T) {
	e := newAdminEnv(t, "", nil)
	for _, tc := range []struct {
		query string
		want  int
	}{
		{"limit=2", 200},
		{"since=yesterday", 400},
		{"cursor=not-a-cursor", 400},
	} {
		if w := e.do(t, "GET", "/admin/api/calls?"+tc.query, "", withBearer(adminTestToken)); w.Code != tc.want {
			t.Errorf("%s = %d %s, want %d", tc.query, w.Code, w.Body.String(), tc.want)
		}
	}
	// A store failure is not the request's fault: 503, as the other admin APIs.
	e.db.Close()
	if w := e.do(t, "GET", "/admin/api/calls", "", withBearer(adminTestToken)); w.Code != 503 {
		t.Errorf("store down = %d %s, want 503", w.Code, w.Body.String())
	}
}
