package ivr

import (
	"strings"
	"testing"
)

const inputFlow = `
entry: main
repeat_key: "*"
requests:
  account:
    url: "https://api.example.com/accounts/{{account}}"
    save: {status: status}
menus:
  main:
    greeting: "Press 1 for your account, or say account."
    speech: {min_confidence: 0.4}
    max_failures: 2
    on_max_failures: hangup
    options:
      "1": {do: {goto: account}, words: [account]}
      "2": hangup
  account:
    greeting: "Enter your account number."
    speech: true
    max_failures: 2
    on_max_failures: [{say: "Goodbye."}, hangup]
    on_max_timeouts: hangup
    collect:
      into: account
      min_digits: 4
      max_digits: 6
      confirm: "You entered {{account | digits}}. Press 1 if that is right, 2 to try again."
      do:
        - fetch: account
          on_error:
            - switch:
                - if: 'error == "not_found"'
                  do: [{say: "No such account."}, hangup]
                - if: 'error == "timeout"'
                  do: [{say: "Too slow: {{error}}."}, hangup]
                - else: [{say: "Sorry: {{error}}."}, hangup]
        - say: "Account {{status}}."
        - hangup
`

// eachProvider runs fn for a Twilio and a Plivo call.
func eachProvider(t *testing.T, fn func(t *testing.T, c *caller)) {
	for _, p := range []string{"twilio", "plivo"} {
		t.Run(p, func(t *testing.T) {
			c := newCaller(t, inputFlow, account("active", "1"))
			c.call.Provider = p
			fn(t, c)
		})
	}
}

func lastActions(res Result) []string {
	out := make([]string, 0, len(res.Events))
	for _, e := range res.Events {
		out = append(out, e.Input()+"|"+e.Action())
	}
	return out
}

// toAccount answers the call and presses 1: the account menu's prompt.
func toAccount(t *testing.T, c *caller) {
	t.Helper()
	c.step("", Input{})
	c.step(c.next(), Input{Digits: "1"})
	eqStrings(t, "account prompt", says(c.last), []string{"Enter your account number."})
}

func TestConfirmAccept(t *testing.T) {
	eachProvider(t, func(t *testing.T, c *caller) {
		toAccount(t, c)
		res := c.step(c.next(), Input{Digits: "1234#"})
		eqStrings(t, "read-back", says(res), []string{"You entered 1 2 3 4. Press 1 if that is right, 2 to try again."})
		eqStrings(t, "events", lastActions(res), []string{"4 digits|collected account", "|confirm"})
		g := res.Steps[0].(Gather)
		if g.NumDigits != 1 || g.FinishOnKey != "" || !strings.Contains(g.Action.Query, "confirm=1") {
			t.Errorf("read-back gather %+v", g)
		}
		if len(c.asked) != 0 {
			t.Fatalf("looked up before the value was confirmed: %v", c.asked)
		}
		res = c.step(c.next(), Input{Digits: "1"})
		eqStrings(t, "accepted", says(res), []string{"Account active."})
		if len(c.asked) != 1 || !strings.HasSuffix(c.asked[0].URL, "/accounts/1234") {
			t.Errorf("lookups %v", c.asked)
		}
		if got := lastActions(res)[0]; got != "1|confirmed" {
			t.Errorf("first event %q, want 1|confirmed", got)
		}
	})
}

func TestConfirmAcceptBySpeech(t *testing.T) {
	eachProvider(t, func(t *testing.T, c *caller) {
		toAccount(t, c)
		c.step(c.next(), Input{Speech: "one two three four"})
		res := c.step(c.next(), Input{Speech: "Yes, that's right", Confidence: 0.9, HasConfidence: true})
		eqStrings(t, "accepted", says(res), []string{"Account active."})
		if got := lastActions(res)[0]; got != "speech: yes|confirmed" {
			t.Errorf("first event %q", got)
		}
	})
}

func TestConfirmReject(t *testing.T) {
	eachProvider(t, func(t *testing.T, c *caller) {
		toAccount(t, c)
		c.step(c.next(), Input{Digits: "1234#"})
		res := c.step(c.next(), Input{Digits: "2"})
		eqStrings(t, "asked again", says(res), []string{"Enter your account number."})
		eqStrings(t, "events", lastActions(res), []string{"2|confirm rejected"})
		if q := res.Steps[0].(Gather).Action.Query; strings.Contains(q, "invalid=") || strings.Contains(q, "confirm=") {
			t.Errorf("a rejection counted a failure or kept waiting: %s", q)
		}
		c.step(c.next(), Input{Digits: "5678#"})
		c.step(c.next(), Input{Digits: "1"})
		if len(c.asked) != 1 || !strings.HasSuffix(c.asked[0].URL, "/accounts/5678") {
			t.Errorf("lookups %v", c.asked)
		}
	})
}

func TestConfirmSilence(t *testing.T) {
	eachProvider(t, func(t *testing.T, c *caller) {
		toAccount(t, c)
		c.step(c.next(), Input{Digits: "1234#"})
		res := c.step(c.next(), Input{}) // the Redirect after the Gather: same URL, no input
		eqStrings(t, "read-back again", says(res), []string{"You entered 1 2 3 4. Press 1 if that is right, 2 to try again."})
		eqStrings(t, "first silence", lastActions(res), []string{"timeout|timeout", "|confirm"})
		res = c.step(c.next(), Input{})
		eqStrings(t, "asked again", says(res), []string{"Enter your account number."})
		eqStrings(t, "second silence", lastActions(res), []string{"timeout|confirm rejected"})
		if q := res.Steps[0].(Gather).Action.Query; strings.Contains(q, "timeouts=") || strings.Contains(q, "invalid=") {
			t.Errorf("silence at the read-back counted against the menu: %s", q)
		}
	})
}

func TestConfirmWrongKey(t *testing.T) {
	eachProvider(t, func(t *testing.T, c *caller) {
		toAccount(t, c)
		c.step(c.next(), Input{Digits: "1234#"})
		res := c.step(c.next(), Input{Digits: "7"})
		eqStrings(t, "wrong key", lastActions(res), []string{"7|invalid", "|confirm"})
		res = c.step(c.next(), Input{Digits: "9"})
		eqStrings(t, "second wrong key", says(res), []string{"Goodbye."})
	})
}

func TestRepeatKey(t *testing.T) {
	eachProvider(t, func(t *testing.T, c *caller) {
		c.step("", Input{})
		res := c.step(c.next(), Input{Digits: "*"})
		eqStrings(t, "replayed", says(res), []string{"Press 1 for your account, or say account."})
		eqStrings(t, "events", lastActions(res), []string{"*|repeat_key"})
		// Twice more: a failure would have ended the call (max_failures: 2).
		c.step(c.next(), Input{Digits: "*"})
		res = c.step(c.next(), Input{Digits: "*#"})
		if q := res.Steps[0].(Gather).Action.Query; strings.Contains(q, "invalid=") || strings.Contains(q, "timeouts=") {
			t.Errorf("the repeat key counted a failure: %s", q)
		}
		res = c.step(c.next(), Input{Digits: "7"})
		eqStrings(t, "a wrong key still counts", lastActions(res), []string{"7|invalid"})
		// At a collect's read-back the repeat key says the read-back again.
		c.step(c.next(), Input{Digits: "1"})
		c.step(c.next(), Input{Digits: "*"})
		eqStrings(t, "collect prompt replayed", says(c.last), []string{"Enter your account number."})
		c.step(c.next(), Input{Digits: "1234#"})
		res = c.step(c.next(), Input{Digits: "*"})
		eqStrings(t, "read-back replayed", says(res), []string{"You entered 1 2 3 4. Press 1 if that is right, 2 to try again."})
		eqStrings(t, "events", lastActions(res), []string{"*|repeat_key", "|confirm"})
	})
}

func TestMinConfidence(t *testing.T) {
	eachProvider(t, func(t *testing.T, c *caller) {
		c.step("", Input{})
		res := c.step(c.next(), Input{Speech: "account", Confidence: 0.2, HasConfidence: true})
		eqStrings(t, "low confidence", lastActions(res), []string{"speech (confidence 0.20)|invalid"})
		eqStrings(t, "keypad prompt", says(res), []string{DefaultKeypadPrompt, "Press 1 for your account, or say account."})
		g := res.Steps[0].(Gather)
		if g.Speech || !g.DTMF || !strings.Contains(g.Action.Query, "keys=1") {
			t.Errorf("after a low-confidence answer the menu takes keys only: %+v", g)
		}
		res = c.step(c.next(), Input{Digits: "1"})
		eqStrings(t, "keys work", says(res), []string{"Enter your account number."})

		c.step("", Input{})
		res = c.step(c.next(), Input{Speech: "account", Confidence: 0.9, HasConfidence: true})
		eqStrings(t, "confident", lastActions(res)[:1], []string{"speech: account|option 1"})
		if c := res.Events[0].Confidence; c != 0.9 {
			t.Errorf("the speech event keeps confidence %v, want 0.9 (replay judges it again)", c)
		}
		c.step("", Input{})
		res = c.step(c.next(), Input{Speech: "account"})
		eqStrings(t, "no confidence reported", lastActions(res)[:1], []string{"speech: account|option 1"})
	})
}

func TestMinConfidenceMaxFailures(t *testing.T) {
	c := newCaller(t, inputFlow, account("active", "1"))
	c.step("", Input{})
	c.step(c.next(), Input{Speech: "account", Confidence: 0.1, HasConfidence: true})
	res := c.step(c.next(), Input{Digits: "9"})
	eqStrings(t, "failures end the menu", lastActions(res), []string{"9|invalid", "|max_failures", "|hangup"})
}

func TestOnErrorKinds(t *testing.T) {
	for _, tt := range []struct {
		fail Failure
		say  string
	}{
		{FailNotFound, "No such account."},
		{FailTimeout, "Too slow: timeout."},
		{FailUnavailable, "Sorry: unavailable."},
		{FailRefused, "Sorry: refused."},
		{"", "Sorry: unavailable."},
	} {
		t.Run(string(tt.fail), func(t *testing.T) {
			c := newCaller(t, inputFlow, func(l Lookup) LookupResult { return LookupResult{Request: l.Request, Failure: tt.fail} })
			toAccount(t, c)
			c.step(c.next(), Input{Digits: "1234#"})
			res := c.step(c.next(), Input{Digits: "1"})
			eqStrings(t, "on_error", says(res), []string{tt.say})
		})
	}
	t.Run("missing field", func(t *testing.T) {
		c := newCaller(t, inputFlow, func(l Lookup) LookupResult { return LookupResult{Request: l.Request, OK: true} })
		toAccount(t, c)
		c.step(c.next(), Input{Digits: "1234#"})
		eqStrings(t, "on_error", says(c.step(c.next(), Input{Digits: "1"})), []string{"Sorry: bad_answer."})
	})
}

func TestOnErrorRefusedLocally(t *testing.T) {
	src := strings.Replace(inputFlow, `url: "https://api.example.com/accounts/{{account}}"`,
		`url: "https://api.example.com/accounts/{{account}}"
    headers: {Authorization: "Bearer {{secret.UNSET}}"}`, 1)
	c := newCaller(t, src, account("active", "1"))
	toAccount(t, c)
	c.step(c.next(), Input{Digits: "1234#"})
	res := c.step(c.next(), Input{Digits: "1"})
	eqStrings(t, "a secret not set", says(res), []string{"Sorry: refused."})
	if len(c.asked) != 0 {
		t.Errorf("sent without its secret: %v", c.asked)
	}
}

func TestCheckInputControls(t *testing.T) {
	base := `
entry: main
menus:
  main:
    greeting: "Hi."
    options: {"1": hangup, "*": hangup}
`
	tests := []struct{ name, src, want string }{
		{"repeat key chooses an option", "repeat_key: \"*\"\n" + base, `the flow's repeat_key * also chooses option "*"`},
		{"repeat key is not a key", "repeat_key: \"ab\"\n" + base, `repeat_key "ab" must be one key`},
		{"error outside on_error", base + "    short_greeting: \"{{error}}\"\n", "{{error}} is only known in a fetch's on_error"},
		{"error variable", base + "  m2:\n    greeting: x\n    options: {\"1\": [{set: {error: x}}, hangup]}\n", `"error" is a reserved name`},
		{"min confidence range", strings.Replace(base, `greeting: "Hi."`, "greeting: \"Hi.\"\n    speech: {min_confidence: 1.5}", 1), "min_confidence must be a number between 0 and 1"},
		{"keypad prompt alone", strings.Replace(base, `greeting: "Hi."`, "greeting: \"Hi.\"\n    speech: {keypad_prompt: \"Keys.\"}", 1), "keypad_prompt is said when"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tt.src))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want a problem with %q", err, tt.want)
			}
		})
	}
	conds := []struct{ name, cond, want string }{
		{"unknown failure", `error == "notfound"`, `error is never "notfound": it is one of not_found, timeout, unavailable, bad_answer, refused; did you mean "not_found"?`},
		{"outside on_error", "", "error is only known in a fetch's on_error"},
	}
	for _, tt := range conds {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.Replace(inputFlow, `'error == "not_found"'`, "'"+tt.cond+"'", 1)
			if tt.cond == "" {
				src = strings.Replace(inputFlow, `- say: "Account {{status}}."`, `- switch: [{if: 'error == "timeout"', do: hangup}]`, 1)
			}
			_, err := Parse("t.yaml", []byte(src))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want a problem with %q", err, tt.want)
			}
		})
	}
	t.Run("per-menu repeat key off", func(t *testing.T) {
		src := "repeat_key: \"*\"\n" + strings.Replace(base, `greeting: "Hi."`, "greeting: \"Hi.\"\n    repeat_key: \"\"", 1)
		f, err := Parse("t.yaml", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		if f.RepeatKey != "*" || f.Menu("main").RepeatKey != "" {
			t.Errorf("repeat keys %q %q", f.RepeatKey, f.Menu("main").RepeatKey)
		}
	})
}

// TestExampleTellsFailuresApart: the example's account lookup tells "no
// such account" (a 404) from a system that does not answer.
func TestExampleTellsFailuresApart(t *testing.T) {
	for _, tt := range []struct {
		fail Failure
		say  string
		last string
	}{
		{FailNotFound, "Sorry, we could not find that account.", "redirect"},
		{FailTimeout, "Our account system is not answering right now. Let me connect you with someone who can help.", "dial"},
		{FailUnavailable, "Our account system is not answering right now. Let me connect you with someone who can help.", "dial"},
	} {
		t.Run(string(tt.fail), func(t *testing.T) {
			c := &caller{t: t, f: mustExample(t), sealer: testSealer(t), call: Call{Provider: "twilio", ID: "x", From: "+15551234567", To: "+15550100001", Now: openTime},
				fn: func(l Lookup) LookupResult { return LookupResult{Request: l.Request, Failure: tt.fail} }}
			c.step("", Input{})
			res := c.step(c.next(), Input{Digits: "999999#"})
			if got := says(res); len(got) == 0 || got[0] != tt.say {
				t.Errorf("says %q, want %q first", got, tt.say)
			}
			if got := summary(res.Steps); !strings.HasPrefix(got[len(got)-1], tt.last) {
				t.Errorf("steps %v, want the last to be %s", got, tt.last)
			}
		})
	}
}
