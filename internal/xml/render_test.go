package xml

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ivr-project/ivr/internal/ivr"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

const testBase = "https://abc.ngrok.app/twilio/voice/"
const testBasePlivo = "https://abc.ngrok.app/plivo/voice/"

// menuSteps is a typical menu as the engine renders it: a Gather with two
// prompts, then a Redirect back to the same menu (a silent caller's timeout).
func menuSteps() []ivr.Step {
	return []ivr.Step{
		ivr.Gather{
			Action:            ivr.Target{Path: "menu/main", Query: "attempt=1"},
			Prompts:           []ivr.Step{ivr.Say{Text: "Welcome to Example Corp.", Voice: "Polly.Joanna", Language: "en-US"}, ivr.Say{Text: "For billing press 1, for support press 2.", Voice: "Polly.Joanna", Language: "en-US"}},
			NumDigits:         1,
			TimeoutSeconds:    5,
			InterDigitSeconds: 3,
			FinishOnKey:       "#",
			DTMF:              true,
		},
		ivr.Redirect{Target: ivr.Target{Path: "menu/main", Query: "attempt=1"}},
	}
}

// fullMenuSteps uses every voice step kind in one response.
func fullMenuSteps() []ivr.Step {
	action := ivr.Target{Path: "action/dial-done", Query: "menu=support"}
	return []ivr.Step{
		ivr.Say{Text: "Hello & welcome!", Voice: "woman", Language: "en-GB"},
		ivr.Play{URL: "https://cdn.example.com/jingle.mp3?v=1&x=2", Loop: 2},
		ivr.Pause{Seconds: 1},
		ivr.Gather{
			Action: ivr.Target{Path: "menu/main", Query: "attempt=2&lang=es"},
			Prompts: []ivr.Step{
				ivr.Say{Text: "Say billing or press 1.", Loop: 1},
				ivr.Pause{Seconds: 2},
				ivr.Play{URL: "https://cdn.example.com/options.wav"},
			},
			NumDigits:         4,
			TimeoutSeconds:    8,
			InterDigitSeconds: 4,
			FinishOnKey:       "",
			DTMF:              true,
			Speech:            true,
			SpeechHints:       []string{"billing", " support ", "", "opening hours"},
			Language:          "es-ES",
		},
		ivr.Redirect{Target: ivr.Target{Path: "menu/main", Query: "attempt=2&lang=es"}},
		ivr.Dial{Numbers: []string{"+15551230001", "+15551230002"}, CallerID: "+15550009999", TimeoutSeconds: 20, Action: &action},
		ivr.Record{Action: ivr.Target{Path: "action/voicemail-done"}, MaxLengthSeconds: 120, FinishOnKey: "#*", TimeoutSeconds: 5, PlayBeep: true},
		ivr.Hangup{},
	}
}

type goldenCase struct {
	name  string
	steps []ivr.Step
}

func goldenCases() []goldenCase {
	dialDone := ivr.Target{Path: "action/dial-done"}
	return []goldenCase{
		{"empty", nil},
		{"say", []ivr.Step{ivr.Say{Text: "Hello there."}}},
		{"say_attrs", []ivr.Step{ivr.Say{Text: "Hola", Voice: "MAN", Language: "es-ES", Loop: 3}}},
		{"play", []ivr.Step{ivr.Play{URL: "https://cdn.example.com/a.mp3", Loop: 2}}},
		{"pause", []ivr.Step{ivr.Pause{Seconds: 3}, ivr.Pause{}}},
		{"gather_dtmf", []ivr.Step{ivr.Gather{Action: ivr.Target{Path: "menu/pin"}, NumDigits: 4, TimeoutSeconds: 7, InterDigitSeconds: 2, FinishOnKey: "#", DTMF: true}}},
		{"gather_dtmf_nokey", []ivr.Step{ivr.Gather{Action: ivr.Target{Path: "menu/pin"}, DTMF: true, Prompts: []ivr.Step{ivr.Say{Text: "Enter your PIN."}}}}},
		{"gather_speech", []ivr.Step{ivr.Gather{Action: ivr.Target{Path: "menu/ask", Query: "attempt=1"}, TimeoutSeconds: 3, Speech: true, SpeechHints: []string{"yes", "no"}, Language: "en-US", Prompts: []ivr.Step{ivr.Say{Text: "Yes or no?"}}}}},
		{"gather_both", []ivr.Step{ivr.Gather{Action: ivr.Target{Path: "menu/ask"}, TimeoutSeconds: 90, InterDigitSeconds: 1, NumDigits: 1, FinishOnKey: "*", DTMF: true, Speech: true}}},
		{"dial", []ivr.Step{ivr.Dial{Numbers: []string{"+15551230001"}}}},
		{"dial_attrs", []ivr.Step{ivr.Dial{Numbers: []string{"+15551230001", "+15551230002"}, CallerID: "+15550009999", TimeoutSeconds: 25, Action: &dialDone}}},
		{"dial_whisper", whisperDialSteps()},
		{"whisper", []ivr.Step{ivr.Say{Text: "Billing call, account 1 2 3 4 5 6"}}},
		{"whisper_key", []ivr.Step{ivr.Gather{Action: ivr.Target{Path: "whisper", Query: "call=CA1&menu=agents&ref=agents.0.0&step=answer"}, NumDigits: 1, TimeoutSeconds: 5, DTMF: true,
			Prompts: []ivr.Step{ivr.Say{Text: "Billing call, account 1 2 3 4 5 6"}, ivr.Say{Text: "Press 1 to take this call."}}}, ivr.Hangup{}}},
		{"record", []ivr.Step{ivr.Record{Action: ivr.Target{Path: "action/voicemail-done", Query: "menu=vm"}, MaxLengthSeconds: 60, FinishOnKey: "#", TimeoutSeconds: 4, PlayBeep: true}}},
		{"record_defaults", []ivr.Step{ivr.Record{Action: ivr.Target{Path: "action/voicemail-done"}}}},
		{"record_transcribe", []ivr.Step{ivr.Record{Action: ivr.Target{Path: "action/voicemail-done", Query: "menu=vm"}, PlayBeep: true, Transcription: &ivr.Target{Path: "action/transcription", Query: "menu=vm"}}}},
		{"redirect", []ivr.Step{ivr.Redirect{Target: ivr.Target{Path: "menu/main", Query: "attempt=2&lang=es"}}}},
		{"hangup", []ivr.Step{ivr.Hangup{}}},
		{"message", []ivr.Step{ivr.Message{Text: "Our hours are 9-5 <Mon-Fri> & \"sometimes\" Sat.", To: "+15551112222", From: "+15553334444"}}},
		{"menu", menuSteps()},
		{"full_menu", fullMenuSteps()},
	}
}

func TestGolden(t *testing.T) {
	for _, p := range []struct {
		provider string
		base     string
		render   func(string, []ivr.Step) ([]byte, error)
	}{
		{ProviderTwilio, testBase, Twilio},
		{ProviderPlivo, testBasePlivo, Plivo},
	} {
		for _, tc := range goldenCases() {
			t.Run(p.provider+"/"+tc.name, func(t *testing.T) {
				got, err := p.render(p.base, tc.steps)
				if err != nil {
					t.Fatal(err)
				}
				parse(t, got)
				checkGolden(t, p.provider+"_"+tc.name, got)
				// Deterministic, and Render(provider) is the same renderer.
				again, err := Render(p.provider, p.base, tc.steps)
				if err != nil || !bytes.Equal(got, again) {
					t.Fatalf("second render differs (err %v):\n%s", err, again)
				}
			})
		}
		t.Run(p.provider+"/fallback", func(t *testing.T) {
			got, err := Fallback(p.provider, FallbackConfig{Text: "Sorry, please hold.", Voice: "Polly.Joanna", Language: "en-US", Number: "+15550100000"})
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, p.provider+"_fallback", got)
		})
	}
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func attrs(t *testing.T, n node, want map[string]string) {
	t.Helper()
	for k, v := range want {
		got, ok := n.attr(k)
		if !ok {
			t.Errorf("<%s> has no %s, want %q", n.XMLName.Local, k, v)
		} else if got != v {
			t.Errorf("<%s %s=%q>, want %q", n.XMLName.Local, k, got, v)
		}
	}
}

func noAttr(t *testing.T, n node, names ...string) {
	t.Helper()
	for _, k := range names {
		if v, ok := n.attr(k); ok {
			t.Errorf("<%s> has %s=%q, want none", n.XMLName.Local, k, v)
		}
	}
}

func TestTwilioMenuStructure(t *testing.T) {
	doc, err := Twilio(testBase, menuSteps())
	if err != nil {
		t.Fatal(err)
	}
	root := parse(t, doc)
	if got := strings.Join(root.childNames(), ","); got != "Gather,Redirect" {
		t.Fatalf("Response children = %s, want Gather,Redirect", got)
	}
	g := find(root, "Response/Gather")[0]
	attrs(t, g, map[string]string{
		"input": "dtmf", "action": testBase + "menu/main?attempt=1", "method": "POST",
		"timeout": "5", "numDigits": "1", "finishOnKey": "#",
	})
	noAttr(t, g, "speechTimeout", "hints", "language", "actionOnEmptyResult")
	says := find(root, "Response/Gather/Say")
	if len(says) != 2 || says[0].Text != "Welcome to Example Corp." {
		t.Fatalf("Response/Gather/Say = %+v", says)
	}
	attrs(t, says[1], map[string]string{"voice": "Polly.Joanna", "language": "en-US"})
	r := find(root, "Response/Redirect")[0]
	attrs(t, r, map[string]string{"method": "POST"})
	if r.Text != testBase+"menu/main?attempt=1" {
		t.Errorf("Redirect = %q", r.Text)
	}
}

func TestPlivoMenuStructure(t *testing.T) {
	doc, err := Plivo(testBasePlivo, menuSteps())
	if err != nil {
		t.Fatal(err)
	}
	root := parse(t, doc)
	if got := strings.Join(root.childNames(), ","); got != "GetDigits,Redirect" {
		t.Fatalf("Response children = %s, want GetDigits,Redirect", got)
	}
	g := find(root, "Response/GetDigits")[0]
	attrs(t, g, map[string]string{
		"action": testBasePlivo + "menu/main?attempt=1", "method": "POST",
		"timeout": "5", "digitTimeout": "3", "numDigits": "1", "finishOnKey": "#", "redirect": "true",
	})
	speaks := find(root, "Response/GetDigits/Speak")
	if len(speaks) != 2 || speaks[1].Text != "For billing press 1, for support press 2." {
		t.Fatalf("Response/GetDigits/Speak = %+v", speaks)
	}
	r := find(root, "Response/Redirect")[0]
	attrs(t, r, map[string]string{"method": "POST"})
	if r.Text != testBasePlivo+"menu/main?attempt=1" {
		t.Errorf("Redirect = %q", r.Text)
	}
}

func TestFullMenuStructure(t *testing.T) {
	for _, tc := range []struct {
		provider string
		children string
		gather   string
		prompts  string
		plus     string // how numbers start: Plivo writes them without "+"
	}{
		{ProviderTwilio, "Say,Play,Pause,Gather,Redirect,Dial,Record,Hangup", "Gather", "Say,Pause,Play", "+"},
		{ProviderPlivo, "Speak,Play,Wait,GetInput,Redirect,Dial,Record,Hangup", "GetInput", "Speak,Wait,Play", ""},
	} {
		t.Run(tc.provider, func(t *testing.T) {
			doc, err := Render(tc.provider, testBase, fullMenuSteps())
			if err != nil {
				t.Fatal(err)
			}
			root := parse(t, doc)
			if got := strings.Join(root.childNames(), ","); got != tc.children {
				t.Errorf("Response children = %s, want %s", got, tc.children)
			}
			g := find(root, "Response/"+tc.gather)[0]
			if got := strings.Join(g.childNames(), ","); got != tc.prompts {
				t.Errorf("%s children = %s, want %s", tc.gather, got, tc.prompts)
			}
			if got, _ := g.attr("hints"); got != "billing,support,opening hours" {
				t.Errorf("hints = %q", got)
			}
			if got, _ := g.attr("language"); got != "es-ES" {
				t.Errorf("language = %q", got)
			}
			if got, _ := find(root, "Response/Play")[0].attr("loop"); got != "2" {
				t.Errorf("Play loop = %q", got)
			}
			nums := find(root, "Response/Dial/Number")
			if len(nums) != 2 || nums[0].Text != tc.plus+"15551230001" || nums[1].Text != tc.plus+"15551230002" {
				t.Errorf("Dial/Number = %+v", nums)
			}
			dial := find(root, "Response/Dial")[0]
			attrs(t, dial, map[string]string{"callerId": tc.plus + "15550009999", "timeout": "20", "action": testBase + "action/dial-done?menu=support", "method": "POST"})
			rec := find(root, "Response/Record")[0]
			attrs(t, rec, map[string]string{"action": testBase + "action/voicemail-done", "method": "POST", "maxLength": "120", "finishOnKey": "#*", "timeout": "5", "playBeep": "true"})
			// Every action and redirect is POST.
			for _, name := range []string{"Gather", "GetInput", "GetDigits", "Dial", "Record", "Redirect"} {
				for _, el := range findAll(root, name) {
					if m, _ := el.attr("method"); m != "POST" {
						t.Errorf("<%s method=%q>, want POST", name, m)
					}
				}
			}
		})
	}
}

func TestGatherInputMapping(t *testing.T) {
	for _, tc := range []struct {
		dtmf, speech bool
		twilioInput  string
		plivoElement string
		plivoInput   string // inputType; "" = none
	}{
		{true, false, "dtmf", "GetDigits", ""},
		{false, true, "speech", "GetInput", "speech"},
		{true, true, "dtmf speech", "GetInput", "dtmf speech"},
	} {
		g := []ivr.Step{ivr.Gather{Action: ivr.Target{Path: "menu/m"}, DTMF: tc.dtmf, Speech: tc.speech, TimeoutSeconds: 6, InterDigitSeconds: 3, NumDigits: 2, Language: "fr-FR", SpeechHints: []string{"oui"}}}
		tw, err := Twilio(testBase, g)
		if err != nil {
			t.Fatal(err)
		}
		gt := find(parse(t, tw), "Response/Gather")[0]
		attrs(t, gt, map[string]string{"input": tc.twilioInput, "timeout": "6"})
		if tc.speech {
			attrs(t, gt, map[string]string{"speechTimeout": "auto", "language": "fr-FR", "hints": "oui"})
		} else {
			noAttr(t, gt, "speechTimeout", "language", "hints")
		}
		if tc.dtmf {
			attrs(t, gt, map[string]string{"numDigits": "2", "finishOnKey": ""})
		} else {
			noAttr(t, gt, "numDigits", "finishOnKey")
		}

		pl, err := Plivo(testBasePlivo, g)
		if err != nil {
			t.Fatal(err)
		}
		els := find(parse(t, pl), "Response/"+tc.plivoElement)
		if len(els) != 1 {
			t.Fatalf("dtmf=%v speech=%v: no Response/%s in\n%s", tc.dtmf, tc.speech, tc.plivoElement, pl)
		}
		gp := els[0]
		if tc.plivoInput == "" {
			attrs(t, gp, map[string]string{"timeout": "6", "digitTimeout": "3", "finishOnKey": "none"})
			noAttr(t, gp, "inputType", "language", "hints")
			continue
		}
		attrs(t, gp, map[string]string{"inputType": tc.plivoInput, "executionTimeout": "6", "language": "fr-FR", "hints": "oui"})
		if tc.dtmf {
			attrs(t, gp, map[string]string{"digitEndTimeout": "3", "numDigits": "2", "finishOnKey": "none"})
		} else {
			noAttr(t, gp, "digitEndTimeout", "numDigits", "finishOnKey")
		}
	}
}

func TestPlivoTimeoutsClamped(t *testing.T) {
	for _, tc := range []struct {
		timeout, inter  int
		exec, digitsEnd string
	}{
		{1, 1, "5", "2"},
		{30, 5, "30", "5"},
		{600, 60, "60", "10"},
	} {
		doc, err := Plivo(testBasePlivo, []ivr.Step{ivr.Gather{Action: ivr.Target{Path: "m"}, DTMF: true, Speech: true, TimeoutSeconds: tc.timeout, InterDigitSeconds: tc.inter}})
		if err != nil {
			t.Fatal(err)
		}
		attrs(t, find(parse(t, doc), "Response/GetInput")[0], map[string]string{"executionTimeout": tc.exec, "digitEndTimeout": tc.digitsEnd})
	}
}

func TestTwilioTimeoutFallsBackToInterDigit(t *testing.T) {
	doc, err := Twilio(testBase, []ivr.Step{ivr.Gather{Action: ivr.Target{Path: "m"}, DTMF: true, InterDigitSeconds: 4}})
	if err != nil {
		t.Fatal(err)
	}
	attrs(t, find(parse(t, doc), "Response/Gather")[0], map[string]string{"timeout": "4"})
}

func TestVoiceSpelling(t *testing.T) {
	steps := []ivr.Step{ivr.Say{Text: "a", Voice: "Woman"}, ivr.Say{Text: "b", Voice: "MAN"}, ivr.Say{Text: "c", Voice: "Polly.Joanna"}}
	tw, _ := Twilio(testBase, steps)
	pl, _ := Plivo(testBasePlivo, steps)
	var tv, pv []string
	for _, s := range find(parse(t, tw), "Response/Say") {
		v, _ := s.attr("voice")
		tv = append(tv, v)
	}
	for _, s := range find(parse(t, pl), "Response/Speak") {
		v, _ := s.attr("voice")
		pv = append(pv, v)
	}
	if got := strings.Join(tv, ","); got != "woman,man,Polly.Joanna" {
		t.Errorf("Twilio voices = %s", got)
	}
	if got := strings.Join(pv, ","); got != "WOMAN,MAN,Polly.Joanna" {
		t.Errorf("Plivo voices = %s", got)
	}
}

func TestMessage(t *testing.T) {
	msg := ivr.Message{Text: "Hi", To: "+15551112222", From: "+15553334444"}
	tw, err := Twilio(testBase, []ivr.Step{msg, msg})
	if err != nil {
		t.Fatal(err)
	}
	ms := find(parse(t, tw), "Response/Message")
	if len(ms) != 2 {
		t.Fatalf("want 2 messages:\n%s", tw)
	}
	attrs(t, ms[0], map[string]string{"to": "+15551112222", "from": "+15553334444"})

	// A reply may leave to/from to Twilio.
	tw, err = Twilio(testBase, []ivr.Step{ivr.Message{Text: "Hi"}})
	if err != nil {
		t.Fatal(err)
	}
	m := find(parse(t, tw), "Response/Message")[0]
	noAttr(t, m, "to", "from")
	if m.Text != "Hi" {
		t.Errorf("text %q", m.Text)
	}

	pl, err := Plivo(testBasePlivo, []ivr.Step{msg})
	if err != nil {
		t.Fatal(err)
	}
	m = find(parse(t, pl), "Response/Message")[0]
	attrs(t, m, map[string]string{"src": "15553334444", "dst": "15551112222", "type": "sms"}) // Plivo writes numbers without "+"

	// Plivo allows a Message in a call flow.
	if _, err := Plivo(testBasePlivo, []ivr.Step{ivr.Say{Text: "x"}, msg}); err != nil {
		t.Errorf("Plivo Say+Message: %v", err)
	}
}

func TestPointerSteps(t *testing.T) {
	byValue, err := Twilio(testBase, menuSteps())
	if err != nil {
		t.Fatal(err)
	}
	g := menuSteps()[0].(ivr.Gather)
	say := g.Prompts[0].(ivr.Say)
	g.Prompts = []ivr.Step{&say, g.Prompts[1]}
	r := menuSteps()[1].(ivr.Redirect)
	byPointer, err := Twilio(testBase, []ivr.Step{&g, &r})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(byValue, byPointer) {
		t.Errorf("pointer steps render differently:\n%s\n%s", byValue, byPointer)
	}
}

func TestBaseJoin(t *testing.T) {
	for _, tc := range []struct {
		base, path, want string
	}{
		{"https://x.test/twilio/voice/", "menu/a", "https://x.test/twilio/voice/menu/a"},
		{"https://x.test/twilio/voice", "menu/a", "https://x.test/twilio/voice/menu/a"},
		{"https://x.test/twilio/voice/", "/menu/a", "https://x.test/twilio/voice/menu/a"},
		{"https://x.test/twilio/voice/", "", "https://x.test/twilio/voice/"},
		{"", "menu/a", "menu/a"},
	} {
		doc, err := Twilio(tc.base, []ivr.Step{ivr.Redirect{Target: ivr.Target{Path: tc.path}}})
		if err != nil {
			t.Fatal(err)
		}
		if got := find(parse(t, doc), "Response/Redirect")[0].Text; got != tc.want {
			t.Errorf("base %q + %q = %q, want %q", tc.base, tc.path, got, tc.want)
		}
	}
}

func TestContentType(t *testing.T) {
	if got := ContentType(ProviderTwilio); !strings.HasPrefix(got, "text/xml") {
		t.Errorf("twilio: %q", got)
	}
	if got := ContentType(ProviderPlivo); !strings.HasPrefix(got, "application/xml") {
		t.Errorf("plivo: %q", got)
	}
}

func TestEmpty(t *testing.T) {
	for _, p := range []string{ProviderTwilio, ProviderPlivo} {
		doc := Empty(p)
		root := parse(t, doc)
		if len(root.Children) != 0 || strings.TrimSpace(root.Text) != "" {
			t.Errorf("%s: Empty has content:\n%s", p, doc)
		}
		if !bytes.Contains(doc, []byte("<Response></Response>")) {
			t.Errorf("%s: %s", p, doc)
		}
		doc[0] = 'X' // callers own the slice
		if Empty(p)[0] != '<' {
			t.Error("Empty returned shared memory")
		}
		none, err := Render(p, testBase, nil)
		if err != nil || !bytes.Equal(none, Empty(p)) {
			t.Errorf("%s: no steps = %q, %v; want Empty", p, none, err)
		}
	}
}

func TestErrors(t *testing.T) {
	type fake struct{ ivr.Hangup } // a Step from outside the closed set
	var nilSay *ivr.Say
	act := ivr.Target{Path: "menu/x"}
	for _, tc := range []struct {
		name   string
		steps  []ivr.Step
		twilio bool // expect an error from Twilio
		plivo  bool // expect an error from Plivo
		msg    string
	}{
		{"nil step", []ivr.Step{nil}, true, true, "nil step"},
		{"nil pointer", []ivr.Step{nilSay}, true, true, "nil"},
		{"unknown type", []ivr.Step{fake{}}, true, true, "unknown step type"},
		{"empty say", []ivr.Step{ivr.Say{Text: "  "}}, true, true, "empty say text"},
		{"negative loop", []ivr.Step{ivr.Say{Text: "x", Loop: -1}}, true, true, "negative loop"},
		{"empty play", []ivr.Step{ivr.Play{}}, true, true, "empty play URL"},
		{"negative pause", []ivr.Step{ivr.Pause{Seconds: -2}}, true, true, "negative pause"},
		{"gather no input", []ivr.Step{ivr.Gather{Action: act}}, true, true, "neither DTMF nor speech"},
		{"nested gather", []ivr.Step{ivr.Gather{Action: act, DTMF: true, Prompts: []ivr.Step{ivr.Gather{DTMF: true}}}}, true, true, "nested gather"},
		{"nested gather pointer", []ivr.Step{ivr.Gather{Action: act, Speech: true, Prompts: []ivr.Step{&ivr.Gather{DTMF: true}}}}, true, true, "nested gather"},
		{"dial in gather", []ivr.Step{ivr.Gather{Action: act, DTMF: true, Prompts: []ivr.Step{ivr.Dial{Numbers: []string{"+1"}}}}}, true, true, "not allowed inside a gather"},
		{"bad prompt", []ivr.Step{ivr.Gather{Action: act, DTMF: true, Prompts: []ivr.Step{ivr.Say{}}}}, true, true, "prompt 0"},
		{"bad finish key", []ivr.Step{ivr.Gather{Action: act, DTMF: true, FinishOnKey: "##"}}, true, true, "finish key"},
		{"negative digits", []ivr.Step{ivr.Gather{Action: act, DTMF: true, NumDigits: -1}}, true, true, "negative numDigits"},
		{"dial no numbers", []ivr.Step{ivr.Dial{}}, true, true, "without numbers"},
		{"dial empty number", []ivr.Step{ivr.Dial{Numbers: []string{"+1555", " "}}}, true, true, "empty number"},
		{"dial list number", []ivr.Step{ivr.Dial{Numbers: []string{"+1555<+1666"}}}, true, true, "contains"},
		{"record bad keys", []ivr.Step{ivr.Record{Action: act, FinishOnKey: "a"}}, true, true, "finish keys"},
		{"record negative", []ivr.Step{ivr.Record{Action: act, MaxLengthSeconds: -1}}, true, true, "negative maxLength"},
		{"empty message", []ivr.Step{ivr.Message{To: "+1", From: "+2"}}, true, true, "empty message text"},
		{"plivo message without numbers", []ivr.Step{ivr.Message{Text: "hi"}}, false, true, "message from (src)"},
		{"message in voice", []ivr.Step{ivr.Say{Text: "hi"}, ivr.Message{Text: "hi", To: "+1", From: "+2"}}, true, false, "no <Message>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, p := range []struct {
				provider string
				want     bool
			}{{ProviderTwilio, tc.twilio}, {ProviderPlivo, tc.plivo}} {
				doc, err := Render(p.provider, testBase, tc.steps)
				switch {
				case p.want && err == nil:
					t.Errorf("%s: no error; got\n%s", p.provider, doc)
				case p.want && !strings.Contains(err.Error(), tc.msg):
					t.Errorf("%s: error %q does not mention %q", p.provider, err, tc.msg)
				case p.want && doc != nil:
					t.Errorf("%s: error with a document", p.provider)
				case !p.want && err != nil:
					t.Errorf("%s: %v", p.provider, err)
				}
			}
		})
	}
	if _, err := Render("sip", testBase, menuSteps()); err == nil {
		t.Error("unknown provider: no error")
	}
}
