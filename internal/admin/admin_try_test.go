package admin

import (
	"fmt"
	"testing"
)

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
		gather              *TryGather
		next                *TryNext
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
</Response>`, 4, &TryGather{Action: "https://h/twilio/voice/menu/main?attempt=2", Keys: true, Speech: true, NumDigits: 4, FinishKey: "#"},
			&TryNext{URL: "https://h/twilio/voice/menu/main?attempt=2", Why: "timeout"}, ""},
		{"plivo getinput", "plivo", `<Response><Speak>Hi</Speak><GetInput action="https://h/plivo/voice/menu/m" inputType="speech" finishOnKey="none" redirect="true"><Speak>Yes or no?</Speak><Wait length="2"/></GetInput><Redirect>https://h/plivo/voice/menu/m?attempt=1</Redirect></Response>`,
			3, &TryGather{Action: "https://h/plivo/voice/menu/m", Speech: true}, &TryNext{URL: "https://h/plivo/voice/menu/m?attempt=1", Why: "timeout"}, ""},
		{"plivo getdigits", "plivo", `<Response><GetDigits action="/plivo/voice/menu/m" numDigits="1"><Speak>Press</Speak></GetDigits></Response>`,
			1, &TryGather{Action: "/plivo/voice/menu/m", Keys: true, NumDigits: 1}, nil, ""},
		{"redirect", "twilio", `<Response><Play>https://a/b.mp3</Play><Redirect method="POST">https://h/twilio/voice/menu/main</Redirect><Say>never</Say></Response>`,
			1, nil, &TryNext{URL: "https://h/twilio/voice/menu/main", Why: "redirect"}, ""},
		{"dial", "twilio", `<Response><Say>Connecting</Say><Dial action="https://h/twilio/voice/action/dial-done"><Number>+15551230001</Number><Number>+15551230002</Number></Dial></Response>`, 1, nil, nil, "transfer"},
		{"dial text", "twilio", `<Response><Dial>+15551230001</Dial><Hangup/></Response>`, 0, nil, nil, "transfer"},
		{"record", "plivo", `<Response><Speak>Leave a message</Speak><Record action="https://h/plivo/voice/action/voicemail-done" maxLength="60"/></Response>`, 1, nil, nil, "voicemail"},
		{"hangup", "twilio", `<Response><Say>Bye</Say><Hangup/></Response>`, 1, nil, nil, "hangup"},
		{"empty", "twilio", `<Response></Response>`, 0, nil, nil, "end"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			verbs, err := readDocument(tc.provider, []byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			prompts, gather, next, end := readTurn(verbs)
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
	verbs, _ := readDocument("twilio", []byte(`<Response><Dial><Number>+1</Number><Number>+2</Number></Dial></Response>`))
	steps := stepsOf("twilio", verbs)
	if len(steps) != 1 || fmt.Sprint(steps[0].Numbers) != "[+1 +2]" {
		t.Errorf("dial numbers: %+v", steps)
	}
	for _, bad := range []string{"", "not xml", "<Html></Html>"} {
		for _, provider := range []string{"twilio", "plivo"} {
			if _, err := readDocument(provider, []byte(bad)); err == nil {
				t.Errorf("readDocument(%s, %q) succeeded", provider, bad)
			}
		}
	}
}
