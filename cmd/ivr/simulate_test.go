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
