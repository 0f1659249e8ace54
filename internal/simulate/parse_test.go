package simulate

import (
	"io"
	"reflect"
	"strings"
	"testing"
)

func TestParseTwiML(t *testing.T) {
	doc := `<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Say voice="alice" loop="2">Hello <break time="1s"/> there,
     caller</Say>
  <Play loop="0">https://x/a.mp3</Play>
  <Play digits="1w2"/>
  <Pause length="3"/>
  <Gather action="/twilio/voice/menu/main?attempt=1" method="get" input="dtmf speech" numDigits="2" finishOnKey="" actionOnEmptyResult="true">
    <Say>Press or say.</Say><Pause/><Dial>+1</Dial>
  </Gather>
  <Dial action="done" timeout="20"><Number>+15550001</Number><Client>bob</Client></Dial>
  <Dial>+15550002</Dial>
  <Record/>
  <Redirect method="GET"> next </Redirect>
  <Reject reason="busy"/>
  <Hangup/>
  <Connect><Stream url="wss://x"/></Connect>
</Response>`
	got, err := parseTwiML([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := []verb{
		sayVerb{text: "Hello there, caller", loop: 2},
		playVerb{url: "https://x/a.mp3", loop: 0},
		dtmfVerb{digits: "1w2"},
		pauseVerb{seconds: 3},
		gatherVerb{element: "Gather", action: "/twilio/voice/menu/main?attempt=1", post: true, method: "GET", follow: true,
			dtmf: true, speech: true, numDigits: 2, finishOnKey: "", onEmpty: true,
			prompts: []verb{sayVerb{text: "Press or say.", loop: 1}, pauseVerb{seconds: 1}, unknownVerb{name: "Dial"}}},
		dialVerb{numbers: []string{"+15550001", "client bob"}, action: "done", method: "POST", follow: true},
		dialVerb{numbers: []string{"+15550002"}, method: "POST", follow: true},
		recordVerb{post: true, method: "POST", follow: true, finishOnKey: "1234567890*#"},
		redirectVerb{url: "next", method: "GET"},
		hangupVerb{reason: "busy"},
		hangupVerb{},
		unknownVerb{name: "Connect"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseTwiML:\n got %#v\nwant %#v", got, want)
	}
}

func TestParsePlivoXML(t *testing.T) {
	doc := `<Response>
  <PreAnswer><Speak>Early.</Speak></PreAnswer>
  <Speak voice="WOMAN" language="en-US" loop="3">Welcome</Speak>
  <Wait length="2"/>
  <GetDigits action="https://x/plivo/voice/menu/main" method="GET" numDigits="1" redirect="false" validDigits="12">
    <Speak>Press 1 or 2.</Speak><Play>https://x/b.mp3</Play>
  </GetDigits>
  <GetInput action="menu/billing" inputType="speech" finishOnKey="*"><Speak>Say it.</Speak></GetInput>
  <Dial action="/d" redirect="false"><Number>15550001</Number><User>sip:a@b</User></Dial>
  <Record action="rec" maxLength="30"/>
  <Record/>
  <DTMF>12</DTMF>
  <Redirect>/plivo/voice/x</Redirect>
  <Hangup schedule="30"/>
  <Hangup reason="rejected"/>
  <Conference>room</Conference>
</Response>`
	got, err := parsePlivoXML([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := []verb{
		sayVerb{text: "Early.", loop: 1},
		sayVerb{text: "Welcome", loop: 3},
		pauseVerb{seconds: 2},
		gatherVerb{element: "GetDigits", action: "https://x/plivo/voice/menu/main", post: true, method: "GET", follow: false,
			dtmf: true, numDigits: 1, finishOnKey: "#", validDigits: "12",
			prompts: []verb{sayVerb{text: "Press 1 or 2.", loop: 1}, playVerb{url: "https://x/b.mp3", loop: 1}}},
		gatherVerb{element: "GetInput", action: "menu/billing", post: true, method: "POST", follow: true,
			speech: true, finishOnKey: "*", prompts: []verb{sayVerb{text: "Say it.", loop: 1}}},
		dialVerb{numbers: []string{"15550001", "client sip:a@b"}, action: "/d", method: "POST", follow: false},
		recordVerb{action: "rec", post: true, method: "POST", follow: true, finishOnKey: "1234567890*#"},
		recordVerb{method: "POST", follow: true, finishOnKey: "1234567890*#"},
		dtmfVerb{digits: "12"},
		redirectVerb{url: "/plivo/voice/x", method: "POST"},
		hangupVerb{schedule: 30},
		hangupVerb{reason: "rejected"},
		unknownVerb{name: "Conference"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parsePlivoXML:\n got %#v\nwant %#v", got, want)
	}
}

func TestParseRefuses(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{"", "no <Response>"},
		{"   ", "no <Response>"},
		{"<Respons/>", "root element is <Respons>"},
		{"<Response><Say>x</Response>", "malformed XML"},
		{"<Response/><Response/>", "more than one root"},
		{"<Response>&bogus;</Response>", "malformed XML"},
		{`<?xml version="1.0" encoding="ISO-8859-1"?><Response/>`, "malformed XML"},
	} {
		for name, parse := range map[string]func([]byte) ([]verb, error){"twiml": parseTwiML, "plivo": parsePlivoXML} {
			if _, err := parse([]byte(tc.doc)); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s(%q) error = %v, want %q", name, tc.doc, err, tc.want)
			}
		}
	}
}

func TestParseDeepNesting(t *testing.T) {
	const n = 200_000
	doc := "<Response><Say>" + strings.Repeat("<a>x", n) + strings.Repeat("</a>", n) + "</Say></Response>"
	verbs, err := parseTwiML([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(verbs) != 1 {
		t.Fatalf("verbs = %d", len(verbs))
	}
	if s := verbs[0].(sayVerb).text; len(s) > 2*maxDepth {
		t.Errorf("text beyond maxDepth kept: %d bytes", len(s))
	}
}

// checkVerbs asserts what every parse result must satisfy, and prints it.
func checkVerbs(t *testing.T, verbs []verb) {
	t.Helper()
	r := &runner{out: io.Discard}
	for _, v := range verbs {
		switch v := v.(type) {
		case sayVerb, playVerb, pauseVerb, dtmfVerb, unknownVerb, hangupVerb:
		case gatherVerb:
			if v.method != "GET" && v.method != "POST" || v.numDigits < 0 {
				t.Fatalf("gather %#v", v)
			}
			for _, p := range v.prompts {
				switch p.(type) {
				case sayVerb, playVerb, pauseVerb, dtmfVerb, unknownVerb:
				default:
					t.Fatalf("gather prompt %#v", p)
				}
				r.hear(p)
			}
			press(v, "123#*")
		case dialVerb:
			if v.method != "GET" && v.method != "POST" {
				t.Fatalf("dial %#v", v)
			}
		case recordVerb:
			if v.method != "GET" && v.method != "POST" {
				t.Fatalf("record %#v", v)
			}
		case redirectVerb:
			if v.method != "GET" && v.method != "POST" {
				t.Fatalf("redirect %#v", v)
			}
		default:
			t.Fatalf("unexpected verb %#v", v)
		}
		r.hear(v)
	}
}

func fuzzParser(f *testing.F, parse func([]byte) ([]verb, error), seeds []string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		verbs, err := parse(data)
		if err != nil {
			if verbs != nil {
				t.Fatalf("verbs with an error: %v", err)
			}
			return
		}
		checkVerbs(t, verbs)
		again, err := parse(data)
		if err != nil || !reflect.DeepEqual(verbs, again) {
			t.Fatalf("second parse differs: %v", err)
		}
	})
}

// FuzzParseTwiML: the simulator reads TwiML from the network. Seed corpus:
// testdata/fuzz/FuzzParseTwiML.
func FuzzParseTwiML(f *testing.F) {
	fuzzParser(f, parseTwiML, []string{
		`<Response><Gather numDigits="1" action="menu/main"><Say>Hi</Say></Gather><Redirect>menu/main?attempt=1</Redirect></Response>`,
		`<Response><Dial action="x"><Number>+1</Number></Dial><Record/><Hangup/></Response>`,
	})
}

// FuzzParsePlivoXML: the simulator reads Plivo XML from the network. Seed
// corpus: testdata/fuzz/FuzzParsePlivoXML.
func FuzzParsePlivoXML(f *testing.F) {
	fuzzParser(f, parsePlivoXML, []string{
		`<Response><GetDigits action="menu/main" numDigits="1"><Speak>Hi</Speak></GetDigits><Redirect>menu/main?attempt=1</Redirect></Response>`,
		`<Response><GetInput inputType="dtmf speech" action="a"><Speak>x</Speak></GetInput><Dial><Number>1</Number></Dial><Hangup/></Response>`,
	})
}

func BenchmarkParseTwiML(b *testing.B) {
	doc := []byte(`<?xml version="1.0" encoding="UTF-8"?>
<Response><Gather action="https://ivr.example.com/twilio/voice/menu/main?attempt=1" numDigits="1" timeout="5"><Say voice="Polly.Joanna">Press 1 for billing, 2 for sales, 3 to leave a message.</Say><Pause length="1"/></Gather><Redirect>https://ivr.example.com/twilio/voice/menu/main?attempt=1</Redirect></Response>`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseTwiML(doc); err != nil {
			b.Fatal(err)
		}
	}
}
