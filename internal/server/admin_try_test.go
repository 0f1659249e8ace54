package server

import (
	"context"
	"encoding/json"
	"fmt"
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

func TestAdminTryTarget(t *testing.T) {
	for _, tc := range []struct{ provider, in, want string }{
		{"twilio", "", "/twilio/voice"},
		{"twilio", "https://abc.ngrok.app/twilio/voice/menu/main?attempt=2&lang=es", "/twilio/voice/menu/main?attempt=2&lang=es"},
		{"plivo", "https://example.com/ivr/plivo/voice/action/dial-done?menu=support", "/plivo/voice/action/dial-done?menu=support"},
		{"plivo", "/plivo/voice/menu/main", "/plivo/voice/menu/main"},
		{"twilio", "/twilio/status", ""},
		{"twilio", "/twilio/voice//menu", ""},
		{"twilio", "/twilio/voice/menu/../../../admin", ""},
	} {
		got, err := tryTarget(tc.provider, tc.in)
		if (err != nil) != (tc.want == "") || got != tc.want {
			t.Errorf("tryTarget(%s, %q) = %q, %v; want %q", tc.provider, tc.in, got, err, tc.want)
		}
	}
}

func TestAdminTrySteps(t *testing.T) {
	for _, tc := range []struct {
		name, provider, doc string
		prompts             int
		gather              *tryGather
		next                *tryNext
		end                 string
	}{
		{"twilio menu", "twilio", `<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Say voice="woman" language="en-GB">Hello &amp; welcome!</Say>
  <Play loop="2">https://cdn.example.com/jingle.mp3</Play>
  <Pause length="1"/>
  <Gather input="dtmf speech" action="https://h/twilio/voice/menu/main?attempt=2" method="POST" numDigits="4" finishOnKey="#">
    <Say>Say billing or press 1.</Say>
  </Gather>
  <Redirect method="POST">https://h/twilio/voice/menu/main?attempt=2</Redirect>
</Response>`, 4, &tryGather{Action: "https://h/twilio/voice/menu/main?attempt=2", Keys: true, Speech: true, NumDigits: 4, FinishKey: "#"},
			&tryNext{URL: "https://h/twilio/voice/menu/main?attempt=2", Why: "timeout"}, ""},
		{"plivo getinput", "plivo", `<Response><Speak>Hi</Speak><GetInput action="https://h/plivo/voice/menu/m" inputType="speech" finishOnKey="none" redirect="true"><Speak>Yes or no?</Speak><Wait length="2"/></GetInput><Redirect>https://h/plivo/voice/menu/m?attempt=1</Redirect></Response>`,
			3, &tryGather{Action: "https://h/plivo/voice/menu/m", Speech: true}, &tryNext{URL: "https://h/plivo/voice/menu/m?attempt=1", Why: "timeout"}, ""},
		{"plivo getdigits", "plivo", `<Response><GetDigits action="/plivo/voice/menu/m" numDigits="1"><Speak>Press</Speak></GetDigits></Response>`,
			1, &tryGather{Action: "/plivo/voice/menu/m", Keys: true, NumDigits: 1}, nil, ""},
		{"redirect", "twilio", `<Response><Play>https://a/b.mp3</Play><Redirect method="POST">https://h/twilio/voice/menu/main</Redirect><Say>never</Say></Response>`,
			1, nil, &tryNext{URL: "https://h/twilio/voice/menu/main", Why: "redirect"}, ""},
		{"dial", "twilio", `<Response><Say>Connecting</Say><Dial action="https://h/twilio/voice/action/dial-done"><Number>+15551230001</Number><Number>+15551230002</Number></Dial></Response>`, 1, nil, nil, "transfer"},
		{"dial text", "twilio", `<Response><Dial>+15551230001</Dial><Hangup/></Response>`, 0, nil, nil, "transfer"},
		{"record", "plivo", `<Response><Speak>Leave a message</Speak><Record action="https://h/plivo/voice/action/voicemail-done" maxLength="60"/></Response>`, 1, nil, nil, "voicemail"},
		{"hangup", "twilio", `<Response><Say>Bye</Say><Hangup/></Response>`, 1, nil, nil, "hangup"},
		{"empty", "twilio", `<Response></Response>`, 0, nil, nil, "end"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			steps, err := trySteps(tc.provider, []byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			prompts, gather, next, end := readSteps(steps)
			if len(prompts) != tc.prompts {
				t.Errorf("prompts = %+v, want %d", prompts, tc.prompts)
			}
			if fmt.Sprint(gather) != fmt.Sprint(tc.gather) {
				t.Errorf("gather = %+v, want %+v", gather, tc.gather)
			}
			if fmt.Sprint(next) != fmt.Sprint(tc.next) {
				t.Errorf("next = %+v, want %+v", next, tc.next)
			}
			if (end == nil && tc.end != "") || (end != nil && end.Kind != tc.end) {
				t.Errorf("end = %+v, want %q", end, tc.end)
			}
		})
	}
	steps, _ := trySteps("twilio", []byte(`<Response><Dial><Number>+1</Number><Number>+2</Number></Dial></Response>`))
	if len(steps) != 1 || fmt.Sprint(steps[0].Numbers) != "[+1 +2]" {
		t.Errorf("dial numbers: %+v", steps)
	}
	for _, bad := range []string{"", "not xml", "<Html></Html>"} {
		for _, provider := range []string{"twilio", "plivo"} {
			if _, err := trySteps(provider, []byte(bad)); err == nil {
				t.Errorf("trySteps(%s, %q) succeeded", provider, bad)
			}
		}
	}
}
