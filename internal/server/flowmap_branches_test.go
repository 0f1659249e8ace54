package server

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// TestFlowMapBranchCounts (issue 27 item 6): the flow map's rows inside a
// collect show their own counts from the recorded calls: the fetch's
// on_error row how often the lookup failed, each switch branch how often it
// was taken. 18 accounts entered: 10 lookups fail (the API answers 500,
// then its circuit opens), 4 active accounts with a balance, 2 suspended
// ones, 2 in good standing (else); the rows used to show 18 each, then
// nothing.
func TestFlowMapBranchCounts(t *testing.T) {
	api := newAccountAPI(t)
	e := newAdminEnvWith(t, "testdata/lookup/flow.yaml", map[string]string{"IVR_SECRET_CRM_TOKEN": testCRMToken},
		func(d *Deps) { d.DemoAPI = api.URL })
	// The failures last: five in a row open the lookup's circuit.
	accounts := append([]string{"123456", "123456", "123456", "123456", suspendedAcct, suspendedAcct, "234567", "234567"},
		strings.Fields(strings.Repeat("500500 ", 10))...)
	for _, acct := range accounts {
		res := e.tryStep(t, tryRequest{Provider: "twilio", To: lookupNumber})
		if res.Gather == nil {
			t.Fatalf("no gather at the account menu: %s", res.XML)
		}
		e.tryStep(t, tryRequest{Provider: "twilio", CallID: res.CallID, To: lookupNumber, URL: res.Gather.Action, Digits: acct})
		e.tryStep(t, tryRequest{Provider: "twilio", CallID: res.CallID, To: lookupNumber, Hangup: true})
	}
	waitCalls(t, e, len(accounts))

	var got insightsJSON
	r := e.do(t, "GET", "/admin/api/insights?since="+today()+"&until="+today(), "", withBearer(adminTestToken))
	if err := json.Unmarshal(r.Body.Bytes(), &got); r.Code != 200 || err != nil {
		t.Fatalf("insights: %d %v %s", r.Code, err, r.Body.String())
	}
	m := got.Menus["accounts"]
	if m.Chose != 18 || m.FetchFailed["account"] != 10 || m.Branches[`status == "active" && balance > 0`] != 4 ||
		m.Branches[`status == "suspended"`] != 2 || m.Else != 2 {
		t.Errorf("accounts = %+v; want 18 collected, 10 failed lookups, branches 4 and 2, else 2", m)
	}

	page := e.do(t, "GET", "/admin/flow?since="+today()+"&until="+today(), "", withBearer(adminTestToken)).Body.String()
	box := section(page, `data-node="m:accounts"`, "</g>\n    </g>")
	rows := regexp.MustCompile(`<g class="row row-(option|lookup|branch)">(.*?)</g>`).FindAllStringSubmatch(box, -1)
	count := regexp.MustCompile(`class="row-count"[^>]*>([^<]*)</text>`)
	var counts []string
	for _, row := range rows {
		c := count.FindStringSubmatch(row[2])
		if c == nil {
			t.Errorf("a %s row has no count: %s", row[1], row[2])
			continue
		}
		counts = append(counts, row[1]+" "+c[1])
	}
	if want := "option 18|lookup 10|branch 4|branch 2|branch 2"; strings.Join(counts, "|") != want {
		t.Errorf("the flow map's collect rows show %s, want %s", strings.Join(counts, "|"), want)
	}
}
