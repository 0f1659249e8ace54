package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/ivr"
	"github.com/ivr-project/ivr/internal/testutil"
)

// The tests in this file drive `ivr simulate` and `ivr sign` (through run,
// as the command line does) against the real server (startServer), over
// every path of the bundled example flow, as Twilio and as Plivo.

var simProviders = []string{"twilio", "plivo"}

// simEnv is the server's environment, shared with the simulator and the
// signer as a developer's shell would share it. IVR_PUBLIC_URL is unset: the
// server checks signatures against each request's own URL, which is the one
// the simulator signed.
func simEnv() map[string]string {
	return map[string]string{
		"TWILIO_AUTH_TOKEN": "twilio-test-token",
		"PLIVO_AUTH_TOKEN":  "plivo-test-token",
	}
}

// simulateCall runs `ivr simulate` with args against the server at base and
// returns the transcript, the call's ID and the command's error.
func simulateCall(t *testing.T, env map[string]string, base, provider string, args ...string) (transcript, callID string, err error) {
	t.Helper()
	full := append([]string{"ivr", "simulate", "--provider", provider, "--url", base + "/" + provider + "/voice"}, args...)
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = run(ctx, full, testEnv(t, env), nil, &stdout, &stderr)
	transcript = stdout.String() + stderr.String()
	if m := regexp.MustCompile(`(?m)^call (?:twilio|plivo) (\S+) from `).FindStringSubmatch(transcript); m != nil {
		callID = m[1]
	}
	return transcript, callID, err
}

// simPath is one path through the example flow, played the same way on both
// providers. The simulator's exit status asserts the ending (--expect) and
// what was heard (--expect-say); order lists transcript lines that must
// appear in that order, and absent texts that must not be heard at all.
type simPath struct {
	name   string
	digits string // --digits; "" = not given
	speech string // --speech; "" = not given
	dial   string // --dial-status; "" = completed
	method string // --method of the answer request; "" = POST
	expect string
	says   []string
	order  []string
	absent []string
}

func (p simPath) args() []string {
	var a []string
	if p.digits != "" {
		a = append(a, "--digits", p.digits)
	}
	if p.speech != "" {
		a = append(a, "--speech", p.speech)
	}
	if p.dial != "" {
		a = append(a, "--dial-status", p.dial)
	}
	if p.method != "" {
		a = append(a, "--method", p.method)
	}
	if p.expect != "" {
		a = append(a, "--expect", p.expect)
	}
	for _, s := range p.says {
		a = append(a, "--expect-say", s)
	}
	return a
}

// Texts of the example flow (internal/ivr/example.yaml).
const (
	cowbell        = "[plays https://api.twilio.com/cowbell.mp3]"
	welcome        = "Thank you for calling Example Company."
	mainGreeting   = "For billing, press 1 or say billing."
	mainGreetingES = "Para facturación, oprima 1 o diga facturación."
	mainShort      = "Press 1 for billing, 2 for support, 3 for hours, 0 for a person, or star for languages."
	mainShortES    = "Oprima 1 para facturación, 2 para soporte, 3 para el horario"
	langGreeting   = "For English, press 1."
	billingGreet   = "Billing. We see you are calling from 1 4 1 5 5 5 5 0 1 0 0."
	billingGreetES = "Facturación. Vemos que llama desde 1 4 1 5 5 5 5 0 1 0 0."
	balance        = "Your balance is available in your online account."
	supportGreet   = "Support. Press 1 to reach a technician. Press star to go back."
	supportGreetES = "Soporte. Oprima 1 para hablar con un técnico."
	hoursText      = "We are open every day, around the clock."
	dirGreeting    = "Enter the three digit extension, then press pound."
	invalid        = "Sorry, that is not one of the choices."
	invalidES      = "Lo siento, esa no es una de las opciones."
	silence        = "Sorry, I didn't hear anything."
	silenceES      = "Lo siento, no escuché nada."
	goodbye        = "We did not hear from you. Goodbye."
	goodbyeES      = "No hemos recibido respuesta. Adiós."
	handOver       = "Let me connect you with someone who can help."
	busy           = "All our technicians are busy."
	busyES         = "Todos nuestros técnicos están ocupados."
	techPrompt     = "Please leave a message after the beep and press pound when you are done."
	techThanks     = "Thank you. A technician will call you back. Goodbye."
	techThanksES   = "Gracias. Un técnico le devolverá la llamada. Adiós."
	callCenter     = "+15005550006"
	callerHangs    = "[caller hangs up: no more scripted input]"
)

func examplePaths() []simPath {
	return []simPath{
		// main menu, every option
		{name: "main/1 billing", digits: "1", expect: "caller-hangup",
			says:  []string{welcome, mainGreeting, billingGreet},
			order: []string{cowbell, welcome, mainGreeting, "caller presses 1", billingGreet, callerHangs}},
		{name: "main/2 support", digits: "2", expect: "caller-hangup",
			says: []string{supportGreet}, order: []string{mainGreeting, "caller presses 2", supportGreet, callerHangs}},
		{name: "main/3 hours then the menu repeats", digits: "3", expect: "caller-hangup",
			says: []string{hoursText, mainShort}, order: []string{"caller presses 3", hoursText, mainShort, callerHangs}},
		{name: "main/4 news plays and redirects to main", digits: "4", expect: "caller-hangup",
			says:  []string{mainGreeting},
			order: []string{cowbell, mainGreeting, "caller presses 4", cowbell, "/voice/menu/main", mainGreeting, callerHangs}},
		{name: "main/5 directory", digits: "5", expect: "caller-hangup",
			says: []string{dirGreeting}, order: []string{"caller presses 5", dirGreeting, callerHangs}},
		{name: "main/6 voicemail", digits: "6", expect: "voicemail",
			order: []string{"caller presses 6", "[records voicemail]", "/action/voicemail-done", "[hangup]"}},
		{name: "main/0 person", digits: "0", expect: "transfer:" + callCenter,
			says: []string{"Connecting you now."}, order: []string{"caller presses 0", "Connecting you now.", "[transfer to " + callCenter + "]"}},
		{name: "main/0 person, no answer", digits: "0", dial: "no-answer", expect: "hangup",
			says: []string{"Connecting you now."}, order: []string{"[dial no-answer]", "/action/dial-done", "[hangup]"}},
		{name: "main/9 Spanish", digits: "9", expect: "caller-hangup",
			says:  []string{mainGreetingES},
			order: []string{mainGreeting, "caller presses 9", mainGreetingES, callerHangs}},
		{name: "main/* language menu", digits: "*", expect: "caller-hangup",
			says: []string{langGreeting, "Para español, oprima 2."}, order: []string{"caller presses *", langGreeting, callerHangs}},
		{name: "answer by GET", digits: "2", method: "GET", expect: "caller-hangup",
			says: []string{welcome, mainGreeting, supportGreet}},

		// language selection, and the language carrying through the call
		{name: "language/2 Spanish", digits: "*,2", expect: "caller-hangup",
			says: []string{mainGreetingES}, order: []string{langGreeting, "caller presses 2", mainGreetingES, callerHangs}},
		{name: "language/1 English", digits: "9,*,1", expect: "caller-hangup",
			order: []string{mainGreetingES, "caller presses *", langGreeting, "caller presses 1", mainGreeting, callerHangs}},
		{name: "language/* back to main", digits: "*,*", expect: "caller-hangup",
			order: []string{langGreeting, "caller presses *", mainGreeting, callerHangs}},
		{name: "language/invalid then Spanish", digits: "*,7,2", expect: "caller-hangup",
			order: []string{langGreeting, "caller presses 7", invalid, "caller presses 2", mainGreetingES}},
		{name: "language invalid until max_failures (3): call center", digits: "*,7,8,9", expect: "transfer:" + callCenter,
			order: []string{langGreeting, invalid, langGreeting, invalid, langGreeting, handOver, "[dial completed]"}},
		{name: "language silence until max_timeouts (3)", digits: "*,timeout,timeout,timeout", expect: "hangup",
			order: []string{langGreeting, silence, langGreeting, silence, langGreeting, goodbye, "[hangup]"}},
		{name: "Spanish carries into billing", digits: "9,1", expect: "caller-hangup",
			says: []string{billingGreetES}, absent: []string{billingGreet}},
		{name: "Spanish carries into hours and the short greeting", digits: "9,3", expect: "caller-hangup",
			says: []string{"Estamos abiertos todos los días", mainShortES}, absent: []string{hoursText, mainShort}},
		{name: "Spanish carries through a failed transfer into voicemail", digits: "9,2,1", dial: "busy", expect: "voicemail",
			says:   []string{supportGreetES, busyES, "Deje un mensaje después del tono", techThanksES},
			absent: []string{busy, techThanks}},
		{name: "Spanish carries through billing's no_answer", digits: "9,1,2", dial: "no-answer", expect: "caller-hangup",
			says: []string{billingGreetES, supportGreetES}, absent: []string{supportGreet}},
		{name: "Spanish carries through the news redirect", digits: "9,4", expect: "caller-hangup",
			order: []string{mainGreetingES, "caller presses 4", cowbell, "/voice/menu/main?lang=es-ES", mainGreetingES, callerHangs}},
		{name: "Spanish: language/* back keeps Spanish", digits: "9,*,*", expect: "caller-hangup",
			order: []string{mainGreetingES, "caller presses *", langGreeting, "caller presses *", mainGreetingES, callerHangs}},
		{name: "Spanish invalid entries", digits: "9,7,8,7", expect: "transfer:" + callCenter,
			says: []string{invalidES, "Le comunico con alguien que pueda ayudarle."}, absent: []string{invalid, handOver}},
		{name: "Spanish silence", digits: "9,timeout,timeout,timeout", expect: "hangup",
			says: []string{silenceES, goodbyeES}, absent: []string{silence, goodbye}},

		// billing: options, back, top, transfer completed and not
		{name: "billing/1 balance then billing again", digits: "1,1", expect: "caller-hangup",
			order: []string{billingGreet, "caller presses 1", balance, billingGreet, callerHangs}},
		{name: "billing/2 transfer completed", digits: "1,2", expect: "transfer:" + callCenter,
			order: []string{billingGreet, "caller presses 2", "[transfer to " + callCenter + "]", "[dial completed]"}},
		{name: "billing/2 transfer no-answer goes to support", digits: "1,2", dial: "no-answer", expect: "caller-hangup",
			order: []string{"[dial no-answer]", "/action/dial-done", supportGreet, callerHangs}},
		{name: "billing/2 transfer busy, support/1 busy, voicemail", digits: "1,2,1", dial: "busy", expect: "voicemail",
			order: []string{"[dial busy]", supportGreet, "caller presses 1", "[dial busy]", busy, techPrompt, "[records voicemail]", techThanks, "[hangup]"}},
		{name: "billing/* back to main", digits: "1,*", expect: "caller-hangup",
			order: []string{billingGreet, "caller presses *", mainGreeting, callerHangs}},
		{name: "billing/0 top", digits: "1,0", expect: "caller-hangup",
			order: []string{billingGreet, "caller presses 0", mainGreeting, callerHangs}},
		{name: "billing invalid until max_failures (2): start again", digits: "1,7,8", expect: "caller-hangup",
			order:  []string{billingGreet, "caller presses 7", invalid, billingGreet, "caller presses 8", "Let's start again.", mainGreeting, callerHangs},
			absent: []string{handOver}},
		{name: "billing silence until max_timeouts (3)", digits: "1,timeout,timeout,timeout", expect: "hangup",
			order: []string{billingGreet, "(caller stays silent)", silence, "(caller stays silent)", silence, "(caller stays silent)", goodbye, "[hangup]"}},

		// support: transfer to two numbers, no answer, back
		{name: "support/1 transfer completed", digits: "2,1", expect: "transfer:" + callCenter + ",+15005550001",
			order: []string{supportGreet, "caller presses 1", "[dial completed]"}},
		{name: "support/1 no answer: voicemail", digits: "2,1", dial: "no-answer", expect: "voicemail",
			says:  []string{busy, techPrompt, techThanks},
			order: []string{"[dial no-answer]", busy, techPrompt, "[records voicemail]", "/action/voicemail-done", techThanks, "[hangup]"}},
		{name: "support/1 failed: voicemail", digits: "2,1", dial: "failed", expect: "voicemail", says: []string{busy, techThanks}},
		{name: "support/* back to main", digits: "2,*", expect: "caller-hangup",
			order: []string{supportGreet, "caller presses *", mainGreeting, callerHangs}},
		{name: "support/* back to billing", digits: "1,2,*", dial: "no-answer", expect: "caller-hangup",
			order: []string{billingGreet, "[dial no-answer]", supportGreet, "caller presses *", billingGreet, callerHangs}},

		{name: "support invalid until max_failures (3): call center", digits: "2,7,8,9", expect: "transfer:" + callCenter,
			order: []string{supportGreet, invalid, supportGreet, invalid, supportGreet, handOver, "[dial completed]"}},
		{name: "support silence until max_timeouts (3)", digits: "2,,,", expect: "hangup",
			order: []string{supportGreet, silence, silence, goodbye, "[hangup]"}},

		{name: "back twice: support, billing, main", digits: "1,2,*,*", dial: "no-answer", expect: "caller-hangup",
			order: []string{billingGreet, supportGreet, "caller presses *", billingGreet, "caller presses *", mainGreeting, callerHangs}},

		// directory: exact multi-digit code, pattern, regular expression
		{name: "directory/100# exact", digits: "5,100#", expect: "transfer:" + callCenter,
			order: []string{dirGreeting, "caller presses 100#", "[dial completed]"}},
		{name: "directory/100# no answer: hang up", digits: "5,100#", dial: "no-answer", expect: "hangup",
			order: []string{"caller presses 100#", "[dial no-answer]", "/action/dial-done", "[hangup]"}},
		{name: "directory/100 ended by a pause", digits: "5,100", expect: "transfer:" + callCenter},
		{name: "directory/2XX pattern", digits: "5,250#", expect: "transfer:" + callCenter,
			says: []string{"Extensions in the two hundreds are in the sales office."}},
		{name: "directory/regexp 3[0-4]X: voicemail", digits: "5,321#", expect: "voicemail",
			says:  []string{"That extension is out of office."},
			order: []string{"caller presses 321#", "That extension is out of office.", "[records voicemail]", "[hangup]"}},
		{name: "directory/regexp does not match 350", digits: "5,350#", expect: "caller-hangup",
			order: []string{"caller presses 350#", invalid, callerHangs}},
		{name: "directory/0# top", digits: "5,0#", expect: "caller-hangup",
			order: []string{dirGreeting, "caller presses 0#", mainGreeting, callerHangs}},
		{name: "directory invalid until max_failures (3): call center", digits: "5,999#,1#,42#", expect: "transfer:" + callCenter,
			order: []string{dirGreeting, invalid, invalid, handOver, "[dial completed]"}},
		{name: "directory silence until max_timeouts (2)", digits: "5,timeout,timeout", expect: "hangup",
			order: []string{dirGreeting, "(caller stays silent)", silence, "(caller stays silent)", goodbye, "[hangup]"}},

		// main: invalid input, silence, counted separately; hang up
		{name: "main invalid until max_failures (3): call center", digits: "7,8,7", expect: "transfer:" + callCenter,
			order: []string{"caller presses 7", invalid, mainShort, "caller presses 8", invalid, "caller presses 7", handOver, "[dial completed]"}},
		{name: "main silence until max_timeouts (3): goodbye", digits: "timeout,timeout,timeout", expect: "hangup",
			order: []string{mainGreeting, silence, mainShort, silence, goodbye, "[hangup]"}},
		{name: "main wrong keys and silence counted apart", digits: "7,timeout,8,timeout", expect: "caller-hangup",
			order: []string{invalid, silence, invalid, silence, callerHangs}, absent: []string{handOver, goodbye}},
		{name: "main a valid choice starts the count again", digits: "7,7,3,7,7", expect: "caller-hangup",
			order: []string{invalid, invalid, hoursText, mainShort, invalid, invalid, callerHangs}, absent: []string{handOver}},
		{name: "caller hangs up at main", digits: "hangup", expect: "caller-hangup",
			order: []string{mainGreeting, "[caller hangs up: scripted]"}},
		{name: "caller hangs up in billing", digits: "1,hangup", expect: "caller-hangup",
			order: []string{billingGreet, "[caller hangs up: scripted]"}},

		// speech where the example takes it (main and language)
		{name: "speech billing", speech: "billing", expect: "caller-hangup",
			order: []string{mainGreeting, `caller says "billing"`, billingGreet, callerHangs}},
		{name: "speech a phrase: pay my bill", speech: "I want to pay my bill please", expect: "caller-hangup",
			says: []string{billingGreet}},
		{name: "speech support", speech: "help", expect: "caller-hangup", says: []string{supportGreet}},
		{name: "speech hours", speech: "opening hours", expect: "caller-hangup",
			says: []string{hoursText, mainShort}},
		{name: "speech agent", speech: "an agent", expect: "transfer:" + callCenter, says: []string{"Connecting you now."}},
		{name: "speech español then facturación", speech: "español,facturación", expect: "caller-hangup",
			order: []string{`caller says "español"`, mainGreetingES, `caller says "facturación"`, billingGreetES}},
		{name: "speech unknown words are invalid", speech: "banana,bananas,more bananas", expect: "transfer:" + callCenter,
			order: []string{invalid, invalid, handOver}},
		{name: "speech at the language menu", digits: "*", speech: "spanish", expect: "caller-hangup",
			order: []string{"caller presses *", langGreeting, `caller says "spanish"`, mainGreetingES}},
		{name: "speech numerals match keys", speech: "3", expect: "caller-hangup", says: []string{hoursText}},
	}
}

// TestSimulateExampleFlow plays every path of the example flow through the
// real server on both providers, and checks that each call's status/hangup
// callback landed in the call records with the call's events.
func TestSimulateExampleFlow(t *testing.T) {
	env := simEnv()
	base, _, serverLog := startServer(t, env)
	type played struct{ provider, id, name string }
	var calls []played
	for _, p := range examplePaths() {
		t.Run(p.name, func(t *testing.T) {
			for _, provider := range simProviders {
				t.Run(provider, func(t *testing.T) {
					out, id, err := simulateCall(t, env, base, provider, p.args()...)
					if err != nil {
						t.Fatalf("ivr simulate %s: %v\ntranscript:\n%s\nserver log (tail):\n%s", strings.Join(p.args(), " "), err, out, tail(serverLog.String(), 20))
					}
					if !strings.Contains(out, "expect ") && p.expect != "" {
						t.Fatalf("no expectation was checked:\n%s", out)
					}
					order := p.order
					if provider == "plivo" { // Plivo XML writes numbers without "+"
						order = make([]string, len(p.order))
						for i, o := range p.order {
							order[i] = strings.ReplaceAll(o, "[transfer to +", "[transfer to ")
						}
					}
					if missing := inOrder(out, order); missing != "" {
						t.Errorf("transcript lacks %q (in this order: %q):\n%s", missing, p.order, out)
					}
					for _, s := range p.absent {
						if strings.Contains(out, s) {
							t.Errorf("the caller heard %q:\n%s", s, out)
						}
					}
					if strings.Contains(out, "[warning") {
						t.Errorf("simulator warned:\n%s", out)
					}
					calls = append(calls, played{provider, id, p.name})
				})
			}
		})
	}

	noFallbacks(t, base)

	// Every call's end was reported and recorded, with its events.
	records := listCalls(t, base)
	for _, c := range calls {
		rec, ok := records[c.provider+"/"+c.id]
		switch {
		case !ok:
			t.Errorf("%s %s (%s): not in /admin/api/calls", c.provider, c.id, c.name)
		case rec.Status != "completed" || rec.EndedAt == nil:
			t.Errorf("%s %s (%s): status %q ended_at %v, want completed with an end", c.provider, c.id, c.name, rec.Status, rec.EndedAt)
		case len(rec.Events) == 0:
			t.Errorf("%s %s (%s): no events recorded", c.provider, c.id, c.name)
		}
	}
}

// TestSimulateExpectFails is the control for the table above: a wrong
// --expect or --expect-say makes `ivr simulate` fail against the real server.
func TestSimulateExpectFails(t *testing.T) {
	env := simEnv()
	base, _, _ := startServer(t, env)
	for _, provider := range simProviders {
		t.Run(provider, func(t *testing.T) {
			for _, args := range [][]string{
				{"--digits", "0", "--expect", "voicemail"},
				{"--digits", "0", "--expect", "transfer:+15005550001"},
				{"--digits", "6", "--expect", "hangup"},
				{"--digits", "1", "--expect-say", "Soporte."},
			} {
				out, _, err := simulateCall(t, env, base, provider, args...)
				if err == nil || !strings.Contains(out, "FAILED") {
					t.Errorf("ivr simulate %s: err %v, want a failed expectation\n%s", strings.Join(args, " "), err, out)
				}
			}
		})
	}
}

// inOrder returns the first of want not found in s after the previous one,
// or "" when all are there in order.
func inOrder(s string, want []string) string {
	for _, w := range want {
		i := strings.Index(s, w)
		if i < 0 {
			return w
		}
		s = s[i+len(w):]
	}
	return ""
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

type apiEvent struct {
	Menu, Input, Action string
}

type apiCall struct {
	Provider        string     `json:"provider"`
	CallID          string     `json:"call_id"`
	From            string     `json:"from"`
	To              string     `json:"to"`
	Status          string     `json:"status"`
	EndedAt         *time.Time `json:"ended_at"`
	DurationSeconds int        `json:"duration_seconds"`
	HangupCause     string     `json:"hangup_cause"`
	Events          []apiEvent `json:"events"`
}

// listCalls reads every call from /admin/api/calls (loopback, local mode:
// no token), keyed by provider/call_id, once the server's store queue is
// empty (call events are written asynchronously; see ivr_store_queue_depth).
func listCalls(t *testing.T, base string) map[string]apiCall {
	t.Helper()
	waitStored(t, base)
	calls := map[string]apiCall{}
	cursor := ""
	for {
		resp, err := http.Get(base + "/admin/api/calls?limit=500&cursor=" + url.QueryEscape(cursor))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET /admin/api/calls: %d %s", resp.StatusCode, b)
		}
		var page struct {
			Calls []apiCall `json:"calls"`
			Next  string    `json:"next"`
		}
		if err := json.Unmarshal(b, &page); err != nil {
			t.Fatalf("GET /admin/api/calls: %v\n%s", err, b)
		}
		for _, c := range page.Calls {
			calls[c.Provider+"/"+c.CallID] = c
		}
		if page.Next == "" {
			return calls
		}
		cursor = page.Next
	}
}

// waitStored waits until /metrics reports no call events waiting for the store.
func waitStored(t *testing.T, base string) {
	t.Helper()
	depth := regexp.MustCompile(`(?m)^ivr_store_queue_depth (\S+)$`)
	var metrics string
	if !testutil.Eventually(10*time.Second, func() bool {
		resp, err := http.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		metrics = string(b)
		m := depth.FindStringSubmatch(metrics)
		if m == nil {
			t.Fatalf("store queue not drained: %q", grep(metrics, "ivr_store_queue_depth"))
		}
		return m[1] == "0"
	}) {
		t.Fatalf("store queue not drained: %q", grep(metrics, "ivr_store_queue_depth"))
	}
}

// TestSimulateCallRecord checks one call's record in detail: the status or
// hangup callback the simulator sent landed (status completed, an end time)
// and the events tell the path the caller took.
func TestSimulateCallRecord(t *testing.T) {
	env := simEnv()
	base, _, _ := startServer(t, env)
	for _, provider := range simProviders {
		t.Run(provider, func(t *testing.T) {
			out, id, err := simulateCall(t, env, base, provider, "--digits", "1,2", "--dial-status", "no-answer", "--from", "+14155550142", "--expect", "caller-hangup")
			if err != nil || id == "" {
				t.Fatalf("simulate: %v (call id %q)\n%s", err, id, out)
			}
			rec, ok := listCalls(t, base)[provider+"/"+id]
			if !ok {
				t.Fatalf("call %s is not in /admin/api/calls", id)
			}
			if rec.Status != "completed" || rec.EndedAt == nil {
				t.Errorf("status %q ended_at %v: the end-of-call callback did not land", rec.Status, rec.EndedAt)
			}
			if !strings.HasSuffix(rec.From, "14155550142") {
				t.Errorf("from %q, want the simulated caller", rec.From)
			}
			if provider == "plivo" && rec.HangupCause != "NORMAL_CLEARING" {
				t.Errorf("hangup_cause %q, want the hangup callback's NORMAL_CLEARING", rec.HangupCause)
			}
			var path []string
			for _, e := range rec.Events {
				path = append(path, e.Menu+"|"+e.Input+"|"+e.Action)
			}
			// main, the billing choice, the transfer and its end, the support menu.
			want := []string{"main||enter", "main|1|option 1", "billing||enter", "billing|2|option 2",
				"billing||transfer +15005550006", "billing|dial no-answer|no_answer", "support||enter"}
			if missing := inOrder(strings.Join(path, "\n"), want); missing != "" {
				t.Errorf("events lack %q (want %q in order); got:\n%s", missing, want, strings.Join(path, "\n"))
			}
		})
	}
}

// TestSimulateClosed plays the example's `closed` path: the same flow with
// today as a holiday (the example itself is open around the clock).
func TestSimulateClosed(t *testing.T) {
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skipf("no time zone data: %v", err)
	}
	example := string(ivr.Example())
	if !strings.Contains(example, "- 2025-12-25") {
		t.Fatal("the example's holiday moved; update this test")
	}
	// Today in the flow's time zone; tomorrow too, in case the day turns
	// during the test.
	now := time.Now().In(loc)
	days := "- " + now.Format(time.DateOnly) + "\n    - " + now.AddDate(0, 0, 1).Format(time.DateOnly)
	flow := filepath.Join(t.TempDir(), "closed.yaml")
	if err := os.WriteFile(flow, []byte(strings.Replace(example, "- 2025-12-25", days, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	env := simEnv()
	env["IVR_FLOW"] = flow
	base, _, _ := startServer(t, env)
	for _, provider := range simProviders {
		t.Run(provider, func(t *testing.T) {
			out, _, err := simulateCall(t, env, base, provider, "--digits", "", "--expect", "voicemail",
				"--expect-say", "We are closed today.",
				"--expect-say", "Please leave your name, number and a short message after the beep.",
				"--expect-say", "We will call you back on the next business day.")
			if err != nil {
				t.Fatalf("simulate: %v\n%s", err, out)
			}
			if strings.Contains(out, mainGreeting) || strings.Contains(out, cowbell) {
				t.Errorf("a closed line played the menu:\n%s", out)
			}
		})
	}
}

// TestSimulateSignCurl replays `ivr sign` output with curl against the real
// server: the answer must be the menu, not the fallback.
func TestSimulateSignCurl(t *testing.T) {
	testutil.NeedCommand(t, "curl", "`ivr sign` output is not replayed; install curl")
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skipf("SKIPPED: no sh: %v", err)
	}
	env := simEnv()
	base, _, _ := startServer(t, env)
	getenv := testEnv(t, env)
	cases := []struct {
		provider, method, path string
		params                 []string
		gather                 string // the menu's gather element
		want                   string // text of the menu
	}{
		{"twilio", "POST", "/twilio/voice", []string{"CallSid=CA00000000000000000000000000000001", "From=+14155550100", "To=+14155550199", "CallStatus=ringing"}, "Gather", mainGreeting},
		{"twilio", "GET", "/twilio/voice", []string{"CallSid=CA00000000000000000000000000000002", "From=+14155550100", "To=+14155550199", "CallStatus=ringing"}, "Gather", mainGreeting},
		{"plivo", "POST", "/plivo/voice", []string{"CallUUID=00000000-0000-4000-8000-000000000003", "From=14155550100", "To=14155550199", "CallStatus=ringing", "Event=StartApp"}, "GetInput", mainGreeting},
		// A gather's action: a URL with a query, the key in the parameters.
		{"twilio", "POST", "/twilio/voice/menu/main?attempt=1&lang=es-ES", []string{"CallSid=CA00000000000000000000000000000004", "From=+14155550100", "To=+14155550199", "CallStatus=in-progress", "Digits=1"}, "Gather", billingGreetES},
		{"plivo", "POST", "/plivo/voice/menu/main?attempt=1&lang=es-ES", []string{"CallUUID=00000000-0000-4000-8000-000000000005", "From=14155550100", "To=14155550199", "CallStatus=in-progress", "Digits=1"}, "GetDigits", billingGreetES},
	}
	for _, c := range cases {
		t.Run(c.provider+"/"+c.method+c.path, func(t *testing.T) {
			var cmd, stderr bytes.Buffer
			args := append([]string{"ivr", "sign", "--provider", c.provider, "--method", c.method, base + c.path}, c.params...)
			if err := run(context.Background(), args, getenv, nil, &cmd, &stderr); err != nil {
				t.Fatalf("ivr sign: %v\n%s", err, stderr.String())
			}
			printed := cmd.String()
			if !strings.HasPrefix(printed, "curl ") {
				t.Fatalf("ivr sign printed %q", printed)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			// The printed command as is, plus: no progress meter (-s), errors
			// still shown (-S), and a last line with the status and type (-w).
			x := exec.CommandContext(ctx, "sh", "-c", strings.TrimRight(printed, "\n")+` -sS -w '\n%{http_code} %{content_type}'`)
			var out, errOut bytes.Buffer
			x.Stdout, x.Stderr = &out, &errOut
			if err := x.Run(); err != nil {
				t.Fatalf("sh -c %q: %v\n%s", printed, err, errOut.String())
			}
			i := strings.LastIndex(out.String(), "\n")
			if i < 0 {
				t.Fatalf("curl printed %q", out.String())
			}
			body, status := out.String()[:i], out.String()[i+1:]
			els := elements(t, body)
			if !strings.HasPrefix(status, "200 ") || !contains(els, c.gather) || contains(els, "Dial") {
				t.Fatalf("%s %s replayed: %s, elements %v (want a menu's %s, not the fallback's Dial)\ncommand:\n%s\nanswer:\n%s",
					c.provider, c.method, status, els, c.gather, printed, body)
			}
			if !strings.Contains(body, c.want) {
				t.Errorf("answer lacks %q:\n%s", c.want, body)
			}
			wantType := map[string]string{"twilio": "text/xml", "plivo": "application/xml"}[c.provider]
			if !strings.Contains(status, wantType) {
				t.Errorf("Content-Type %q, want %s", status, wantType)
			}
		})
	}
	noFallbacks(t, base)
}

// noFallbacks fails when /metrics counts any fallback answer: every request
// the simulator and the signer made must have been accepted.
func noFallbacks(t *testing.T, base string) {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, l := range strings.Split(grep(string(b), "ivr_fallbacks_total{"), "\n") {
		if l != "" && !strings.HasSuffix(l, " 0") {
			t.Errorf("a request got the fallback: %s", l)
		}
	}
}
