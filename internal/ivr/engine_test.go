package ivr

import (
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/ivr-project/ivr/internal/testutil"
)

const mainQ = "menu/main?attempt=1&lang=en-US"

var mainGreetingEN = []string{"say(en-US)", "say(es-ES)", "say(en-US)"}

func gatherOf(target string, prompts ...string) string {
	return "gather(" + target + ")[" + strings.Join(prompts, " ") + "]"
}

func TestExampleAnswer(t *testing.T) {
	f := mustExample(t)
	s := newSim(t, f)
	res := s.answer()
	target := Target{Path: "menu/main", Query: "attempt=1&lang=en-US"}
	want := []Step{
		Play{URL: "https://api.twilio.com/cowbell.mp3"},
		Say{Text: "Thank you for calling Example Company.", Voice: "Polly.Joanna", Language: "en-US"},
		Gather{
			Action: target,
			Prompts: []Step{
				Say{Text: "For billing, press 1 or say billing. For support, press 2 or say support. For our opening hours, press 3. For company news, press 4. To reach an extension, press 5. To leave a message, press 6. To speak with someone, press 0.", Voice: "Polly.Joanna", Language: "en-US"},
				Say{Text: "Para español, oprima nueve.", Voice: "Polly.Conchita", Language: "es-ES"},
				Say{Text: "For other languages, press star.", Voice: "Polly.Joanna", Language: "en-US"},
			},
			NumDigits: 1, TimeoutSeconds: 6, InterDigitSeconds: 3, FinishOnKey: "#",
			DTMF: true, Speech: true, SpeechHints: []string{"billing", "support", "hours", "agent", "español"}, Language: "en-US",
		},
		Redirect{Target: target},
	}
	if !reflect.DeepEqual(res.Steps, want) {
		t.Errorf("answer steps:\n got %#v\nwant %#v", res.Steps, want)
	}
	wantEv := []Event{
		{At: openTime, Kind: EventPlay},
		{At: openTime, Kind: EventSay},
		{At: openTime, Menu: "main", Kind: EventEnter},
	}
	if !reflect.DeepEqual(res.Events, wantEv) {
		t.Errorf("answer events:\n got %#v\nwant %#v", res.Events, wantEv)
	}
}

// TestExampleWalk plays key presses from the answer URL and checks the last
// response.
func TestExampleWalk(t *testing.T) {
	billing := "menu/billing?attempt=1&lang=en-US&trail=main"
	tests := []struct {
		name   string
		keys   []string
		want   []string
		events []string // of the last step
	}{
		{
			name:   "billing submenu",
			keys:   []string{"1"},
			want:   []string{gatherOf(billing, "say(en-US)"), "redirect(" + billing + ")"},
			events: []string{"main|1|option 1", "main||goto billing", "billing||enter"},
		},
		{
			name:   "billing say then repeat",
			keys:   []string{"1", "1"},
			want:   []string{"say(en-US)", gatherOf(billing, "say(en-US)"), "redirect(" + billing + ")"},
			events: []string{"billing|1|option 1", "billing||say", "billing||repeat"},
		},
		{
			name:   "billing back",
			keys:   []string{"1", "*"},
			want:   []string{gatherOf(mainQ, mainGreetingEN...), "redirect(" + mainQ + ")"},
			events: []string{"billing|*|option *", "billing||back main", "main||enter"},
		},
		{
			name:   "billing top",
			keys:   []string{"1", "0"},
			want:   []string{gatherOf(mainQ, mainGreetingEN...), "redirect(" + mainQ + ")"},
			events: []string{"billing|0|option 0", "billing||top", "main||enter"},
		},
		{
			name:   "billing card transfer with caller id",
			keys:   []string{"1", "2"},
			want:   []string{"dial(+15005550006 -> action/dial-done?lang=en-US&menu=billing&ref=billing.2.0&trail=main)"},
			events: []string{"billing|2|option 2", "billing||transfer +15005550006"},
		},
		{
			name: "support transfer to several numbers",
			keys: []string{"2", "1"},
			want: []string{"dial(+15005550006,+15005550001 -> action/dial-done?lang=en-US&menu=support&ref=support.1.0&trail=main)"},
		},
		{
			name:   "hours say then menu repeats with short greeting",
			keys:   []string{"3"},
			want:   []string{"say(en-US)", gatherOf(mainQ, "say(en-US)"), "redirect(" + mainQ + ")"},
			events: []string{"main|3|option 3", "main||say", "main||repeat"},
		},
		{
			name:   "news play then redirect",
			keys:   []string{"4"},
			want:   []string{"play(https://api.twilio.com/cowbell.mp3)", "redirect(menu/main?lang=en-US)"},
			events: []string{"main|4|option 4", "main||play", "main||redirect main"},
		},
		{
			name: "directory exact code",
			keys: []string{"5", "100"},
			want: []string{"dial(+15005550006 -> action/dial-done?lang=en-US&menu=directory&ref=directory.100.0&trail=main)"},
		},
		{
			name: "directory code with finish key",
			keys: []string{"5", "100#"},
			want: []string{"dial(+15005550006 -> action/dial-done?lang=en-US&menu=directory&ref=directory.100.0&trail=main)"},
		},
		{
			name: "directory pattern 2XX",
			keys: []string{"5", "250"},
			want: []string{"say(en-US)", "dial(+15005550006 -> action/dial-done?lang=en-US&menu=directory&ref=directory.2XX.1&trail=main)"},
		},
		{
			name: "directory regex",
			keys: []string{"5", "342"},
			want: []string{"say(en-US)", "say(en-US)", "record(action/voicemail-done?lang=en-US&menu=directory&ref=directory.%2F%5E3%5B0-4%5D%5B0-9%5D%24%2F.1)", "hangup"},
		},
		{
			name: "directory no match",
			keys: []string{"5", "399"},
			want: []string{
				gatherOf("menu/directory?attempt=2&invalid=1&lang=en-US&trail=main", "say(en-US)", "say(en-US)"),
				"redirect(menu/directory?attempt=2&invalid=1&lang=en-US&trail=main)",
			},
			events: []string{"directory|399|invalid"},
		},
		{
			name:   "voicemail shorthand",
			keys:   []string{"6"},
			want:   []string{"say(en-US)", "record(action/voicemail-done?lang=en-US&menu=main&ref=main.6.0)", "hangup"},
			events: []string{"main|6|option 6", "main||voicemail"},
		},
		{
			name: "agent",
			keys: []string{"0"},
			want: []string{"say(en-US)", "dial(+15005550006 -> action/dial-done?lang=en-US&menu=main&ref=main.0.1)"},
		},
		{
			name: "spanish quick switch",
			keys: []string{"9"},
			want: []string{
				gatherOf("menu/main?attempt=1&lang=es-ES", "say(es-ES)", "say(es-ES)", "say(en-US)"),
				"redirect(menu/main?attempt=1&lang=es-ES)",
			},
			events: []string{"main|9|option 9", "main||set_language es-ES", "main||top", "main||enter"},
		},
		{
			name: "language menu then spanish",
			keys: []string{"*", "2"},
			want: []string{
				gatherOf("menu/main?attempt=1&lang=es-ES", "say(es-ES)", "say(es-ES)", "say(en-US)"),
				"redirect(menu/main?attempt=1&lang=es-ES)",
			},
		},
		{
			name: "language menu back",
			keys: []string{"*", "*"},
			want: []string{gatherOf(mainQ, mainGreetingEN...), "redirect(" + mainQ + ")"},
		},
		{
			name: "submenu of submenu keeps a trail",
			keys: []string{"1", "2"},
			want: []string{"dial(+15005550006 -> action/dial-done?lang=en-US&menu=billing&ref=billing.2.0&trail=main)"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(t, mustExample(t))
			s.answer()
			var res Result
			for _, k := range tc.keys {
				res = s.press(k)
			}
			eqStrings(t, "steps", summary(res.Steps), tc.want)
			if tc.events != nil {
				eqStrings(t, "events", actions(res.Events), tc.events)
			}
			for _, e := range res.Events {
				if !e.At.Equal(openTime) {
					t.Errorf("event %+v: At = %v, want the call's Now", e, e.At)
				}
			}
		})
	}
}

func TestSilentCaller(t *testing.T) {
	s := newSim(t, mustExample(t))
	s.answer()
	res := s.silence()
	q2 := "menu/main?attempt=2&lang=en-US&timeouts=1"
	eqStrings(t, "after 1st timeout", summary(res.Steps), []string{gatherOf(q2, "say(en-US)", "say(en-US)"), "redirect(" + q2 + ")"})
	g := res.Steps[0].(Gather)
	if got := g.Prompts[0].(Say).Text; got != "Sorry, I didn't hear anything." {
		t.Errorf("timeout prompt = %q", got)
	}
	if got := g.Prompts[1].(Say).Text; !strings.HasPrefix(got, "Press 1 for billing") {
		t.Errorf("short greeting = %q", got)
	}
	s.silence()
	res = s.silence()
	eqStrings(t, "after 3rd timeout", summary(res.Steps), []string{"say(en-US)", "hangup"})
	eqStrings(t, "events", actions(res.Events), []string{"main|timeout|timeout", "main||max_timeouts", "main||say", "main||hangup"})
}

func TestAlwaysWrongCaller(t *testing.T) {
	s := newSim(t, mustExample(t))
	s.answer()
	res := s.press("7")
	q2 := "menu/main?attempt=2&invalid=1&lang=en-US"
	eqStrings(t, "after 1st", summary(res.Steps), []string{gatherOf(q2, "say(en-US)", "say(en-US)"), "redirect(" + q2 + ")"})
	if got := res.Steps[0].(Gather).Prompts[0].(Say).Text; got != "Sorry, that is not one of the choices." {
		t.Errorf("invalid prompt = %q", got)
	}
	s.press("8")
	res = s.press("7")
	eqStrings(t, "after 3rd", summary(res.Steps), []string{"say(en-US)", "dial(+15005550006 -> action/dial-done?lang=en-US&loops=1&menu=main&ref=defaults.on_max_failures.1)"})
	eqStrings(t, "events", actions(res.Events), []string{"main|7|invalid", "main||max_failures", "main||say", "main||transfer +15005550006"})

	// Billing has its own max_failures: 2 and goes back to the top.
	s = newSim(t, mustExample(t))
	s.answer()
	s.press("1")
	s.press("9")
	res = s.press("9")
	mainQ1 := mainQ + "&loops=1" // the call's first give-up (step limit)
	eqStrings(t, "billing", summary(res.Steps), []string{"say(en-US)", gatherOf(mainQ1, mainGreetingEN...), "redirect(" + mainQ1 + ")"})
}

func TestMixedTimeoutsAndFailures(t *testing.T) {
	s := newSim(t, mustExample(t))
	s.answer()
	s.press("7")
	s.silence()
	s.press("7")
	res := s.silence()
	// 2 invalid + 2 timeouts: neither limit (3) reached yet.
	q := "menu/main?attempt=5&invalid=2&lang=en-US&timeouts=2"
	eqStrings(t, "steps", summary(res.Steps), []string{gatherOf(q, "say(en-US)", "say(en-US)"), "redirect(" + q + ")"})
	res = s.silence()
	eqStrings(t, "timeouts exhausted", summary(res.Steps), []string{"say(en-US)", "hangup"})
}

func TestMenuURLRule(t *testing.T) {
	f := mustExample(t)
	s := newSim(t, f)
	// No input, no attempt: fresh render, trail and lang kept.
	res := s.do("menu/billing", "lang=es-ES&trail=main&invalid=2", Input{})
	q := "menu/billing?attempt=1&lang=es-ES&trail=main"
	eqStrings(t, "fresh", summary(res.Steps), []string{gatherOf(q, "say(es-ES)"), "redirect(" + q + ")"})
	// Garbage attempt is treated as missing: fresh.
	res = s.do("menu/main", "attempt=banana", Input{})
	eqStrings(t, "garbage attempt", summary(res.Steps), []string{gatherOf(mainQ, mainGreetingEN...), "redirect(" + mainQ + ")"})
	// Huge counts are capped and exhaust the menu.
	res = s.do("menu/main", "attempt=999999999999&timeouts=99999999999999999999", Input{})
	eqStrings(t, "capped", summary(res.Steps), []string{"say(en-US)", "hangup"})
	// Unknown language in the state: the flow default.
	res = s.do("menu/main", "lang=fr-FR", Input{})
	eqStrings(t, "unknown lang", summary(res.Steps), []string{gatherOf(mainQ, mainGreetingEN...), "redirect(" + mainQ + ")"})
	// Unreadable keys are an invalid input.
	res = s.do("menu/main", "attempt=1", Input{Digits: "1<Say>"})
	eqStrings(t, "events", actions(res.Events), []string{"main|unreadable keys|invalid"})
}

func TestErrors(t *testing.T) {
	f := mustExample(t)
	for _, req := range []Request{
		{Path: "menu/nope"},
		{Path: "menu/"},
		{Path: "nope"},
		{Path: "action/unknown"},
		{Path: PathDialDone, Query: url.Values{"ref": {"main.1.0"}}}, // not a transfer
		{Path: PathDialDone, Query: url.Values{"ref": {"gone.1.0"}}}, // vanished
		{Path: PathDialDone},
	} {
		if _, err := f.Step(req); err == nil {
			t.Errorf("Step(%q %v): no error", req.Path, req.Query)
		}
	}
}

func TestDialDone(t *testing.T) {
	tests := []struct {
		status string
		want   []string
	}{
		{"completed", []string{"hangup"}},
		{"answered", []string{"hangup"}},
		{"no-answer", []string{"say(en-US)", "say(en-US)", "record(action/voicemail-done?lang=en-US&menu=support&ref=support.1.0.no_answer.1)", "hangup"}},
		{"busy", []string{"say(en-US)", "say(en-US)", "record(action/voicemail-done?lang=en-US&menu=support&ref=support.1.0.no_answer.1)", "hangup"}},
		{"", []string{"say(en-US)", "say(en-US)", "record(action/voicemail-done?lang=en-US&menu=support&ref=support.1.0.no_answer.1)", "hangup"}},
	}
	for _, tc := range tests {
		t.Run(tc.status, func(t *testing.T) {
			s := newSim(t, mustExample(t))
			s.answer()
			s.press("2")
			s.press("1")
			res := s.dialDone(tc.status)
			eqStrings(t, "steps", summary(res.Steps), tc.want)
		})
	}
	// The no-answer path of billing goes to a menu, keeping the trail.
	s := newSim(t, mustExample(t))
	s.answer()
	s.press("1")
	s.press("2")
	res := s.dialDone("failed")
	q := "menu/support?attempt=1&lang=en-US&trail=main,billing"
	eqStrings(t, "billing no answer", summary(res.Steps), []string{gatherOf(strings.ReplaceAll(q, ",", "%2C"), "say(en-US)"), "redirect(" + strings.ReplaceAll(q, ",", "%2C") + ")"})
	res = s.press("*")
	eqStrings(t, "back to billing", summary(res.Steps)[:1], []string{gatherOf("menu/billing?attempt=1&lang=en-US&trail=main", "say(en-US)")})
}

func TestVoicemailDone(t *testing.T) {
	s := newSim(t, mustExample(t))
	s.answer()
	s.press("9") // Spanish
	s.press("2")
	s.press("1")
	s.dialDone("no-answer")
	res := s.recorded()
	want := []Step{Say{Text: "Gracias. Un técnico le devolverá la llamada. Adiós.", Voice: "Polly.Conchita", Language: "es-ES"}, Hangup{}}
	if !reflect.DeepEqual(res.Steps, want) {
		t.Errorf("got %#v", res.Steps)
	}
	// A reference that no longer resolves still thanks and hangs up.
	res = s.do(PathVoicemailDone, "ref=gone&lang=es-ES", Input{})
	eqStrings(t, "unknown ref", summary(res.Steps), []string{"say(en-US)", "hangup"})
	// The recording URL goes into the events.
	f := mustExample(t)
	res, err := f.Step(Request{Path: PathVoicemailDone, RecordingURL: "https://api.example/rec/RE1", Query: url.Values{"menu": {"main"}}})
	if err != nil {
		t.Fatal(err)
	}
	eqStrings(t, "events", actions(res.Events), []string{"main|recording https://api.example/rec/RE1|voicemail done", "main||hangup"})
}

func TestLanguageCarriesThrough(t *testing.T) {
	s := newSim(t, mustExample(t))
	s.answer()
	s.press("*")
	s.press("2")
	res := s.press("1") // billing in Spanish
	g := res.Steps[0].(Gather)
	want := Say{
		Text:     "Facturación. Vemos que llama desde 1 5 5 5 1 2 3 4 5 6 7. Para su saldo, oprima 1. Para pagar con tarjeta, oprima 2. Para consultar una cuenta por su número, oprima 3. Para volver, oprima asterisco. Para el menú principal, oprima 0.",
		Voice:    "Polly.Conchita",
		Language: "es-ES",
	}
	if !reflect.DeepEqual(g.Prompts[0], want) {
		t.Errorf("billing prompt:\n got %#v\nwant %#v", g.Prompts[0], want)
	}
	if g.Action.Query != "attempt=1&lang=es-ES&trail=main" {
		t.Errorf("query = %q", g.Action.Query)
	}
	// Wrong key: Spanish invalid prompt.
	res = s.press("5")
	if got := res.Steps[0].(Gather).Prompts[0].(Say).Text; got != "Lo siento, esa no es una de las opciones." {
		t.Errorf("invalid prompt = %q", got)
	}
	// Back to English.
	s.press("0")
	s.press("*")
	res = s.press("1")
	if got := res.Steps[0].(Gather).Action.Query; got != "attempt=1&lang=en-US" {
		t.Errorf("query after English = %q", got)
	}
}

func TestSpeech(t *testing.T) {
	tests := []struct {
		speech string
		want   string // first step summary
	}{
		{"I want to pay my bill", gatherOf("menu/billing?attempt=1&lang=en-US&trail=main", "say(en-US)")},
		{"BILLING.", gatherOf("menu/billing?attempt=1&lang=en-US&trail=main", "say(en-US)")},
		{"support please", gatherOf("menu/support?attempt=1&lang=en-US&trail=main", "say(en-US)")},
		{"Español", gatherOf("menu/main?attempt=1&lang=es-ES", "say(es-ES)", "say(es-ES)", "say(en-US)")},
		{"2", gatherOf("menu/support?attempt=1&lang=en-US&trail=main", "say(en-US)")},
		{"billings", gatherOf("menu/main?attempt=2&invalid=1&lang=en-US", "say(en-US)", "say(en-US)")},
		{"pay my", gatherOf("menu/main?attempt=2&invalid=1&lang=en-US", "say(en-US)", "say(en-US)")},
		{"an operator", "say(en-US)"},
	}
	for _, tc := range tests {
		t.Run(tc.speech, func(t *testing.T) {
			s := newSim(t, mustExample(t))
			s.answer()
			res := s.speak(tc.speech)
			if got := summary(res.Steps)[0]; got != tc.want {
				t.Errorf("got %s\nwant %s", got, tc.want)
			}
		})
	}
	// The event records the speech, and a menu without speech ignores it.
	s := newSim(t, mustExample(t))
	s.answer()
	res := s.speak("billing")
	if res.Events[0].Input() != "speech: billing" {
		t.Errorf("event input = %q", res.Events[0].Input())
	}
	res = s.speak("balance") // billing has no speech
	eqStrings(t, "events", actions(res.Events), []string{"billing|speech: balance|invalid"})
	// Digits win over speech.
	s = newSim(t, mustExample(t))
	s.answer()
	g := s.gather()
	res = s.do(g.Action.Path, g.Action.Query, Input{Digits: "2", Speech: "billing"})
	if res.Events[0].Action() != "option 2" {
		t.Errorf("events = %v", actions(res.Events))
	}
}

func TestCallerDetailsCannotInject(t *testing.T) {
	f := mustExample(t)
	s := newSim(t, f)
	s.call.From = "{{to}}<speak>x</speak>"
	s.answer()
	res := s.press("1")
	text := res.Steps[0].(Gather).Prompts[0].(Say).Text
	if strings.ContainsAny(text, "{}<>") {
		t.Errorf("caller text leaked: %q", text)
	}
	if !strings.Contains(text, "calling from tospeakxspeak.") {
		t.Errorf("text = %q", text)
	}
	s.call.From = ""
	s.answer()
	res = s.press("1")
	if text := res.Steps[0].(Gather).Prompts[0].(Say).Text; !strings.Contains(text, "calling from unknown.") {
		t.Errorf("text = %q", text)
	}
}

func TestSMSReply(t *testing.T) {
	f := mustExample(t)
	now := openTime
	tests := []struct {
		text   string
		want   []Step
		action string
	}{
		{"HELP", []Step{Message{Text: "Example Company: call us at +15005550006. Reply HOURS for opening hours. Reply STOP to opt out.", To: "+15551234567", From: "+15005550006"}}, "sms HELP"},
		{"  help me please", []Step{Message{Text: "Example Company: call us at +15005550006. Reply HOURS for opening hours. Reply STOP to opt out.", To: "+15551234567", From: "+15005550006"}}, "sms HELP"},
		{"hours?", []Step{Message{Text: "We are open every day, around the clock.", To: "+15551234567", From: "+15005550006"}}, "sms HOURS"},
		{"Stop", nil, "sms STOP (no reply)"},
		{"what's up", []Step{Message{Text: "Thanks for your message. Reply HELP for options, or call +15005550006.", To: "+15551234567", From: "+15005550006"}}, "sms default"},
		{"", []Step{Message{Text: "Thanks for your message. Reply HELP for options, or call +15005550006.", To: "+15551234567", From: "+15005550006"}}, "sms default"},
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			res, err := f.Reply(SMS{From: "+15551234567", To: "+15005550006", Text: tc.text, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(res.Steps, tc.want) {
				t.Errorf("steps = %#v", res.Steps)
			}
			if len(res.Events) != 1 || res.Events[0].Action() != tc.action || !res.Events[0].At.Equal(now) {
				t.Errorf("events = %#v", res.Events)
			}
		})
	}
	// No sms block: no replies at all.
	g := testutil.MustParse(t, Parse, "menus: {main: {greeting: hi, options: {\"1\": hangup}}}")
	res, _ := g.Reply(SMS{Text: "HELP"})
	if len(res.Steps) != 0 {
		t.Errorf("steps = %v", res.Steps)
	}
}

func TestModel(t *testing.T) {
	f := mustExample(t)
	if f.CallCenter() != "+15005550006" || f.Entry != "main" {
		t.Errorf("call center %q entry %q", f.CallCenter(), f.Entry)
	}
	var ids []string
	for _, m := range f.Menus() {
		ids = append(ids, m.ID)
	}
	eqStrings(t, "menus", ids, []string{"main", "language", "billing", "account", "support", "directory"})
	if f.Menu("directory").Digits != 0 || f.Menu("main").Digits != 1 || f.Menu("nope") != nil {
		t.Error("menu lookup")
	}
}

func TestParseState(t *testing.T) {
	tests := []struct {
		q    string
		want state
	}{
		{"", state{}},
		{"attempt=2&invalid=1&timeouts=3&lang=es-ES&trail=main,billing&menu=support&ref=support.1.0",
			state{Attempt: 2, Invalid: 1, Timeouts: 3, Lang: "es-ES", Trail: []string{"main", "billing"}, Menu: "support", Ref: "support.1.0"}},
		{"attempt=-1&invalid=abc&timeouts=1e3", state{}},
		{"attempt=1000000&invalid=150", state{Attempt: maxCount, Invalid: maxCount}},
		{"lang=%3Cspeak%3E&menu=a/b&ref=%00x", state{}},
		{"trail=,a/b,,main,%3Cx%3E", state{Trail: []string{"main"}}},
		{"trail=a,b,c,d,e,f,g,h,i,j,k,l", state{Trail: []string{"c", "d", "e", "f", "g", "h", "i", "j", "k", "l"}}},
	}
	for _, tc := range tests {
		q, _ := url.ParseQuery(tc.q)
		if got := parseState(q); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseState(%q) = %+v, want %+v", tc.q, got, tc.want)
		}
	}
	s := state{Attempt: 2, Timeouts: 1, Lang: "en-US", Trail: []string{"main", "billing"}}
	if got := s.encode(); got != "attempt=2&lang=en-US&timeouts=1&trail=main%2Cbilling" {
		t.Errorf("encode = %q", got)
	}
}

func TestRevision(t *testing.T) {
	a, err := Parse("a.yaml", Example())
	if err != nil {
		t.Fatal(err)
	}
	b, err := Parse("b.yaml", Example())
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse("c.yaml", append(Example(), []byte("\n# edited\n")...))
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Revision()) != 12 || a.Revision() != b.Revision() || a.Revision() == c.Revision() {
		t.Errorf("revisions %q %q %q: want 12 hex digits, equal for the same text, different after an edit", a.Revision(), b.Revision(), c.Revision())
	}
}
