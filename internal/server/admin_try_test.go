package server

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ivr-project/ivr/internal/store"

	"github.com/ivr-project/ivr/internal/testutil"
)

func section(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	s = s[i:]
	if j := strings.Index(s, to); j >= 0 {
		return s[:j]
	}
	return s
}

// tryStep posts one try step with the bearer token.
func (e *adminEnv) tryStep(t *testing.T, req tryRequest) tryResponse {
	t.Helper()
	b, _ := json.Marshal(req)
	w := e.do(t, "POST", "/admin/api/try", string(b), withBearer(adminTestToken))
	if w.Code != 200 {
		t.Fatalf("try %+v = %d %s", req, w.Code, w.Body.String())
	}
	var res tryResponse
	if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	if res.Error != "" || res.Fallback {
		t.Fatalf("try %+v: error %q fallback %v\n%s", req, res.Error, res.Fallback, res.XML)
	}
	return res
}

func TestAdminTryCallToTransfer(t *testing.T) {
	for _, provider := range []string{"twilio", "plivo"} {
		t.Run(provider, func(t *testing.T) {
			e := newAdminEnv(t, "", nil)
			const from = "+15551112222"
			res := e.tryStep(t, tryRequest{Provider: provider, From: from})
			if res.CallID == "" || res.Gather == nil || !res.Gather.Keys || !res.Gather.Speech {
				t.Fatalf("answer: call %q gather %+v\n%s", res.CallID, res.Gather, res.XML)
			}
			if !strings.Contains(res.Gather.Action, "/"+provider+"/voice/menu/main") {
				t.Errorf("gather action %q is not menu main", res.Gather.Action)
			}
			if res.Next == nil || res.Next.Why != "timeout" {
				t.Errorf("no timeout redirect after the gather: %+v", res.Next)
			}
			if !promptsContain(res.Prompts, "For billing, press 1") {
				t.Errorf("prompts = %+v", res.Prompts)
			}
			callID := res.CallID

			// Silence: the timeout comes back to the menu.
			silent := e.tryStep(t, tryRequest{Provider: provider, CallID: callID, From: from, URL: res.Next.URL})
			if silent.Gather == nil || !promptsContain(silent.Prompts, "didn't hear anything") {
				t.Errorf("timeout step: %+v", silent.Prompts)
			}
			// 2 = support, then 1 = transfer.
			sup := e.tryStep(t, tryRequest{Provider: provider, CallID: callID, From: from, URL: res.Gather.Action, Digits: "2"})
			if sup.Gather == nil || !promptsContain(sup.Prompts, "Support.") {
				t.Fatalf("after 2: %+v\n%s", sup.Prompts, sup.XML)
			}
			tr := e.tryStep(t, tryRequest{Provider: provider, CallID: callID, From: from, URL: sup.Gather.Action, Digits: "1"})
			if tr.End == nil || tr.End.Kind != "transfer" || len(tr.End.Numbers) != 2 || strings.TrimPrefix(tr.End.Numbers[0], "+") != "15005550006" {
				t.Fatalf("after 2,1: end %+v\n%s", tr.End, tr.XML)
			}
			if tr.Request.Signed == "" || tr.Request.Params["From"] != "+15551112222" {
				t.Errorf("request view %+v", tr.Request)
			}
			// Nobody answers: the no-answer actions run (voicemail).
			na := e.tryStep(t, tryRequest{Provider: provider, CallID: callID, From: from, URL: tr.End.After, DialStatus: "no-answer"})
			if na.End == nil || na.End.Kind != "voicemail" {
				t.Errorf("no answer: end %+v\n%s", na.End, na.XML)
			}
			hang := e.tryStep(t, tryRequest{Provider: provider, CallID: callID, From: from, Hangup: true, Duration: 42})
			if hang.Status != 200 {
				t.Errorf("hangup status %d", hang.Status)
			}

			// The call is recorded through the real handlers and the writer.
			var c store.Call
			var err error
			if !testutil.Eventually(testutil.WaitTimeout, func() bool {
				c, err = e.db.GetCall(context.Background(), provider, callID)
				return err == nil && len(c.Events) >= 4 && c.Status == "completed"
			}) {
				t.Fatalf("call not recorded: %+v (err %v)", c, err)
			}
			if c.From != "+15551112222" || c.DurationSeconds != 42 {
				t.Errorf("recorded call %+v", c)
			}
		})
	}
}

func promptsContain(ps []tryPrompt, s string) bool {
	for _, p := range ps {
		if strings.Contains(p.Text, s) {
			return true
		}
	}
	return false
}

func TestAdminTryRefusals(t *testing.T) {
	e := newAdminEnv(t, "", nil)
	for _, tc := range []struct {
		name, body string
		want       int
	}{
		{"bad provider", `{"provider":"vonage"}`, 400},
		{"unknown field", `{"provider":"twilio","token":"x"}`, 400},
		{"not json", `provider=twilio`, 400},
		{"admin url", `{"provider":"twilio","url":"/admin/api/calls"}`, 400},
		{"other provider's url", `{"provider":"twilio","url":"https://x/plivo/voice/menu/main"}`, 400},
		{"dot dot", `{"provider":"twilio","url":"/twilio/voice/../../admin/api/calls"}`, 400},
		{"voice prefix lookalike", `{"provider":"twilio","url":"/twilio/voicemail"}`, 400},
	} {
		w := e.do(t, "POST", "/admin/api/try", tc.body, withBearer(adminTestToken), withHeader("Content-Type", "application/json"))
		if w.Code != tc.want {
			t.Errorf("%s: %d, want %d (%s)", tc.name, w.Code, tc.want, w.Body.String())
		}
	}
}
