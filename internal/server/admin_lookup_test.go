package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// newDemoEnv is the admin env on flowPath whose {{demo_api}} is its own
// /demo API, served over real HTTP as in local mode.
func newDemoEnv(t *testing.T, flowPath string, env map[string]string) *adminEnv {
	e := newAdminEnv(t, flowPath, env)
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	d := e.deps
	d.DemoAPI = srv.URL + "/demo"
	var err error
	if h, err = New(d); err != nil {
		t.Fatal(err)
	}
	e.h, e.deps = h, d
	return e
}

// TestAdminTryRunsLookups plays the example flow's account lookup on the
// Try page: the real handlers ask the demo API over HTTP, on both providers,
// and the number called (in each provider's form) picks the entry menu.
func TestAdminTryRunsLookups(t *testing.T) {
	for _, provider := range []string{"twilio", "plivo"} {
		t.Run(provider, func(t *testing.T) {
			e := newDemoEnv(t, "", nil)
			to := map[string]string{"twilio": "+15550100001", "plivo": "15550100001"}[provider]
			res := e.tryStep(t, tryRequest{Provider: provider, To: to})
			if res.Gather == nil || !promptsContain(res.Prompts, "account number") {
				t.Fatalf("the account number does not start at the account menu: %+v\n%s", res.Prompts, res.XML)
			}
			paid := e.tryStep(t, tryRequest{Provider: provider, CallID: res.CallID, To: to, URL: res.Gather.Action, Digits: "123456"})
			if !promptsContain(paid.Prompts, "is 42.50 dollars") {
				t.Fatalf("active account: %+v\n%s", paid.Prompts, paid.XML)
			}
			for _, u := range urlInXML.FindAllString(paid.XML, -1) {
				if strings.Contains(u, "123456") {
					t.Fatalf("the account number is in clear in a URL: %s", u)
				}
			}
			susp := e.tryStep(t, tryRequest{Provider: provider, CallID: res.CallID, To: to, URL: res.Gather.Action, Digits: "345678"})
			if !promptsContain(susp.Prompts, "your reference is ") || susp.End == nil || susp.End.Kind != "hangup" {
				t.Fatalf("suspended account (GET then POST): %+v %+v\n%s", susp.Prompts, susp.End, susp.XML)
			}
			unknown := e.tryStep(t, tryRequest{Provider: provider, CallID: res.CallID, To: to, URL: res.Gather.Action, Digits: "999999"})
			if !promptsContain(unknown.Prompts, "could not find that account") {
				t.Fatalf("unknown account (404, on_error): %+v\n%s", unknown.Prompts, unknown.XML)
			}
		})
	}
}

// TestAdminFlowMapShowsLogic: the flow map draws numbers, collects, lookups
// and branches, and names a secret without its value.
func TestAdminFlowMapShowsLogic(t *testing.T) {
	e := newAdminEnv(t, "testdata/lookup/flow.yaml", map[string]string{"IVR_SECRET_CRM_TOKEN": testCRMToken})
	w := e.do(t, "GET", "/admin/flow", "", withBearer(adminTestToken))
	page := w.Body.String()
	if w.Code != 200 {
		t.Fatalf("%d\n%s", w.Code, page)
	}
	for _, want := range []string{
		`class="row row-collect"`, `class="row row-lookup"`, `class="row row-branch"`,
		"account, 6–10 digits", "fetch account", "if status == &#34;suspended&#34;",
		"<h2>Lookups</h2>", "Bearer {{secret.CRM_TOKEN}}", "status ← account.status",
		"Collects <code>account</code>: 6 to 10 digits", "15550100001</code>",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the flow map lacks %q", want)
		}
	}
	if strings.Contains(page, testCRMToken) {
		t.Fatal("the flow map shows a secret's value")
	}
}
