package ivr

import (
	"reflect"
	"strings"
	"testing"

	"github.com/ivr-project/ivr/internal/testutil"
)

const handoffFlow = `
entry: main
menus:
  main:
    greeting: "Enter your account number."
    collect:
      into: account
      max_digits: 6
      do: {goto: agents}
  agents:
    greeting: "Press 0 for an agent, 9 for a callback."
    options:
      "0":
        transfer:
          to: ["+15550001111", "sip:sales@pbx.example.com", "+15550002222"]
          ring: sequential
          timeout: 15
          whisper: "Billing call, account {{account | digits}}"
          accept_key: "1"
          context: {account: "{{account}}", intent: billing}
          no_answer: [{callback: {confirm: true}}]
      "9":
        callback:
          number: from
          confirm: true
          thanks: "We will call you back within the hour."
      "8":
        transfer: {to: "+15550001111", whisper: "Sales call"}
`

// handoffCaller is a caller who entered account 123456 and is at the agents menu.
func handoffCaller(t *testing.T, provider string) *caller {
	t.Helper()
	c := newCaller(t, handoffFlow, nil)
	c.call.Provider = provider
	c.step("", Input{})
	c.step(c.next(), Input{Digits: "123456"})
	if got := says(c.last); len(got) == 0 || !strings.Contains(got[0], "agent") {
		t.Fatalf("not at the agents menu: %q", got)
	}
	return c
}

func lastDial(t *testing.T, res Result) Dial {
	t.Helper()
	for _, s := range res.Steps {
		if d, ok := s.(Dial); ok {
			return d
		}
	}
	t.Fatalf("no dial in %v", summary(res.Steps))
	return Dial{}
}

func TestTransferWhisperDial(t *testing.T) {
	c := handoffCaller(t, "twilio")
	d := lastDial(t, c.step(c.next(), Input{Digits: "0"}))
	if !reflect.DeepEqual(d.Numbers, []string{"+15550001111"}) || d.TimeoutSeconds != 15 || d.AcceptKey != "1" {
		t.Errorf("sequential dial rings %v for %ds (accept %q), want the first number for 15s, accept 1", d.Numbers, d.TimeoutSeconds, d.AcceptKey)
	}
	want := []ContextValue{{"account", "123456"}, {"intent", "billing"}}
	if !reflect.DeepEqual(d.Context, want) {
		t.Errorf("context %v, want %v", d.Context, want)
	}
	if d.Whisper == nil || d.Whisper.Path != PathWhisper || !strings.Contains(d.Whisper.Query, "call=CA1") || !strings.Contains(d.Whisper.Query, "v=") {
		t.Fatalf("whisper target %+v: want whisper?call=CA1&...&v=", d.Whisper)
	}
	if strings.Contains(d.Whisper.Query, "123456") {
		t.Errorf("whisper URL carries the account in clear: %s", d.Whisper.Query)
	}
}

// The agent's leg has its own call id: the whisper still opens the caller's
// variables, and its events belong to the caller's call.
func TestWhisperTwilioAcceptDecline(t *testing.T) {
	c := handoffCaller(t, "twilio")
	d := lastDial(t, c.step(c.next(), Input{Digits: "0"}))
	c.call.ID = "CA-agent-leg"
	res := c.step(d.Whisper.String(), Input{})
	eqStrings(t, "whisper", says(res), []string{"Billing call, account 1 2 3 4 5 6", "Press 1 to take this call."})
	if res.CallID != "CA1" {
		t.Errorf("whisper events belong to %q, want the caller's CA1", res.CallID)
	}
	var g Gather
	for _, s := range res.Steps {
		if x, ok := s.(Gather); ok {
			g = x
		}
	}
	if g.NumDigits != 1 || g.Action.Path != PathWhisper || !strings.Contains(g.Action.Query, "step=answer") {
		t.Fatalf("whisper gather %+v", g)
	}
	if _, ok := res.Steps[len(res.Steps)-1].(Hangup); !ok {
		t.Errorf("no key at the whisper must hang up the agent's leg: %v", summary(res.Steps))
	}
	for _, tc := range []struct {
		digits, action string
		hangup         bool
	}{{"1", "whisper accepted", false}, {"2", "whisper declined", true}, {"", "whisper declined", true}} {
		res, err := c.f.Step(c.request(g.Action.String(), Input{Digits: tc.digits}))
		if err != nil {
			t.Fatal(err)
		}
		hung := len(res.Steps) == 1 && reflect.DeepEqual(res.Steps[0], Hangup{})
		if hung != tc.hangup || len(res.Steps) > 1 || len(res.Events) != 1 || res.Events[0].Action() != tc.action {
			t.Errorf("agent pressed %q: steps %v events %v", tc.digits, summary(res.Steps), actions(res.Events))
		}
	}
}

func TestWhisperPlivoLeavesKeyToConfirmKey(t *testing.T) {
	c := handoffCaller(t, "plivo")
	d := lastDial(t, c.step(c.next(), Input{Digits: "0"}))
	c.call.ID = "plivo-b-leg"
	res := c.step(d.Whisper.String(), Input{})
	eqStrings(t, "plivo whisper", summary(res.Steps), []string{"say(en-US)", "say(en-US)"})
	eqStrings(t, "plivo whisper text", says(res), []string{"Billing call, account 1 2 3 4 5 6", "Press 1 to take this call."})
}

func TestWhisperWithoutKeyJustSpeaks(t *testing.T) {
	c := handoffCaller(t, "twilio")
	d := lastDial(t, c.step(c.next(), Input{Digits: "8"}))
	if d.AcceptKey != "" || d.Context != nil {
		t.Errorf("dial %+v", d)
	}
	res := c.step(d.Whisper.String(), Input{})
	eqStrings(t, "whisper", summary(res.Steps), []string{"say(en-US)"})
}

func TestWhisperUnknownTransferFails(t *testing.T) {
	c := handoffCaller(t, "twilio")
	if _, err := c.f.Step(c.request(PathWhisper+"?ref=agents.9.0", Input{})); err == nil {
		t.Error("a whisper for a callback action: want an error (the server falls back)")
	}
}

// A declined or unanswered agent moves to the next number, then to no_answer.
func TestSequentialRingThenNoAnswer(t *testing.T) {
	c := handoffCaller(t, "twilio")
	c.step(c.next(), Input{Digits: "0"})
	var rung []string
	for _, status := range []string{"no-answer", "busy", "no-answer"} {
		rung = append(rung, lastDial(t, c.last).Numbers...)
		res, err := c.f.Step(Request{Call: c.call, Path: PathDialDone, Query: c.request(c.next(), Input{}).Query, DialStatus: status, Sealer: c.sealer})
		if err != nil {
			t.Fatal(err)
		}
		c.last = res
	}
	eqStrings(t, "rung in turn", rung, []string{"+15550001111", "sip:sales@pbx.example.com", "+15550002222"})
	// no_answer: a callback that reads the caller's number back.
	eqStrings(t, "no_answer", says(c.last), []string{"We will call you back at 1 5 5 5 1 2 3 4 5 6 7. Press 1 if that is right, or 2 to enter another number."})
	res := c.step(c.next(), Input{Digits: "1"})
	if res.Callback == nil || res.Callback.Number != "+15551234567" {
		t.Fatalf("callback %+v", res.Callback)
	}
	want := []ContextValue{{"account", "123456"}, {"intent", "billing"}}
	if !reflect.DeepEqual(res.Callback.Context, want) {
		t.Errorf("a callback in a transfer's no_answer takes its context: %v, want %v", res.Callback.Context, want)
	}
}

func TestSequentialConnectedHangsUp(t *testing.T) {
	c := handoffCaller(t, "plivo")
	c.step(c.next(), Input{Digits: "0"})
	res, err := c.f.Step(Request{Call: c.call, Path: PathDialDone, Query: c.request(c.next(), Input{}).Query, DialStatus: "completed", Sealer: c.sealer})
	if err != nil {
		t.Fatal(err)
	}
	eqStrings(t, "connected", summary(res.Steps), []string{"hangup"})
}

func TestCallbackEnterAnotherNumber(t *testing.T) {
	c := handoffCaller(t, "twilio")
	c.step(c.next(), Input{Digits: "9"})
	c.step(c.next(), Input{Digits: "2"})
	eqStrings(t, "enter", says(c.last), []string{callbackEnterText})
	c.step(c.next(), Input{Digits: "12"}) // too short: asked again
	eqStrings(t, "enter again", says(c.last), []string{callbackEnterText})
	c.step(c.next(), Input{Digits: "15559876543#"})
	eqStrings(t, "confirm entered", says(c.last), []string{"We will call you back at 1 5 5 5 9 8 7 6 5 4 3. Press 1 if that is right, or 2 to enter another number."})
	res := c.step(c.next(), Input{Digits: "1"})
	if res.Callback == nil || res.Callback.Number != "+15559876543" {
		t.Fatalf("callback %+v", res.Callback)
	}
	if !reflect.DeepEqual(res.Callback.Context, []ContextValue{{"account", "123456"}}) {
		t.Errorf("a callback without context keeps the call's variables: %v", res.Callback.Context)
	}
	eqStrings(t, "thanks", summary(res.Steps), []string{"say(en-US)", "hangup"})
	eqStrings(t, "thanks text", says(res), []string{"We will call you back within the hour."})
}

func TestCallbackAnonymousCallerAndGivingUp(t *testing.T) {
	c := handoffCaller(t, "twilio")
	c.call.From = "anonymous"
	c.step(c.next(), Input{Digits: "9"})
	eqStrings(t, "no caller id: asks", says(c.last), []string{callbackEnterText})
	for range maxCallbackTries {
		c.step(c.next(), Input{})
	}
	if c.last.Callback != nil {
		t.Fatal("no number: no callback")
	}
	eqStrings(t, "gives up", summary(c.last.Steps), []string{"say(en-US)", "hangup"})
}

func TestCallbackWithoutConfirmIsTakenAtOnce(t *testing.T) {
	f := testutil.MustParse(t, Parse, "entry: main\nmenus:\n  main:\n    greeting: hi\n    options:\n      \"9\": callback\n")
	s := newSim(t, f)
	s.answer()
	res := s.press("9")
	if res.Callback == nil || res.Callback.Number != "+15551234567" || res.Callback.Context != nil {
		t.Fatalf("callback %+v", res.Callback)
	}
	eqStrings(t, "steps", summary(res.Steps), []string{"say(en-US)", "hangup"})
}

func TestPhoneNumber(t *testing.T) {
	for in, want := range map[string]string{
		"+15551234567": "+15551234567", "15551234567": "+15551234567", "+1 (555) 123-4567": "+15551234567",
		"anonymous": "", "": "", "12": "", "+0123456789": "", "1234567890123456": "",
	} {
		if got := phoneNumber(in); got != want {
			t.Errorf("phoneNumber(%q) = %q, want %q", in, got, want)
		}
	}
}
