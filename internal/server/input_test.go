package server

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ivr-project/ivr/internal/carrier"
	"github.com/ivr-project/ivr/internal/testutil"
)

// inputFlow exercises the caller's input controls through the real
// application: a flow-wide repeat key, speech judged by its confidence, a
// read-back of the account number, and lookups whose on_error (WHY)
// switches on error. CLOSED is a local address nothing listens on.
const inputFlow = `
entry: main
repeat_key: "*"
requests:
  account:
    url: "{{demo_api}}/accounts/{{account}}"
    timeout: 300ms
    save: {status: account.status}
  backup:
    url: "http://CLOSED/accounts/{{account}}"
    save: {status: account.status}
menus:
  main:
    greeting: "Press 1 for your account, 2 for the backup system, or say account."
    speech: {min_confidence: 0.4}
    max_failures: 2
    on_max_failures: hangup
    options:
      "1": {do: {goto: account}, words: [account]}
      "2": {do: {goto: backup}, words: [backup]}
  account:
    greeting: "Enter your account number."
    on_max_failures: hangup
    on_max_timeouts: hangup
    collect:
      into: account
      min_digits: 6
      max_digits: 6
      confirm: "You entered {{account | digits}}. Press 1 if that is right, 2 to try again."
      do:
        - fetch: account
          on_error: WHY
        - say: "Account {{status}}."
        - hangup
  backup:
    greeting: "Enter your account number for the backup system."
    on_max_failures: hangup
    on_max_timeouts: hangup
    collect:
      into: account
      min_digits: 6
      max_digits: 6
      do:
        - fetch: backup
          on_error: WHY
        - hangup
`

// inputWhy is the on_error of both fetches: one branch per failure.
const inputWhy = `
            - switch:
                - if: 'error == "not_found"'
                  do: [{say: "No such account."}, hangup]
                - if: 'error == "timeout"'
                  do: [{say: "The system is slow."}, hangup]
                - if: 'error == "unavailable"'
                  do: [{say: "The system is down."}, hangup]
                - else: [{say: "Sorry, {{error}}."}, hangup]`

// inputApp serves inputFlow with api as its {{demo_api}}.
func inputApp(t *testing.T, api *accountAPI) *testApp {
	t.Helper()
	src := strings.NewReplacer("CLOSED", testutil.ClosedAddr(t), " WHY", inputWhy).Replace(inputFlow)
	path := filepath.Join(t.TempDir(), "flow.yaml")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return newTestApp(t, withLookupsFrom(t, path, api, nil))
}

// phone plays one call against the test app as provider would.
type phone struct {
	t        *testing.T
	a        *testApp
	provider string
	names    carrier.Names
	doc      *node
	body     string
}

func dial(t *testing.T, a *testApp, provider string) *phone {
	p := &phone{t: t, a: a, provider: provider, names: carrier.TwilioNames}
	if provider == "plivo" {
		p.names = carrier.PlivoNames
	}
	p.post("/"+provider+"/voice", nil)
	return p
}

func (p *phone) post(path string, in url.Values) {
	p.t.Helper()
	form := callForm(p.provider)
	for k, v := range in {
		form[k] = v
	}
	p.body = p.a.serve(p.a.request(p.provider, http.MethodPost, strings.TrimPrefix(path, testPublic), form)).Body.String()
	p.doc = parseXML(p.t, p.body)
	if n := testutilCount(p.a); n != 0 {
		p.t.Fatalf("answered the fallback:\n%s", p.body)
	}
}

func (p *phone) action() string {
	p.t.Helper()
	next := gatherAction(p.doc)
	if next == "" {
		p.t.Fatalf("no gather in:\n%s", p.body)
	}
	return next
}

func (p *phone) press(keys string) {
	p.t.Helper()
	p.post(p.action(), url.Values{p.names.Digits: {keys}})
}

// say answers with speech and the recognizer's confidence.
func (p *phone) say(words, confidence string) {
	p.t.Helper()
	in := url.Values{p.names.Speech: {words}, p.names.Confidence: {confidence}}
	if p.provider == "plivo" {
		in.Set("InputType", "speech")
	}
	p.post(p.action(), in)
}

// silence follows the Redirect after the gather, as the provider does when
// the caller enters nothing.
func (p *phone) silence() {
	p.t.Helper()
	next := firstText(p.doc, "Response/Redirect")
	if next == "" {
		p.t.Fatalf("no redirect in:\n%s", p.body)
	}
	p.post(next, nil)
}

func (p *phone) hears(want string) {
	p.t.Helper()
	if !strings.Contains(allText(p.doc), want) {
		p.t.Fatalf("does not say %q:\n%s", want, p.body)
	}
}

func (p *phone) query() string {
	u, err := url.Parse(p.action())
	if err != nil {
		p.t.Fatal(err)
	}
	return u.RawQuery
}

func eachProviderApp(t *testing.T, fn func(t *testing.T, a *testApp, api *accountAPI, provider string)) {
	for _, provider := range []string{"twilio", "plivo"} {
		t.Run(provider, func(t *testing.T) {
			api := newAccountAPI(t)
			fn(t, inputApp(t, api), api, provider)
		})
	}
}

func TestVoiceConfirm(t *testing.T) {
	eachProviderApp(t, func(t *testing.T, a *testApp, api *accountAPI, provider string) {
		t.Run("accept", func(t *testing.T) {
			p := dial(t, a, provider)
			p.press("1")
			p.press("123456")
			p.hears("You entered 1 2 3 4 5 6. Press 1 if that is right, 2 to try again.")
			if api.hits() != 0 {
				t.Fatal("looked up before the value was confirmed")
			}
			p.press("1")
			p.hears("Account active.")
		})
		t.Run("reject", func(t *testing.T) {
			p := dial(t, a, provider)
			p.press("1")
			p.press("654321")
			p.press("2")
			p.hears("Enter your account number.")
			if q := p.query(); strings.Contains(q, "invalid=") {
				t.Errorf("a rejection counted a failure: %s", q)
			}
			p.press("123456")
			p.press("1")
			p.hears("Account active.")
		})
		t.Run("silence", func(t *testing.T) {
			p := dial(t, a, provider)
			p.press("1")
			p.press("123456")
			p.silence()
			p.hears("You entered 1 2 3 4 5 6.")
			p.silence()
			p.hears("Enter your account number.")
			if q := p.query(); strings.Contains(q, "invalid=") || strings.Contains(q, "timeouts=") || strings.Contains(q, "confirm=") {
				t.Errorf("silence at the read-back counted against the menu: %s", q)
			}
		})
	})
}

func TestVoiceRepeatKey(t *testing.T) {
	eachProviderApp(t, func(t *testing.T, a *testApp, _ *accountAPI, provider string) {
		p := dial(t, a, provider)
		for range 3 { // max_failures is 2: a counted failure would have hung up
			p.press("*")
			p.hears("Press 1 for your account")
			if q := p.query(); strings.Contains(q, "invalid=") {
				t.Fatalf("the repeat key counted a failure: %s", q)
			}
		}
		p.press("7")
		if q := p.query(); !strings.Contains(q, "invalid=1") {
			t.Fatalf("a wrong key is still a failure: %s", q)
		}
	})
}

func TestVoiceSpeechConfidence(t *testing.T) {
	eachProviderApp(t, func(t *testing.T, a *testApp, _ *accountAPI, provider string) {
		p := dial(t, a, provider)
		p.say("account", "0.2")
		p.hears("Please use your keypad.")
		if q := p.query(); !strings.Contains(q, "invalid=1") || !strings.Contains(q, "keys=1") {
			t.Errorf("a 0.2 answer at min_confidence 0.4 is a wrong entry, then keys only: %s", q)
		}
		if p.doc.has("GetInput") || firstAttr(p.doc, "Response/Gather", "input") == "dtmf speech" {
			t.Errorf("the menu still listens for speech:\n%s", p.body)
		}
		p = dial(t, a, provider)
		p.say("account", "0.9")
		p.hears("Enter your account number.")
	})
}

func TestVoiceOnErrorKinds(t *testing.T) {
	eachProviderApp(t, func(t *testing.T, a *testApp, _ *accountAPI, provider string) {
		for _, tc := range []struct{ option, account, says string }{
			{"1", "404404", "No such account."},    // the API answers 404
			{"1", "777777", "The system is slow."}, // no answer within 300ms
			{"2", "123456", "The system is down."}, // connection refused
			{"1", "500500", "The system is down."}, // 500
			{"1", "999999", "Sorry, bad_answer."},  // cut JSON
		} {
			t.Run(tc.account+"/"+tc.option, func(t *testing.T) {
				p := dial(t, a, provider)
				p.press(tc.option)
				p.press(tc.account)
				if tc.option == "1" {
					p.press("1") // the read-back
				}
				p.hears(tc.says)
			})
		}
	})
}

// TestTryInputControls: the admin's Try page plays the input controls on
// both providers: a speech answer's confidence, the read-back and the
// repeat key.
func TestTryInputControls(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flow.yaml")
	src := strings.NewReplacer("CLOSED", "127.0.0.1:9", " WHY", inputWhy).Replace(inputFlow)
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	low, high := 0.2, 0.9
	for _, provider := range []string{"twilio", "plivo"} {
		t.Run(provider, func(t *testing.T) {
			e := newAdminEnv(t, path, nil)
			res := e.tryStep(t, tryRequest{Provider: provider})
			id := res.CallID
			res = e.tryStep(t, tryRequest{Provider: provider, CallID: id, URL: res.Gather.Action, Speech: "account", Confidence: &low})
			if !promptsContain(res.Prompts, "Please use your keypad.") || res.Gather == nil || res.Gather.Speech {
				t.Fatalf("0.2 at min_confidence 0.4: %+v %+v\n%s", res.Prompts, res.Gather, res.XML)
			}
			res = e.tryStep(t, tryRequest{Provider: provider, CallID: id, URL: res.Gather.Action, Digits: "*"})
			if !promptsContain(res.Prompts, "Press 1 for your account") || strings.Contains(res.Gather.Action, "invalid=2") {
				t.Fatalf("repeat key: %+v %s", res.Prompts, res.Gather.Action)
			}
			res = e.tryStep(t, tryRequest{Provider: provider})
			id = res.CallID
			res = e.tryStep(t, tryRequest{Provider: provider, CallID: id, URL: res.Gather.Action, Speech: "account", Confidence: &high})
			if !promptsContain(res.Prompts, "Enter your account number.") {
				t.Fatalf("0.9 is taken: %+v\n%s", res.Prompts, res.XML)
			}
			res = e.tryStep(t, tryRequest{Provider: provider, CallID: id, URL: res.Gather.Action, Digits: "123456"})
			if !promptsContain(res.Prompts, "You entered 1 2 3 4 5 6. Press 1 if that is right") || res.Gather == nil || res.Gather.NumDigits != 1 {
				t.Fatalf("read-back: %+v %+v\n%s", res.Prompts, res.Gather, res.XML)
			}
			bad := 1.5
			b, _ := json.Marshal(tryRequest{Provider: provider, CallID: id, URL: res.Gather.Action, Speech: "yes", Confidence: &bad})
			if w := e.do(t, "POST", "/admin/api/try", string(b), withBearer(adminTestToken)); w.Code != http.StatusBadRequest {
				t.Errorf("confidence 1.5: %d %s", w.Code, w.Body.String())
			}
		})
	}
}

// TestFlowPageInputControls: the flow map and the menu cards show the
// repeat key, the read-back and min_confidence.
func TestFlowPageInputControls(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flow.yaml")
	src := strings.NewReplacer("CLOSED", "127.0.0.1:9", " WHY", inputWhy).Replace(inputFlow)
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	e := newAdminEnv(t, path, nil)
	w := e.do(t, "GET", "/admin/flow", "", withBearer(adminTestToken))
	page := w.Body.String()
	if w.Code != 200 {
		t.Fatalf("%d\n%s", w.Code, page)
	}
	for _, want := range []string{
		"repeat the prompt ↻", "1 accepts · 2 asks again", "speech &lt; 0.4",
		"confidence at least 0.4, else keys only", "* repeats", "read back (1 accepts, 2 or silence twice asks again)",
		"You entered {{account | digits}}", `if error == &#34;not_found&#34;`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the flow page lacks %q", want)
		}
	}
}

// TestInsightsInputControls: insights count, per menu, the read-backs
// accepted and rejected and the repeat key, on calls of both providers.
func TestInsightsInputControls(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flow.yaml")
	src := strings.NewReplacer("CLOSED", "127.0.0.1:9", " WHY", inputWhy).Replace(inputFlow)
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	e := newAdminEnv(t, path, nil)
	for _, provider := range []string{"twilio", "plivo"} {
		res := e.tryStep(t, tryRequest{Provider: provider})
		id := res.CallID
		next := func(req tryRequest) {
			req.Provider, req.CallID = provider, id
			if req.URL == "" {
				req.URL = res.Gather.Action
			}
			res = e.tryStep(t, req)
		}
		next(tryRequest{Digits: "*"}) // repeats: 2 in main
		next(tryRequest{Digits: "*"})
		next(tryRequest{Digits: "1"})
		next(tryRequest{Digits: "123456"})
		next(tryRequest{Digits: "2"}) // rejected
		next(tryRequest{Digits: "123456"})
		next(tryRequest{URL: res.Next.URL}) // silence twice: rejected
		next(tryRequest{URL: res.Next.URL})
		next(tryRequest{Digits: "123456"})
		next(tryRequest{Digits: "*"}) // a repeat at the read-back: 1 in account
		next(tryRequest{Digits: "1"}) // confirmed
		e.tryStep(t, tryRequest{Provider: provider, CallID: id, Hangup: true})
	}
	waitCalls(t, e, 2)
	var got insightsJSON
	r := e.do(t, "GET", "/admin/api/insights?since="+today()+"&until="+today(), "", withBearer(adminTestToken))
	if err := json.Unmarshal(r.Body.Bytes(), &got); r.Code != 200 || err != nil {
		t.Fatalf("insights: %d %v %s", r.Code, err, r.Body.String())
	}
	if m := got.Menus["main"]; m.Repeats != 4 || m.Invalid != 0 {
		t.Errorf("main = %+v; want 4 repeats, no invalid entry", m)
	}
	if m := got.Menus["account"]; m.Confirmed != 2 || m.Rejected != 4 || m.Repeats != 2 {
		t.Errorf("account = %+v; want 2 confirmed, 4 rejected, 2 repeats", m)
	}
	page := e.do(t, "GET", "/admin/insights?since="+today()+"&until="+today(), "", withBearer(adminTestToken)).Body.String()
	if !strings.Contains(page, "<td class=\"num\">2 / 4</td><td class=\"num\">2</td>") {
		t.Errorf("the dashboard's funnel lacks the account's read-backs and repeats")
	}
	flowPage := e.do(t, "GET", "/admin/flow?since="+today()+"&until="+today(), "", withBearer(adminTestToken)).Body.String()
	if !strings.Contains(flowPage, `class="row-count" text-anchor="end">2 ✓ 4 ✗</text>`) ||
		!regexp.MustCompile(`repeat the prompt ↻</text><text [^>]*class="row-count"[^>]*>4</text>`).MatchString(flowPage) {
		t.Errorf("the flow map lacks the read-back's and the repeat key's figures")
	}
}
