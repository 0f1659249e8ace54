package server

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/store"
	"github.com/ivr-project/ivr/internal/testutil"
)

// insightEnv is the admin with stored failure counts and a local "provider"
// serving voicemail recordings (checking the account's credentials).
type insightEnv struct {
	*adminEnv
	failures *store.FailureCounter
	media    *httptest.Server
}

const testAccount = "AC0123456789abcdef0123456789abcdef"

func newInsightEnv(t *testing.T) *insightEnv {
	e := &insightEnv{adminEnv: newAdminEnv(t, "", nil)}
	e.media = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != testAccount || pass != adminTryToken {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if !strings.HasSuffix(r.URL.Path, ".mp3") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "audio/mpeg")
		w.Write([]byte("ID3-fake-mp3"))
	}))
	t.Cleanup(e.media.Close)
	d := e.deps
	e.failures = store.NewFailureCounter(e.db, nil)
	d.Failures = e.failures
	d.MediaClient = e.media.Client()
	mediaHost := strings.TrimPrefix(e.media.URL, "https://")
	d.MediaAllowed = func(provider string, u *url.URL) bool { return u.Host == mediaHost }
	h, err := New(d)
	if err != nil {
		t.Fatal(err)
	}
	e.h = h
	return e
}

// playCall plays steps of one call through the signed Try API: digits per
// step ("" = the answer), then the end-of-call callback.
func (e *insightEnv) playCall(t *testing.T, from string, steps func(callID string, last tryResponse) []tryRequest) string {
	t.Helper()
	res := e.tryStep(t, tryRequest{Provider: "twilio", From: from})
	for _, req := range steps(res.CallID, res) {
		req.Provider, req.CallID, req.From = "twilio", res.CallID, from
		res = e.tryStep(t, req)
	}
	e.tryStep(t, tryRequest{Provider: "twilio", CallID: res.CallID, From: from, Hangup: true})
	return res.CallID
}

func TestAdminInsightsAndVoicemail(t *testing.T) {
	e := newInsightEnv(t)
	recURL := e.media.URL + "/2010-04-01/Accounts/" + testAccount + "/Recordings/RE1"
	// 1: option 6 (voicemail), leaves a recording: contained.
	vmCall := e.playCall(t, "+15550001111", func(id string, last tryResponse) []tryRequest {
		return []tryRequest{{URL: last.Gather.Action, Digits: "6"}}
	})
	e.tryStep(t, tryRequest{Provider: "twilio", CallID: vmCall, From: "+15550001111",
		URL: "/twilio/voice/action/voicemail-done?menu=main", RecordingURL: recURL})
	// 2: the same caller again, hangs up in main: abandoned, and call 1 is a repeat.
	e.playCall(t, "+15550001111", func(string, tryResponse) []tryRequest { return nil })
	// 3: 2 (support) then 1 (transfer), the agent answers: transferred.
	e.playCall(t, "+15550002222", func(id string, last tryResponse) []tryRequest {
		return []tryRequest{{URL: last.Gather.Action, Digits: "2"}}
	})
	waitCalls(t, e.adminEnv, 3)
	checkInsightsAPI(t, e)
	checkVoicemailInbox(t, e, vmCall, recURL)
	checkDashboardAndExports(t, e)
}

// checkInsightsAPI: the contract's figures for the three calls of
// TestAdminInsightsAndVoicemail.
func checkInsightsAPI(t *testing.T, e *insightEnv) {
	t.Helper()
	var got insightsJSON
	r := e.do(t, "GET", "/admin/api/insights?since="+today()+"&until="+today(), "", withBearer(adminTestToken))
	if r.Code != 200 {
		t.Fatalf("insights: %d %s", r.Code, r.Body.String())
	}
	if err := json.Unmarshal(r.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Calls != 3 || got.Contained != 1 || got.Abandoned != 2 || got.RepeatCallers != 1 || got.Fallbacks != 0 {
		t.Errorf("insights = %+v; want 3 calls, 1 contained (voicemail), 2 abandoned, 1 repeat caller", got)
	}
	if m := got.Menus["main"]; m.Entered != 3 || m.Chose != 2 || m.HungUp != 1 {
		t.Errorf("menu main = %+v; want entered 3, chose 2, hung up 1", m)
	}
	if m := got.Menus["support"]; m.Entered != 1 || m.HungUp != 1 {
		t.Errorf("menu support = %+v; want entered 1, hung up 1", m)
	}

}

// checkVoicemailInbox: the voicemail of call vmCall is listed, played
// through the proxy with the account's credentials, and marked handled.
func checkVoicemailInbox(t *testing.T, e *insightEnv, vmCall, recURL string) {
	t.Helper()
	var vms struct{ Voicemails []store.Voicemail }
	r := e.do(t, "GET", "/admin/api/voicemails?handled=no", "", withBearer(adminTestToken))
	if err := json.Unmarshal(r.Body.Bytes(), &vms); err != nil || len(vms.Voicemails) != 1 {
		t.Fatalf("voicemails: %s (%v)", r.Body.String(), err)
	}
	vm := vms.Voicemails[0]
	if vm.From != "+15550001111" || vm.CallID != vmCall || vm.Menu != "main" || vm.URL != recURL {
		t.Errorf("voicemail = %+v", vm)
	}
	id := itoa(vm.ID)
	r = e.do(t, "GET", "/admin/voicemails/"+id+"/audio", "", withBearer(adminTestToken))
	if r.Code != 200 || r.Body.String() != "ID3-fake-mp3" || r.Header().Get("Content-Type") != "audio/mpeg" {
		t.Errorf("audio: %d %q %q", r.Code, r.Header().Get("Content-Type"), r.Body.String())
	}
	page := e.do(t, "GET", "/admin/voicemails", "", withBearer(adminTestToken)).Body.String()
	if !strings.Contains(page, `src="/admin/voicemails/`+id+`/audio"`) || strings.Contains(page, adminTryToken) {
		t.Errorf("inbox page lacks the player, or shows the token:\n%s", section(page, `id="voicemails"`, "</table>"))
	}
	r = e.do(t, "POST", "/admin/voicemails/"+id+"/handled", "handled=yes", withBearer(adminTestToken),
		withHeader("Content-Type", "application/x-www-form-urlencoded"))
	if r.Code != http.StatusNoContent {
		t.Fatalf("mark handled: %d %s", r.Code, r.Body.String())
	}
	r = e.do(t, "GET", "/admin/api/voicemails?handled=no", "", withBearer(adminTestToken))
	if !strings.Contains(r.Body.String(), `"voicemails": []`) {
		t.Errorf("unhandled after marking: %s", r.Body.String())
	}

}

// checkDashboardAndExports: the dashboard page, the exports and the
// revision comparison of the three calls.
func checkDashboardAndExports(t *testing.T, e *insightEnv) {
	t.Helper()
	page := e.do(t, "GET", "/admin/insights", "", withBearer(adminTestToken)).Body.String()
	for _, want := range []string{`id="chart-days"`, `id="chart-hours"`, `<span class="value" id="kpi-calls">3</span>`, `average; p90 &lt; 5 s`, `data-menu="main"`, `id="chart-options-main"`, `id="chart-funnels"`} {
		if !strings.Contains(page, want) {
			t.Errorf("dashboard lacks %s", want)
		}
	}
	// Times are whole seconds: an average of 0 over calls means each took
	// under a second, shown as such.
	in, err := e.db.Insights(t.Context(), store.InsightFilter{})
	if err != nil || in.FlowCalls == 0 {
		t.Fatalf("insights: %v, %+v", err, in)
	}
	if want := `id="kpi-time">&lt; 1 s<`; (in.FlowSecondsAvg == 0) != strings.Contains(page, want) {
		t.Errorf("average %v s, the dashboard shows %q: %v", in.FlowSecondsAvg, want, strings.Contains(page, want))
	}
	rows := exportCSV(t, e, "what=calls")
	if len(rows) != 4 || rows[0][1] != "call_id" {
		t.Errorf("calls export: %d rows %v", len(rows), rows)
	}
	rows = exportCSV(t, e, "what=summary")
	if len(rows) != 2 || rows[1][2] != "3" {
		t.Errorf("summary export: %v", rows)
	}
	r := e.do(t, "GET", "/admin/api/insights/export?what=menus&format=json", "", withBearer(adminTestToken))
	if !strings.Contains(r.Body.String(), `"menu": "main"`) || !strings.Contains(r.Body.String(), `"entered": 3`) {
		t.Errorf("menus export JSON: %s", r.Body.String())
	}
	rev := e.flows.Flow().Revision()
	r = e.do(t, "GET", "/admin/api/insights/compare?a="+rev+"&b=000000000000", "", withBearer(adminTestToken))
	var cmp map[string]revisionFigures
	if err := json.Unmarshal(r.Body.Bytes(), &cmp); err != nil || cmp["a"].Calls != 3 || cmp["b"].Calls != 0 || cmp["a"].Rates.Containment != 33.3 {
		t.Errorf("compare: %s (%v)", r.Body.String(), err)
	}
	page = e.do(t, "GET", "/admin/insights?a="+rev+"&b="+rev, "", withBearer(adminTestToken)).Body.String()
	if !strings.Contains(page, `id="revision-compare"`) {
		t.Error("dashboard lacks the revision comparison")
	}
}

func TestAdminInsightsStoredFailures(t *testing.T) {
	e := newInsightEnv(t)
	// A forged request: refused and answered with the fallback; counted in
	// the store, while no call is recorded.
	r := e.do(t, "POST", "/twilio/voice", url.Values{"CallSid": {"CAforged"}}.Encode())
	if r.Code != 200 {
		t.Fatal(r.Code)
	}
	if err := e.failures.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	in, err := e.db.Insights(context.Background(), store.InsightFilter{})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int64{}
	for _, f := range in.Failures {
		kinds[f.Kind+"/"+f.Reason] += f.Count
	}
	if kinds["refused/missing_signature"] != 1 || kinds["fallback/missing_signature"] != 1 || in.Calls != 0 {
		t.Errorf("failures %v, calls %d; want one refused and one fallback (missing_signature), no call", kinds, in.Calls)
	}
	page := e.do(t, "GET", "/admin/insights", "", withBearer(adminTestToken)).Body.String()
	if !strings.Contains(section(page, `id="failure-counts"`, "</table>"), "missing_signature") {
		t.Error("dashboard's failure table lacks missing_signature")
	}
}

func TestAdminInsightsBadQueries(t *testing.T) {
	e := newAdminEnv(t, "", nil)
	for _, q := range []string{
		"/admin/api/insights?since=yesterday",
		"/admin/api/insights?since=2026-02-01&until=2026-01-01",
		"/admin/api/insights?provider=skype",
		"/admin/api/insights?since=2000-01-01&until=2026-01-01",
		"/admin/api/insights/export?what=nothing",
		"/admin/api/insights/export?what=calls&format=xml",
		"/admin/api/insights/compare?a=x",
		"/admin/api/voicemails?handled=maybe",
		"/admin/api/voicemails?limit=many",
	} {
		if r := e.do(t, "GET", q, "", withBearer(adminTestToken)); r.Code != http.StatusBadRequest {
			t.Errorf("%s = %d, want 400", q, r.Code)
		}
	}
	if r := e.do(t, "GET", "/admin/api/insights", ""); r.Code != http.StatusUnauthorized {
		t.Errorf("insights without a token = %d, want 401", r.Code)
	}
	if r := e.do(t, "GET", "/admin/voicemails/999/audio", "", withBearer(adminTestToken)); r.Code != http.StatusNotFound {
		t.Errorf("unknown voicemail audio = %d, want 404", r.Code)
	}
}

func exportCSV(t *testing.T, e *insightEnv, query string) [][]string {
	t.Helper()
	r := e.do(t, "GET", "/admin/api/insights/export?format=csv&"+query, "", withBearer(adminTestToken))
	if r.Code != 200 || !strings.HasPrefix(r.Header().Get("Content-Type"), "text/csv") {
		t.Fatalf("export %s: %d %s", query, r.Code, r.Body.String())
	}
	rows, err := csv.NewReader(strings.NewReader(r.Body.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func today() string { return time.Now().UTC().Format(time.DateOnly) }

// waitCalls waits until n calls are stored with a final status and the
// event writer has committed everything queued.
func waitCalls(t *testing.T, e *adminEnv, n int) {
	t.Helper()
	if !testutil.Eventually(testutil.WaitTimeout, func() bool {
		in, err := e.db.Insights(context.Background(), store.InsightFilter{})
		return err == nil && in.Calls == int64(n) && e.deps.Events.Depth() == 0
	}) {
		t.Fatalf("%d calls not stored in time", n)
	}
}

func TestAdminFlowMapCounts(t *testing.T) {
	e := newInsightEnv(t)
	// Two calls: one presses 2 (support), one hangs up in main.
	e.playCall(t, "+15550003333", func(id string, last tryResponse) []tryRequest {
		return []tryRequest{{URL: last.Gather.Action, Digits: "2"}}
	})
	e.playCall(t, "+15550004444", func(string, tryResponse) []tryRequest { return nil })
	waitCalls(t, e.adminEnv, 2)
	page := e.do(t, "GET", "/admin/flow", "", withBearer(adminTestToken)).Body.String()
	for _, want := range []string{
		`2 entered · 1 hung up</text>`,
		`1 entered · 1 hung up</text>`,
		`data-edge="m:main/2">1<`, // the arrow of option 2 to support
		`>2 calls</text>`,         // the example's start has three arrows (open, closed, a number): the calls go on its box
	} {
		if !strings.Contains(page, want) {
			t.Errorf("flow map lacks %s", want)
		}
	}
	// Not every call took each of those arrows: none is labelled with them all.
	if strings.Contains(page, `data-edge="start/"`) {
		t.Errorf("an arrow from the call's start claims every call")
	}
	if r := e.do(t, "GET", "/admin/flow?since=bad", "", withBearer(adminTestToken)); r.Code != 200 || !strings.Contains(r.Body.String(), "since: write a date") {
		t.Errorf("bad period on the flow map: %d", r.Code)
	}
}
