package xml

import (
	"reflect"

	"github.com/ivr-project/ivr/internal/ivr"
	"strings"
	"testing"
)

func TestReadTwiML(t *testing.T) {
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
	got, err := ParseTwiML([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := []Verb{
		Say{Text: "Hello there, caller", Voice: "alice", Loop: 2},
		Play{URL: "https://x/a.mp3", Loop: 0},
		DTMF{Digits: "1w2"},
		Pause{Seconds: 3},
		Gather{Element: "Gather", Action: "/twilio/voice/menu/main?attempt=1", Post: true, Method: "GET", Follow: true,
			DTMF: true, Speech: true, NumDigits: 2, NumDigitsSet: true, FinishOnKey: "", FinishOnKeySet: true, OnEmpty: true,
			Prompts: []Verb{Say{Text: "Press or say.", Loop: 1}, Pause{Seconds: 1}, Unknown{Name: "Dial", Text: "+1"}}},
		Dial{Numbers: []string{"+15550001", "client bob"}, Action: "done", Method: "POST", Follow: true},
		Dial{Numbers: []string{"+15550002"}, Method: "POST", Follow: true},
		Record{Post: true, Method: "POST", Follow: true, FinishOnKey: "1234567890*#"},
		Redirect{URL: "next", Method: "GET"},
		Hangup{Reason: "busy", Reject: true},
		Hangup{},
		Unknown{Name: "Connect"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseTwiML:\n got %#v\nwant %#v", got, want)
	}
}

func TestReadPlivo(t *testing.T) {
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
	got, err := ParsePlivo([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := []Verb{
		Say{Text: "Early.", Loop: 1},
		Say{Text: "Welcome", Voice: "WOMAN", Language: "en-US", Loop: 3},
		Pause{Seconds: 2},
		Gather{Element: "GetDigits", Action: "https://x/plivo/voice/menu/main", Post: true, Method: "GET", Follow: false,
			DTMF: true, NumDigits: 1, NumDigitsSet: true, FinishOnKey: "#", ValidDigits: "12",
			Prompts: []Verb{Say{Text: "Press 1 or 2.", Loop: 1}, Play{URL: "https://x/b.mp3", Loop: 1}}},
		Gather{Element: "GetInput", Action: "menu/billing", Post: true, Method: "POST", Follow: true,
			Speech: true, FinishOnKey: "*", FinishOnKeySet: true, Prompts: []Verb{Say{Text: "Say it.", Loop: 1}}},
		Dial{Numbers: []string{"15550001", "client sip:a@b"}, Action: "/d", Method: "POST", Follow: false},
		Record{Action: "rec", Post: true, Method: "POST", Follow: true, FinishOnKey: "1234567890*#"},
		Record{Method: "POST", Follow: true, FinishOnKey: "1234567890*#"},
		DTMF{Digits: "12"},
		Redirect{URL: "/plivo/voice/x", Method: "POST"},
		Hangup{Schedule: 30},
		Hangup{Reason: "rejected"},
		Unknown{Name: "Conference", Text: "room"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParsePlivo:\n got %#v\nwant %#v", got, want)
	}
}

// TestReadDefaults: what the provider assumes when an attribute is left out,
// and Plivo's finishOnKey="none".
func TestReadDefaults(t *testing.T) {
	for _, tc := range []struct {
		provider, doc string
		want          Gather
	}{
		{ProviderTwilio, `<Response><Gather numDigits="x"/></Response>`,
			Gather{Element: "Gather", Post: true, Method: "POST", Follow: true, DTMF: true, FinishOnKey: "#"}},
		{ProviderPlivo, `<Response><GetDigits finishOnKey="none" language="es-ES"/></Response>`,
			Gather{Element: "GetDigits", Method: "POST", Follow: true, DTMF: true, NumDigits: 99, FinishOnKeySet: true,
				ValidDigits: "1234567890*#", Language: "es-ES"}},
	} {
		verbs, err := Parse(tc.provider, []byte(tc.doc))
		if err != nil {
			t.Fatal(err)
		}
		if len(verbs) != 1 || !reflect.DeepEqual(verbs[0], tc.want) {
			t.Errorf("Parse(%s, %s):\n got %#v\nwant %#v", tc.provider, tc.doc, verbs, tc.want)
		}
	}
	if _, err := Parse("vonage", []byte("<Response/>")); err == nil {
		t.Error("Parse(vonage) succeeded")
	}
}

func TestReadRefuses(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{"", "no <Response>"},
		{"   ", "no <Response>"},
		{"<Respons/>", "root element is <Respons>"},
		{"<Response><Say>x</Response>", "malformed XML"},
		{"<Response/><Response/>", "more than one root"},
		{"<Response>&bogus;</Response>", "malformed XML"},
		{`<?xml version="1.0" encoding="ISO-8859-1"?><Response/>`, "malformed XML"},
	} {
		for name, parse := range map[string]func([]byte) ([]Verb, error){"twiml": ParseTwiML, "plivo": ParsePlivo} {
			if _, err := parse([]byte(tc.doc)); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s(%q) error = %v, want %q", name, tc.doc, err, tc.want)
			}
		}
	}
}

func TestReadDeepNesting(t *testing.T) {
	const n = 200_000
	doc := "<Response><Say>" + strings.Repeat("<a>x", n) + strings.Repeat("</a>", n) + "</Say></Response>"
	verbs, err := ParseTwiML([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(verbs) != 1 {
		t.Fatalf("verbs = %d", len(verbs))
	}
	if s := verbs[0].(Say).Text; len(s) > 2*maxDepth {
		t.Errorf("text beyond maxDepth kept: %d bytes", len(s))
	}
}

// checkVerbs asserts what every parse result must satisfy.
func checkVerbs(t *testing.T, verbs []Verb) {
	t.Helper()
	for _, v := range verbs {
		switch v := v.(type) {
		case Say, Play, Pause, DTMF, Unknown, Hangup:
		case Gather:
			if v.Method != "GET" && v.Method != "POST" || v.NumDigits < 0 {
				t.Fatalf("gather %#v", v)
			}
			for _, p := range v.Prompts {
				switch p.(type) {
				case Say, Play, Pause, DTMF, Unknown:
				default:
					t.Fatalf("gather prompt %#v", p)
				}
			}
		case Dial:
			if v.Method != "GET" && v.Method != "POST" {
				t.Fatalf("dial %#v", v)
			}
		case Record:
			if v.Method != "GET" && v.Method != "POST" {
				t.Fatalf("record %#v", v)
			}
		case Redirect:
			if v.Method != "GET" && v.Method != "POST" {
				t.Fatalf("redirect %#v", v)
			}
		default:
			t.Fatalf("unexpected verb %#v", v)
		}
	}
}

func fuzzReader(f *testing.F, parse func([]byte) ([]Verb, error), seeds []string) {
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

// FuzzReadTwiML: the simulator and the admin Try page read TwiML from the
// network. Seed corpus: testdata/fuzz/FuzzReadTwiML.
func FuzzReadTwiML(f *testing.F) {
	fuzzReader(f, ParseTwiML, []string{
		`<Response><Gather numDigits="1" action="menu/main"><Say>Hi</Say></Gather><Redirect>menu/main?attempt=1</Redirect></Response>`,
		`<Response><Dial action="x"><Number>+1</Number></Dial><Record/><Hangup/></Response>`,
	})
}

// FuzzReadPlivo: the simulator and the admin Try page read Plivo XML from
// the network. Seed corpus: testdata/fuzz/FuzzReadPlivo.
func FuzzReadPlivo(f *testing.F) {
	fuzzReader(f, ParsePlivo, []string{
		`<Response><GetDigits action="menu/main" numDigits="1"><Speak>Hi</Speak></GetDigits><Redirect>menu/main?attempt=1</Redirect></Response>`,
		`<Response><GetInput inputType="dtmf speech" action="a"><Speak>x</Speak></GetInput><Dial><Number>1</Number></Dial><Hangup/></Response>`,
	})
}

func BenchmarkReadTwiML(b *testing.B) {
	doc := []byte(`<?xml version="1.0" encoding="UTF-8"?>
<Response><Gather action="https://ivr.example.com/twilio/voice/menu/main?attempt=1" numDigits="1" timeout="5"><Say voice="Polly.Joanna">Press 1 for billing, 2 for sales, 3 to leave a message.</Say><Pause length="1"/></Gather><Redirect>https://ivr.example.com/twilio/voice/menu/main?attempt=1</Redirect></Response>`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseTwiML(doc); err != nil {
			b.Fatal(err)
		}
	}
}

// TestReadTranscription: the reader finds the transcript URL the renderer
// asked for, in each dialect, and none when none was asked.
func TestReadTranscription(t *testing.T) {
	rec := ivr.Record{Action: ivr.Target{Path: "action/voicemail-done"}, Transcription: &ivr.Target{Path: "action/transcription", Query: "menu=vm"}}
	for _, c := range []struct {
		provider string
		render   func(string, []ivr.Step) ([]byte, error)
		read     func([]byte) ([]Verb, error)
	}{
		{ProviderTwilio, Twilio, ParseTwiML},
		{ProviderPlivo, Plivo, ParsePlivo},
	} {
		base := "https://ivr.example.com/" + c.provider + "/voice/"
		for _, step := range []ivr.Record{rec, {Action: rec.Action}} {
			doc, err := c.render(base, []ivr.Step{step})
			if err != nil {
				t.Fatal(err)
			}
			verbs, err := c.read(doc)
			if err != nil || len(verbs) != 1 {
				t.Fatalf("%s: read %s: %v %v", c.provider, doc, verbs, err)
			}
			want := ""
			if step.Transcription != nil {
				want = base + "action/transcription?menu=vm"
			}
			if got := verbs[0].(Record).Transcription; got != want {
				t.Errorf("%s: Transcription = %q, want %q", c.provider, got, want)
			}
		}
	}
}
