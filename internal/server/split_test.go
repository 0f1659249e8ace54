package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ivr-project/ivr/internal/ivr"
	"github.com/ivr-project/ivr/internal/store"
	"github.com/ivr-project/ivr/internal/testutil"
)

const splitTestFlow = `answer:
  - split:
      - {label: short, weight: 50, do: [{say: "Short hello."}]}
      - {label: long, weight: 50, do: [{say: "A much longer hello."}]}
menus:
  main:
    greeting: "Press 1 to finish, 0 for a person."
    options:
      "1": hangup
      "0": {transfer: "+15550001111"}
`

// TestSplitInsights: 1,000 calls through a 50/50 split land 40-60 % in
// each variant, each call in one variant only, and the insights API
// reports each variant's calls, contained, transferred and abandoned
// exactly as the calls went.
func TestSplitInsights(t *testing.T) {
	path := filepath.Join(t.TempDir(), "split.yaml")
	if err := os.WriteFile(path, []byte(splitTestFlow), 0o644); err != nil {
		t.Fatal(err)
	}
	e := newAdminEnv(t, path, map[string]string{"IVR_PUBLIC_URL": testPublic})
	want := map[string]*store.VariantCounts{"short": {}, "long": {}}
	const n = 1000
	post := func(path string, form url.Values) string {
		t.Helper()
		w := e.do2(signedRequest("twilio", adminTryToken, testPublic, http.MethodPost, path, form))
		if w.Code != 200 {
			t.Fatalf("%s: %d", path, w.Code)
		}
		return w.Body.String()
	}
	for i := range n {
		form := callForm("twilio")
		form.Set("CallSid", fmt.Sprintf("CA%032x", i*7919+1))
		body := post("/twilio/voice", form)
		short, long := strings.Contains(body, "Short hello."), strings.Contains(body, "A much longer hello.")
		if short == long {
			t.Fatalf("call %d heard short %v and long %v: want exactly one variant\n%s", i, short, long, body)
		}
		label := map[bool]string{true: "short", false: "long"}[short]
		v := want[label]
		v.Calls++
		form.Set("CallStatus", "in-progress")
		switch i % 3 {
		case 0: // presses 1: the flow hangs up
			form.Set("Digits", "1")
			post("/twilio/voice/menu/main?attempt=1", form)
			v.Contained++
		case 1: // presses 0: transferred, the agent answers
			form.Set("Digits", "0")
			post("/twilio/voice/menu/main?attempt=1", form)
			form.Del("Digits")
			form.Set("DialCallStatus", "completed")
			post("/twilio/voice/"+ivr.PathDialDone+"?menu=main&ref=main.0.0", form)
			form.Del("DialCallStatus")
			v.Transferred++
		default: // hangs up in the menu
			v.Abandoned++
		}
		form.Del("Digits")
		form.Set("CallStatus", "completed")
		form.Set("CallDuration", "12")
		post("/twilio/status", form)
	}
	t.Logf("%d calls: short %d, long %d", n, want["short"].Calls, want["long"].Calls)
	for l, v := range want {
		if v.Calls < 400 || v.Calls > 600 {
			t.Errorf("%s took %d of %d calls, want 400-600", l, v.Calls, n)
		}
	}
	waitCalls(t, e, n)
	var got struct {
		Calls    int64                           `json:"calls"`
		Variants map[string]*store.VariantCounts `json:"variants"`
	}
	var body string
	// The last calls' summaries are written in the background.
	ok := testutil.Eventually(testutil.WaitTimeout, func() bool {
		r := e.do(t, "GET", "/admin/api/insights?since="+today()+"&until="+today(), "", withBearer(adminTestToken))
		body = r.Body.String()
		if err := json.Unmarshal(r.Body.Bytes(), &got); err != nil {
			t.Fatalf("insights: %d %s", r.Code, body)
		}
		return got.Variants["short"] != nil && got.Variants["long"] != nil && got.Variants["short"].Calls+got.Variants["long"].Calls == n
	})
	if !ok || len(got.Variants) != 2 {
		t.Fatalf("insights variants = %s", body)
	}
	for l, w := range want {
		if g := *got.Variants[l]; g != *w {
			t.Errorf("variant %s: insights %+v, want %+v", l, g, *w)
		}
	}
	// The dashboard shows them side by side.
	session, _ := e.login(t)
	page := e.do(t, "GET", "/admin/insights?since="+today()+"&until="+today(), "", withCookie(session)).Body.String()
	wantRow := fmt.Sprintf(`<tr><th>Calls</th><td class="num">%d</td><td class="num">%d</td></tr>`, want["long"].Calls, want["short"].Calls)
	if !strings.Contains(page, `id="variants"`) || !strings.Contains(page, wantRow) {
		t.Errorf("the insights page does not show the variants side by side (want %s)", wantRow)
	}
}
