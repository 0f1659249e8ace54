package xml

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/ivr-project/ivr/internal/ivr"
)

// turnSummary is a turn in short: the kinds of what is heard, the stop's
// kind (- for none) and the request that follows it, and how many verbs
// are left.
func turnSummary(t Turn) string {
	var heard []string
	for _, v := range t.Heard {
		heard = append(heard, kindOf(v))
	}
	next := "-"
	if r, ok := Next(t.Stop); ok {
		next = fmt.Sprintf("%s %s follow=%t", r.Method, r.URL, r.Follow)
	}
	silence := "-"
	if r, ok := t.Silence(); ok {
		silence = r.Method + " " + r.URL
	}
	return fmt.Sprintf("heard=[%s] stop=%s next=%s silence=%s rest=%d", strings.Join(heard, " "), kindOf(t.Stop), next, silence, len(t.Rest))
}

func kindOf(v Verb) string {
	if v == nil {
		return "-"
	}
	return strings.TrimPrefix(fmt.Sprintf("%T", v), "xml.")
}

// TestNextTurn: what the phone plays of a document, where it stops, the
// request that follows and what silence leads to, for both dialects.
func TestNextTurn(t *testing.T) {
	for _, tc := range []struct {
		name, provider, doc string
		want                []string // one summary per turn, until no verb is left
	}{
		{"twilio menu", ProviderTwilio, `<Response><Say>Hi</Say><Pause/><Gather action="https://h/twilio/voice/menu/main" numDigits="1"><Say>Press 1</Say><Play>https://a/b.mp3</Play></Gather><Redirect method="POST">https://h/twilio/voice/menu/main?attempt=1</Redirect></Response>`,
			[]string{
				"heard=[Say Pause Say Play] stop=Gather next=POST https://h/twilio/voice/menu/main follow=true silence=POST https://h/twilio/voice/menu/main?attempt=1 rest=1",
				"heard=[] stop=Redirect next=POST https://h/twilio/voice/menu/main?attempt=1 follow=true silence=- rest=0",
			}},
		{"twilio gather on empty result", ProviderTwilio, `<Response><Gather action="a" method="GET" actionOnEmptyResult="true"/><Redirect>b</Redirect></Response>`,
			[]string{"heard=[] stop=Gather next=GET a follow=true silence=GET a rest=1", "heard=[] stop=Redirect next=POST b follow=true silence=- rest=0"}},
		{"twilio gather then hangup", ProviderTwilio, `<Response><Gather/><Hangup/><Redirect>b</Redirect></Response>`,
			[]string{"heard=[] stop=Gather next=POST  follow=true silence=- rest=2", "heard=[] stop=Hangup next=- silence=- rest=1", "heard=[] stop=Redirect next=POST b follow=true silence=- rest=0"}},
		{"twilio dial without action", ProviderTwilio, `<Response><Dial><Number>+15551230001</Number></Dial><Say>Bye</Say></Response>`,
			[]string{"heard=[] stop=Dial next=- silence=- rest=1", "heard=[Say] stop=- next=- silence=- rest=0"}},
		{"twilio record and unknown", ProviderTwilio, `<Response><Enqueue>q</Enqueue><Play digits="12"/><Record action="https://h/r"/></Response>`,
			[]string{"heard=[Unknown DTMF] stop=Record next=POST https://h/r follow=true silence=- rest=0"}},
		{"twilio reject", ProviderTwilio, `<Response><Reject/></Response>`, []string{"heard=[] stop=Hangup next=- silence=- rest=0"}},
		{"empty", ProviderTwilio, `<Response/>`, []string{"heard=[] stop=- next=- silence=- rest=0"}},
		{"plivo getdigits", ProviderPlivo, `<Response><PreAnswer><Speak>Early</Speak></PreAnswer><GetDigits action="https://h/plivo/voice/menu/m" method="GET"><Speak>Press</Speak><Wait length="2"/></GetDigits><Redirect>https://h/plivo/voice/menu/m?attempt=1</Redirect></Response>`,
			[]string{
				"heard=[Say Say Pause] stop=GetDigits next=GET https://h/plivo/voice/menu/m follow=true silence=POST https://h/plivo/voice/menu/m?attempt=1 rest=1",
				"heard=[] stop=Redirect next=POST https://h/plivo/voice/menu/m?attempt=1 follow=true silence=- rest=0",
			}},
		{"plivo getinput without action", ProviderPlivo, `<Response><GetInput inputType="speech"/><Speak>Nothing heard</Speak></Response>`,
			[]string{"heard=[] stop=GetInput next=- silence=- rest=1", "heard=[Say] stop=- next=- silence=- rest=0"}},
		{"plivo redirect false", ProviderPlivo, `<Response><Dial action="https://h/d" redirect="false" confirmSound="https://h/w" confirmKey="5"><Number>15551230001</Number></Dial><Record action="https://h/r" redirect="false"/><Hangup schedule="30"/><DTMF>1w2</DTMF></Response>`,
			[]string{
				"heard=[] stop=Dial next=POST https://h/d follow=false silence=- rest=3",
				"heard=[] stop=Record next=POST https://h/r follow=false silence=- rest=2",
				"heard=[] stop=Hangup next=- silence=- rest=1",
				"heard=[DTMF] stop=- next=- silence=- rest=0",
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			verbs, err := Parse(tc.provider, []byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for rest := verbs; ; {
				turn := NextTurn(rest)
				got = append(got, strings.ReplaceAll(turnSummary(turn), "stop=Gather", "stop="+gatherElement(turn.Stop)))
				if turn.Stop == nil || len(turn.Rest) == 0 {
					break
				}
				rest = turn.Rest
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("turns:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// gatherElement names a gather by its element ("Gather", "GetDigits"...).
func gatherElement(v Verb) string {
	if g, ok := v.(Gather); ok {
		return g.Element
	}
	return kindOf(v)
}

// TestGatherPress: the keys a provider sends for what was pressed, and the
// keys a gather accepts.
func TestGatherPress(t *testing.T) {
	for _, tc := range []struct {
		g              Gather
		keys           string
		digits, finish string
		valid          bool
	}{
		{Gather{FinishOnKey: "#"}, "1234#5", "1234", "#", true},
		{Gather{FinishOnKey: "#*", NumDigits: 3}, "12*", "12", "*", true},
		{Gather{NumDigits: 2}, "1234", "12", "", true},
		{Gather{}, "#", "#", "", true},
		{Gather{FinishOnKey: "#", ValidDigits: "12"}, "13#", "13", "#", false},
		{Gather{FinishOnKey: "#", ValidDigits: "12"}, "#", "", "#", true},
		{Gather{ValidDigits: "1234567890*#"}, "9*", "9*", "", true},
	} {
		digits, finish := tc.g.Press(tc.keys)
		if digits != tc.digits || finish != tc.finish || tc.g.Valid(digits) != tc.valid {
			t.Errorf("%+v.Press(%q) = %q, %q, valid %t; want %q, %q, %t", tc.g, tc.keys, digits, finish, tc.g.Valid(digits), tc.digits, tc.finish, tc.valid)
		}
	}
}

// FuzzNextTurn: the turns of whatever document the network sends (read by
// Parse) play every verb once, in order, and end.
func FuzzNextTurn(f *testing.F) {
	for _, s := range []string{
		`<Response><Say>Hi</Say><Gather action="a" actionOnEmptyResult="true"><Say>x</Say></Gather><Redirect>b</Redirect></Response>`,
		`<Response><PreAnswer><Speak>x</Speak></PreAnswer><GetDigits><Speak>y</Speak></GetDigits><Dial redirect="false" action="d"><Number>1</Number></Dial><Hangup schedule="5"/></Response>`,
		`<Response><Record/><Reject/><Foo>bar</Foo></Response>`,
	} {
		f.Add(false, []byte(s))
		f.Add(true, []byte(s))
	}
	f.Fuzz(func(t *testing.T, plivo bool, data []byte) {
		provider := ProviderTwilio
		if plivo {
			provider = ProviderPlivo
		}
		verbs, err := Parse(provider, data)
		if err != nil {
			return
		}
		played := 0
		for rest := verbs; ; {
			turn := NextTurn(rest)
			played += len(turn.Heard)
			if g, ok := turn.Stop.(Gather); ok {
				played -= len(g.Prompts) // heard, but not verbs of the document
				if g.Timeout < 0 || g.NumDigits < 0 {
					t.Fatalf("negative count in %+v", g)
				}
			}
			if _, ok := turn.Silence(); ok {
				if _, gather := turn.Stop.(Gather); !gather {
					t.Fatalf("silence after a %T", turn.Stop)
				}
			}
			if r, ok := Next(turn.Stop); ok && r.Method != "GET" && r.Method != "POST" {
				t.Fatalf("method %q", r.Method)
			}
			if turn.Stop == nil {
				if len(turn.Rest) != 0 {
					t.Fatalf("no stop, %d verbs left", len(turn.Rest))
				}
				break
			}
			played++
			if len(turn.Rest) >= len(rest) {
				t.Fatalf("a turn played nothing: %d verbs left of %d", len(turn.Rest), len(rest))
			}
			rest = turn.Rest
		}
		if played != len(verbs) {
			t.Fatalf("turns played %d verbs of %d", played, len(verbs))
		}
	})
}

// TestReadGatherTimeout: the wait for input a gather renders with reads
// back as written, in each dialect's attribute; 0 when none is written.
func TestReadGatherTimeout(t *testing.T) {
	action := ivr.Target{Path: "menu/main"}
	for _, tc := range []struct {
		provider string
		gather   ivr.Gather
		element  string
		want     int
	}{
		{ProviderTwilio, ivr.Gather{Action: action, DTMF: true, TimeoutSeconds: 7}, "Gather", 7},
		{ProviderTwilio, ivr.Gather{Action: action, DTMF: true, InterDigitSeconds: 3}, "Gather", 3},
		{ProviderTwilio, ivr.Gather{Action: action, Speech: true}, "Gather", 0},
		{ProviderPlivo, ivr.Gather{Action: action, DTMF: true, TimeoutSeconds: 7}, "GetDigits", 7},
		{ProviderPlivo, ivr.Gather{Action: action, DTMF: true}, "GetDigits", 0},
		{ProviderPlivo, ivr.Gather{Action: action, DTMF: true, Speech: true, TimeoutSeconds: 20}, "GetInput", 20},
	} {
		doc, err := Render(tc.provider, testBase, []ivr.Step{tc.gather})
		if err != nil {
			t.Fatal(err)
		}
		verbs, err := Parse(tc.provider, doc)
		if err != nil {
			t.Fatal(err)
		}
		g, ok := NextTurn(verbs).Stop.(Gather)
		if !ok || g.Element != tc.element || g.Timeout != tc.want {
			t.Errorf("%s %+v read back as %+v, want <%s> with Timeout %d:\n%s", tc.provider, tc.gather, g, tc.element, tc.want, doc)
		}
	}
}
