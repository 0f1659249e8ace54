package ivr

import (
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/testutil"
)

const logicFlow = `
entry: main
call_center: "+15550001111"
languages: {es-ES: Polly.Conchita}
numbers:
  "+15550000002": {entry: accounts, language: es-ES}
  "+15550000003": accounts
requests:
  account:
    url: "https://api.example.com/accounts/{{account}}?from={{from}}"
    headers: {Authorization: "Bearer {{secret.CRM_TOKEN}}", X-Caller: "{{from}}"}
    timeout: 2s
    save: {status: account.status, balance: account.balance}
  note:
    method: POST
    url: "https://api.example.com/notes/{{secret.TENANT}}"
    body: {account: "{{account}}", n: 3, ok: true, none: null, tags: ["ivr", "{{status}}"], who: {from: "{{from}}"}}
    save: {ticket: id}
  demo:
    url: "{{demo_api}}/accounts/{{account}}"
    save: {status: account.status}
menus:
  main:
    greeting: "Press 1 for accounts."
    options:
      "1": {goto: accounts}
      "2":
        - set: {account: "00042", status: "new"}
        - fetch: note
          on_error: [{say: "No note."}]
        - say: "Ticket {{ticket}}."
        - hangup
      "3":
        - set: {account: "{{from}}"}
        - fetch: demo
          on_error: [{say: "No demo."}, hangup]
        - say: "Demo {{status}}."
        - hangup
      "4":
        - set: {account: "1"}
        - fetch: demo
        - fetch: demo
        - fetch: demo
        - fetch: demo
        - fetch: demo
        - fetch: demo
        - hangup
  accounts:
    greeting: "Enter your account number, then press pound."
    short_greeting: "Account {{account}}. Another?"
    invalid_prompt: "That is not an account number."
    speech: true
    max_failures: 2
    on_max_failures: [{say: "Goodbye."}, hangup]
    collect:
      into: account
      min_digits: 6
      max_digits: 8
      do:
        - fetch: account
          on_error: [{say: "We cannot look that up now."}, {transfer: call_center}]
        - set: {greeted: "yes {{status}}"}
        - switch:
            - if: 'status == "active" && balance > 0'
              do: [{say: "You owe {{balance}} dollars."}, hangup]
            - if: 'status == "suspended"'
              do: {transfer: {to: call_center, no_answer: [{say: "Busy, {{greeted}}."}, hangup]}}
            - if: 'balance == 0'
              do: [{say: "Nothing owed."}]
            - else: [{say: "Good standing."}, top]
        - say: "Back, {{greeted}}."
`

var testSecrets = map[string]string{"CRM_TOKEN": "tok-SECRET", "TENANT": "t/1"}

// caller runs a call through a flow, answering lookups with fn.
type caller struct {
	t      *testing.T
	f      *Flow
	call   Call
	sealer Sealer
	fn     func(Lookup) LookupResult
	asked  []Lookup
	last   Result
}

func newCaller(t *testing.T, src string, fn func(Lookup) LookupResult) *caller {
	t.Helper()
	return &caller{t: t, f: testutil.MustParse(t, Parse, src), sealer: testSealer(t), fn: fn,
		call: Call{Provider: "twilio", ID: "CA1", From: "+15551234567", To: "+15550009999", Now: openTime}}
}

func (c *caller) request(target string, in Input) Request {
	path, query, _ := strings.Cut(target, "?")
	q, err := url.ParseQuery(query)
	if err != nil {
		c.t.Fatal(err)
	}
	return Request{Call: c.call, Path: path, Query: q, Input: in, Sealer: c.sealer, DemoAPI: "http://127.0.0.1:8080/demo",
		Secrets: func(name string) (string, bool) { v, ok := testSecrets[name]; return v, ok }}
}

// step runs one webhook to the end, performing every lookup asked.
func (c *caller) step(target string, in Input) Result {
	c.t.Helper()
	res, err := c.try(c.request(target, in))
	if err != nil {
		c.t.Fatalf("step %s %+v: %v", target, in, err)
	}
	return res
}

func (c *caller) try(req Request) (Result, error) {
	c.asked = nil
	for {
		res, err := c.f.Step(req)
		if err != nil {
			return res, err
		}
		if res.Need == nil {
			if len(res.Steps) == 0 {
				c.t.Fatalf("no steps and no lookup needed")
			}
			c.last = res
			return res, nil
		}
		if len(res.Steps) != 0 || len(res.Events) != 0 {
			c.t.Fatalf("a lookup is needed, yet steps %v", summary(res.Steps))
		}
		if res.Need.Unsent != "" { // nothing is sent: its own result
			req.Lookups = append(req.Lookups, res.Need.UnsentResult())
			continue
		}
		c.asked = append(c.asked, *res.Need)
		req.Lookups = append(req.Lookups, c.fn(*res.Need))
	}
}

// next is the action URL of the last result's Gather (or Redirect, Dial,
// Record).
func (c *caller) next() string {
	for _, s := range c.last.Steps {
		switch s := s.(type) {
		case Gather:
			return s.Action.String()
		case Dial:
			return s.Action.String()
		case Record:
			return s.Action.String()
		case Redirect:
			return s.Target.String()
		}
	}
	c.t.Fatalf("no action URL in %v", summary(c.last.Steps))
	return ""
}

func says(res Result) []string {
	var out []string
	var walk func(ss []Step)
	walk = func(ss []Step) {
		for _, s := range ss {
			switch s := s.(type) {
			case Say:
				out = append(out, s.Text)
			case Gather:
				walk(s.Prompts)
			}
		}
	}
	walk(res.Steps)
	return out
}

func account(status, balance string) func(Lookup) LookupResult {
	return func(l Lookup) LookupResult {
		return LookupResult{Request: l.Request, OK: true, Values: map[string]string{"status": status, "balance": balance, "ticket": "T-1"}}
	}
}

func TestCollectFetchSwitch(t *testing.T) {
	tests := []struct {
		name    string
		fn      func(Lookup) LookupResult
		digits  string
		says    []string
		last    string   // summary of the last step
		actions []string // events' actions in order
	}{
		{
			name: "active with a balance", fn: account("active", "42.50"), digits: "12345678#",
			says: []string{"You owe 42.50 dollars."}, last: "hangup",
			actions: []string{"collected account", "fetch account: ok", "set greeted", `switch: 1 status == "active" && balance > 0`, "say", "hangup"},
		},
		{
			name: "numbers compare as numbers", fn: account("active", "0.00"), digits: "123456",
			says: []string{"Nothing owed.", "Back, yes active.", "Account 123456. Another?"}, last: "redirect",
			actions: []string{"collected account", "fetch account: ok", "set greeted", "switch: 3 balance == 0", "say", "say", "repeat"},
		},
		{
			name: "else, then top", fn: account("closed", "abc"), digits: "1234567",
			says: []string{"Good standing.", "Press 1 for accounts."}, last: "redirect",
			actions: []string{"collected account", "fetch account: ok", "set greeted", "switch: else", "say", "top", "enter"},
		},
		{
			name: "suspended transfers", fn: account("suspended", "5"), digits: "12345678",
			last: "dial", actions: []string{"collected account", "fetch account: ok", "set greeted", `switch: 2 status == "suspended"`, "transfer +15550001111"},
		},
		{
			name: "lookup failed runs on_error", fn: func(l Lookup) LookupResult { return LookupResult{Request: l.Request} }, digits: "12345678",
			says: []string{"We cannot look that up now."}, last: "dial",
			actions: []string{"collected account", "fetch account: failed (lookup failed), on_error", "say", "transfer +15550001111"},
		},
		{
			name: "a missing save field is a failure", fn: func(l Lookup) LookupResult {
				return LookupResult{Request: l.Request, OK: true, Values: map[string]string{"status": "active"}}
			}, digits: "12345678",
			says: []string{"We cannot look that up now."}, last: "dial",
			actions: []string{"collected account", "fetch account: failed (no balance in the answer), on_error", "say", "transfer +15550001111"},
		},
		{
			name: "spoken digits", fn: account("active", "1"), digits: "", says: []string{"You owe 1 dollars."}, last: "hangup",
			actions: []string{"collected account", "fetch account: ok", "set greeted", `switch: 1 status == "active" && balance > 0`, "say", "hangup"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCaller(t, logicFlow, tt.fn)
			c.step("", Input{})
			c.step(c.next(), Input{Digits: "1"})
			in := Input{Digits: tt.digits}
			if tt.digits == "" {
				in = Input{Speech: "1 2 3 4 5 6 7"}
			}
			res := c.step(c.next(), in)
			if got := says(res); !reflect.DeepEqual(got, tt.says) {
				t.Errorf("says %q, want %q", got, tt.says)
			}
			if got := summary(res.Steps); !strings.HasPrefix(got[len(got)-1], tt.last) {
				t.Errorf("steps %v, want last %s", got, tt.last)
			}
			var acts []string
			for _, e := range res.Events {
				acts = append(acts, e.Action())
				if strings.Contains(e.Input()+e.Action(), "1234567") {
					t.Errorf("event shows the collected value: %+v", e)
				}
			}
			if !reflect.DeepEqual(acts, tt.actions) {
				t.Errorf("events %q\nwant %q", acts, tt.actions)
			}
			if len(c.asked) != 1 {
				t.Fatalf("asked %d lookups, want 1", len(c.asked))
			}
		})
	}
}

func TestLookupAsked(t *testing.T) {
	c := newCaller(t, logicFlow, account("active", "0"))
	c.call.From = "+1555 & x=1/../?#"
	c.step("menu/accounts", Input{Digits: "00123456"})
	want := Lookup{
		Request: "account", Method: "GET",
		URL:     "https://api.example.com/accounts/00123456?from=%2B1555%20%26%20x%3D1%2F..%2F%3F%23",
		Headers: map[string]string{"Authorization": "Bearer tok-SECRET", "X-Caller": "+1555 & x=1/../?#"},
		Timeout: 2 * time.Second,
		Save:    map[string]string{"status": "account.status", "balance": "account.balance"},
	}
	if len(c.asked) != 1 || !reflect.DeepEqual(c.asked[0], want) {
		t.Errorf("asked %+v\nwant %+v", c.asked, want)
	}

	c.fn = func(l Lookup) LookupResult {
		return LookupResult{Request: l.Request, OK: true, Values: map[string]string{"ticket": "T-9"}}
	}
	res := c.step("menu/main", Input{Digits: "2"})
	if got := string(c.asked[0].Body); got != `{"account":"00042","n":3,"ok":true,"none":null,"tags":["ivr","new"],"who":{"from":"+1555 \u0026 x=1/../?#"}}` {
		t.Errorf("body %s", got)
	}
	if c.asked[0].Method != "POST" || c.asked[0].URL != "https://api.example.com/notes/t%2F1" || c.asked[0].Timeout != 3*time.Second {
		t.Errorf("note lookup %+v", c.asked[0])
	}
	if got := says(res); !reflect.DeepEqual(got, []string{"Ticket T-9."}) {
		t.Errorf("says %q", got)
	}
}

func TestLookupLocalFailures(t *testing.T) {
	c := newCaller(t, logicFlow, account("active", "1"))
	// The demo API: filled from Request.DemoAPI.
	res := c.step("menu/main", Input{Digits: "3"})
	if len(c.asked) != 1 || c.asked[0].URL != "http://127.0.0.1:8080/demo/accounts/%2B15551234567" {
		t.Fatalf("asked %+v", c.asked)
	}
	if got := says(res); !reflect.DeepEqual(got, []string{"Demo active."}) {
		t.Errorf("says %q", got)
	}
	// No demo API here: the fetch fails without asking.
	// (Step asks for it as Unsent, so that the results never shift; the
	// caller sends nothing.)
	req := c.request("menu/main", Input{Digits: "3"})
	req.DemoAPI = ""
	res, err := c.try(req)
	if err != nil || len(c.asked) != 0 || !slices.Contains(says(res), "No demo.") {
		t.Errorf("without a demo API: %v %+v, sent %v", err, res, c.asked)
	}
	// A missing secret: the fetch fails without asking.
	req = c.request("menu/accounts", Input{Digits: "12345678"})
	req.Secrets = nil
	res, err = c.try(req)
	if err != nil || len(c.asked) != 0 || !slices.Contains(says(res), "We cannot look that up now.") {
		t.Errorf("without secrets: %v %+v, sent %v", err, res, c.asked)
	}
	for _, e := range res.Events {
		if strings.Contains(e.Action(), "tok-SECRET") {
			t.Errorf("event shows a secret: %+v", e)
		}
	}
	// More than MaxLookupsPerStep in one step is an error.
	if _, err := c.try(c.request("menu/main", Input{Digits: "4"})); err == nil || !strings.Contains(err.Error(), "more than 5 lookups") {
		t.Errorf("six lookups: %v", err)
	}
	// A result for another request is an error.
	req = c.request("menu/accounts", Input{Digits: "12345678"})
	req.Lookups = []LookupResult{{Request: "note", OK: true}}
	if _, err := c.f.Step(req); err == nil {
		t.Error("a result for another request was accepted")
	}
}

func TestCollectWrongLengths(t *testing.T) {
	c := newCaller(t, logicFlow, account("active", "1"))
	res := c.step("menu/accounts", Input{Digits: "123#"})
	if got := says(res); !reflect.DeepEqual(got, []string{"That is not an account number.", "Account . Another?"} /* unset = empty */) {
		t.Errorf("says %q", got)
	}
	if e := res.Events[0]; e.Input() != "3 digits" || e.Action() != "invalid" {
		t.Errorf("event %+v", e)
	}
	if !strings.Contains(c.next(), "invalid=1") {
		t.Errorf("next %s", c.next())
	}
	res = c.step(c.next(), Input{Digits: "12*34567"})
	if got := says(res); !reflect.DeepEqual(got, []string{"Goodbye."}) || res.Events[0].Input() != "unreadable keys" {
		t.Errorf("second wrong entry: %q %+v", got, res.Events)
	}
	// Spoken digits: numerals and digit words.
	for in, want := range map[string]string{"1 2 3 4 5 6": "6 digits", "one two three four five six seven": "7 digits", "cero uno 2 3 4 5": "6 digits", "123456": "6 digits"} {
		res = c.step("menu/accounts?attempt=1", Input{Speech: in})
		if e := res.Events[0]; e.Input() != "speech: "+want || e.Action() != "collected account" {
			t.Errorf("speech %q: event %+v", in, e)
		}
	}
	// Too long; and speech with no digits.
	for _, in := range []Input{{Digits: "123456789"}, {Speech: "my account please"}} {
		res = c.step("menu/accounts?attempt=1", in)
		if res.Events[0].Action() != "invalid" {
			t.Errorf("%+v: events %+v", in, res.Events)
		}
	}
	// The Gather collects up to max_digits, ended by the finish key.
	c.step("menu/accounts", Input{})
	g := c.last.Steps[0].(Gather)
	if g.NumDigits != 8 || g.FinishOnKey != "#" || !g.Speech || !g.DTMF {
		t.Errorf("gather %+v", g)
	}
}

func TestNumbers(t *testing.T) {
	for _, tt := range []struct{ provider, to, menu, lang string }{
		{"twilio", "+15550000002", "accounts", "es-ES"},
		{"plivo", "15550000002", "accounts", "es-ES"},
		{"twilio", "+15550000003", "accounts", "en-US"},
		{"plivo", "15550000003", "accounts", "en-US"},
		{"twilio", "+15550000004", "main", "en-US"},
		{"plivo", "", "main", "en-US"},
	} {
		c := newCaller(t, logicFlow, nil)
		c.call.Provider, c.call.To = tt.provider, tt.to
		c.step("", Input{})
		want := "menu/" + tt.menu + "?attempt=1&lang=" + tt.lang
		if got := c.next(); got != want {
			t.Errorf("%s %q: next %s, want %s", tt.provider, tt.to, got, want)
		}
		// top goes back to the number's entry.
		if tt.menu == "accounts" {
			c.fn = account("closed", "1")
			c.step(c.next(), Input{Digits: "12345678"})
			if got := c.next(); !strings.HasPrefix(got, "menu/accounts?attempt=1&lang="+tt.lang) {
				t.Errorf("%s %q: after top %s", tt.provider, tt.to, got)
			}
		}
	}
}

func TestFlowSecrets(t *testing.T) {
	f := testutil.MustParse(t, Parse, logicFlow)
	if got := f.Secrets(); !reflect.DeepEqual(got, []string{"CRM_TOKEN", "TENANT"}) {
		t.Errorf("Secrets() = %q", got)
	}
	if got := mustExample(t).Secrets(); len(got) != 0 {
		t.Errorf("example Secrets() = %q", got)
	}
}

// TestExampleAccountLookup walks the example flow's account lookup as the
// demo API answers it.
func TestExampleAccountLookup(t *testing.T) {
	demo := map[string]map[string]string{
		"123456": {"status": "active", "balance": "42.50", "name": "Ada Lovelace"},
		"234567": {"status": "active", "balance": "0", "name": "Alan Turing"},
		"345678": {"status": "suspended", "balance": "310.25", "name": "Grace Hopper"},
	}
	answer := func(l Lookup) LookupResult {
		if l.Request == "callback" {
			return LookupResult{Request: l.Request, OK: true, Values: map[string]string{"ticket": "T-7"}}
		}
		v, ok := demo[l.URL[strings.LastIndex(l.URL, "/")+1:]]
		if !ok {
			return LookupResult{Request: l.Request, Failure: FailNotFound} // the demo API answers 404
		}
		return LookupResult{Request: l.Request, OK: ok, Values: v}
	}
	for _, tt := range []struct {
		account string
		says    []string
		asked   []string
		last    string
	}{
		{"123456#", []string{"Hello Ada Lovelace. The balance of account 1 2 3 4 5 6 is 42.50 dollars.", "To check another account, enter its number and press pound, or stay silent to return to billing."},
			[]string{"GET http://127.0.0.1:8080/demo/accounts/123456"}, "redirect"},
		{"234567", []string{"Hello Alan Turing. Account 2 3 4 5 6 7 is paid up. Thank you!", "To check another account, enter its number and press pound, or stay silent to return to billing."},
			[]string{"GET http://127.0.0.1:8080/demo/accounts/234567"}, "redirect"},
		{"345678", []string{"This account is suspended. We will call you back; your reference is T 7. Goodbye."},
			[]string{"GET http://127.0.0.1:8080/demo/accounts/345678", `POST http://127.0.0.1:8080/demo/callbacks {"account":"345678","caller":"+15551234567","reason":"suspended"}`}, "hangup"},
		{"999999", []string{"Sorry, we could not find that account.", "To check another account, enter its number and press pound, or stay silent to return to billing."},
			[]string{"GET http://127.0.0.1:8080/demo/accounts/999999"}, "redirect"},
	} {
		c := &caller{t: t, f: mustExample(t), sealer: testSealer(t), fn: answer, call: Call{Provider: "plivo", ID: "x", From: "+15551234567", To: "15550100001", Now: openTime}}
		c.step("", Input{}) // numbers: this number starts at the account menu
		if !strings.HasPrefix(c.next(), "menu/account?") {
			t.Fatalf("entry %s", c.next())
		}
		res := c.step(c.next(), Input{Digits: tt.account})
		if got := says(res); !reflect.DeepEqual(got, tt.says) {
			t.Errorf("%s: says %q\nwant %q", tt.account, got, tt.says)
		}
		var asked []string
		for _, l := range c.asked {
			a := l.Method + " " + l.URL
			if l.Body != nil {
				a += " " + string(l.Body)
			}
			asked = append(asked, a)
		}
		if !reflect.DeepEqual(asked, tt.asked) {
			t.Errorf("%s: asked %q\nwant %q", tt.account, asked, tt.asked)
		}
		if got := summary(res.Steps); !strings.HasPrefix(got[len(got)-1], tt.last) {
			t.Errorf("%s: steps %v", tt.account, got)
		}
	}
}

// A value URL-encoded into a request's path cannot change which resource it
// names: a whole segment that comes out empty, "." or ".." fails the fetch
// without asking (its on_error runs); dots inside a segment are fine.
func TestLookupURLDotSegments(t *testing.T) {
	for _, tc := range []struct {
		from, url string // url "" = not asked
	}{
		{"..", ""},
		{".", ""},
		{"", ""},
		{"..x", "http://127.0.0.1:8080/demo/accounts/..x"},
		{"a.b", "http://127.0.0.1:8080/demo/accounts/a.b"},
		{"../admin", "http://127.0.0.1:8080/demo/accounts/..%2Fadmin"},
	} {
		c := newCaller(t, logicFlow, account("active", "1"))
		c.call.From = tc.from
		res := c.step("menu/main", Input{Digits: "3"})
		switch {
		case tc.url == "" && (len(c.asked) != 0 || !slices.Contains(says(res), "No demo.")):
			t.Errorf("from %q: asked %+v, says %q; want no lookup and on_error", tc.from, c.asked, says(res))
		case tc.url != "" && (len(c.asked) != 1 || c.asked[0].URL != tc.url):
			t.Errorf("from %q: asked %+v, want %s", tc.from, c.asked, tc.url)
		}
	}
	// In the query a dot or an empty value is only a value.
	got, ok := expandURL("https://h/a/{{x}}/b?q={{x}}#{{x}}", func(string) string { return ".." })
	if ok {
		t.Errorf("a .. segment in the path was accepted: %s", got)
	}
	got, ok = expandURL("https://h/a/b?q={{x}}&r={{x}}", func(string) string { return "" })
	if !ok || got != "https://h/a/b?q=&r=" {
		t.Errorf("empty query values: %s %v", got, ok)
	}
}

// TestStepConcurrent: one parsed flow serves many calls at once (conditions,
// sealing and lookups share nothing per call); run with -race.
func TestStepConcurrent(t *testing.T) {
	f := testutil.MustParse(t, Parse, logicFlow)
	box := testSealer(t)
	done := make(chan error)
	for g := range 8 {
		go func() {
			var err error
			for i := 0; i < 50 && err == nil; i++ {
				req := Request{
					Call:    Call{Provider: "twilio", From: "+15551234567", To: "+15550000002", Now: openTime},
					Path:    "menu/accounts",
					Input:   Input{Digits: "1234567"},
					Secrets: func(string) (string, bool) { return "x", true },
					Sealer:  box,
				}
				var res Result
				for res, err = f.Step(req); err == nil && res.Need != nil; res, err = f.Step(req) {
					req.Lookups = append(req.Lookups, account([]string{"active", "suspended", "x"}[(g+i)%3], "1")(*res.Need))
				}
			}
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
