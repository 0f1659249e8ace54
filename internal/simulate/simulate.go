// Package simulate holds the developer tools behind `ivr simulate` (play a
// call through a running server as Twilio or Plivo would, with real
// signatures) and `ivr sign` (print a signed curl command).
package simulate

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ivr-project/ivr/internal/carrier"
)

const simulateUsage = `usage: ivr simulate [flags]

Plays a call through a running server as Twilio or Plivo would: the answer
URL with the provider's parameters and signature (TWILIO_AUTH_TOKEN or
PLIVO_AUTH_TOKEN, or NAME_FILE, from the environment), then every gather,
redirect, dial and record the XML asks for, and the status (Twilio) or hangup
(Plivo) callback at the end. What the caller hears goes to stdout.

Without --digits or --speech the gathers ask on stdin: keys (0-9 * #) are
pressed, other text is said, an empty line is silence, end of input hangs up.
A script gives one comma-separated entry per gather: a gather takes the next
--digits entry when it accepts keys, else the next --speech entry; "" or
"timeout" is silence, "hangup" hangs up; when the script runs out the caller
hangs up. Speech may end in @confidence, the recognizer's confidence the
provider reports (0 to 1; default 0.92): "billing@0.2" tests a menu's
speech min_confidence.

A transfer with a whisper plays the agent's side too: what the agent hears,
then the agent's key (--agent 1 takes the call; silence or another key
declines it, and the next number rings).

--expect checks how the call ended: hangup (the server hung up),
caller-hangup, voicemail (a <Record> took a message), transfer, or
transfer:NUMBER[,NUMBER] (a completed <Dial> that rang those numbers).

flags:
`

// simulateFlags are `ivr simulate`'s flags, checked.
type simulateFlags struct {
	provider, answerURL, method, from, to string
	dialStatus, statusURL                 string
	maxSteps                              int
	want                                  expectation
	expectSay                             []string
	script                                *script // nil: a person types at a terminal
	agent                                 *script // --agent: the agent's keys at whispers; nil: unset
}

// parseSimulateFlags reads and checks the flags (flag.ErrHelp for -h).
func parseSimulateFlags(args []string, stderr io.Writer) (simulateFlags, error) {
	var f simulateFlags
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.provider, "provider", "twilio", "provider to play: twilio or plivo")
	fs.StringVar(&f.answerURL, "url", "", "answer URL, or a base URL meaning /{provider}/voice on it (default $IVR_PUBLIC_URL, else http://localhost:8080, + /{provider}/voice)")
	fs.StringVar(&f.method, "method", "POST", "method of the answer request: GET or POST")
	fs.StringVar(&f.from, "from", "+14155550100", "caller's number (E.164; Plivo gets it without +)")
	fs.StringVar(&f.to, "to", "+14155550199", "number called (E.164; Plivo gets it without +)")
	digits := fs.String("digits", "", "scripted keys, one comma-separated entry per gather, e.g. 1,2,timeout,#")
	speech := fs.String("speech", "", "scripted speech, one comma-separated entry per speech gather, e.g. billing,sales@0.3 (@ the recognizer's confidence)")
	fs.StringVar(&f.dialStatus, "dial-status", "completed", "how every <Dial> ends: completed, no-answer, busy or failed")
	agent := fs.String("agent", "", "the agent's keys at each whisper, comma-separated (e.g. 1 takes the call, \"\" or 2 declines); default: asked at the terminal, silence in scripts")
	expect := fs.String("expect", "", "how the call must end: hangup, caller-hangup, voicemail, transfer or transfer:NUMBER[,NUMBER]")
	fs.Func("expect-say", "text the caller must hear (case-insensitive substring; repeatable)", func(s string) error {
		f.expectSay = append(f.expectSay, s)
		return nil
	})
	fs.IntVar(&f.maxSteps, "max-steps", 50, "give up when the call has not ended after this many requests")
	fs.StringVar(&f.statusURL, "status-url", "", `status/hangup callback URL (default /twilio/status or /plivo/hangup next to the answer URL; "none" = do not send)`)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), simulateUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("unexpected argument %q (see ivr simulate -h)", fs.Arg(0))
	}
	m := strings.ToUpper(f.method)
	if m != "GET" && m != "POST" {
		return f, fmt.Errorf("--method %q: want GET or POST", f.method)
	}
	f.method = m
	switch f.dialStatus {
	case "completed", "no-answer", "busy", "failed":
	default:
		return f, fmt.Errorf("--dial-status %q: want completed, no-answer, busy or failed", f.dialStatus)
	}
	if f.maxSteps < 1 {
		return f, fmt.Errorf("--max-steps %d: want at least 1", f.maxSteps)
	}
	var err error
	if f.want, err = parseExpect(*expect); err != nil {
		return f, err
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if set["agent"] {
		f.agent = &script{}
		if f.agent.digits, err = splitScript(*agent, true); err != nil {
			return f, fmt.Errorf("--agent: %w", err)
		}
	}
	if set["digits"] || set["speech"] {
		f.script = &script{}
		if set["digits"] {
			if f.script.digits, err = splitScript(*digits, true); err != nil {
				return f, err
			}
		}
		if set["speech"] {
			if f.script.speech, err = splitScript(*speech, false); err != nil {
				return f, err
			}
		}
	}
	return f, nil
}

// Simulate implements `ivr simulate`. It returns an error when the call
// could not be played (HTTP error, bad XML, no end after --max-steps) or an
// expectation failed; the transcript is on stdout either way.
func Simulate(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	f, err := parseSimulateFlags(args, stderr)
	if err != nil {
		return err
	}
	s, err := newSigner(getenv, f.provider)
	if err != nil {
		return err
	}
	if f.answerURL == "" {
		f.answerURL = voiceURL(getenv, f.provider)
	} else if f.answerURL, err = answerURLOf(f.answerURL, f.provider); err != nil {
		return err
	}
	var who caller = &terminal{prompt: stderr, in: stdin}
	agent := who // a person at the terminal answers for the agent too
	if f.script != nil {
		who, agent = f.script, nil
	}
	if f.agent != nil {
		agent = f.agent
	}
	c := carrier.NewCall(f.provider, getenv("TWILIO_ACCOUNT_SID"), f.from, f.to)
	if c.Provider == carrier.Plivo {
		c.From, c.To = strings.TrimPrefix(c.From, "+"), strings.TrimPrefix(c.To, "+")
	}
	r := &runner{
		call:   c,
		signer: s,
		client: &http.Client{
			Timeout: 15 * time.Second, // Twilio's webhook timeout
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse // a 3xx is the server's answer
			},
		},
		out:        stdout,
		caller:     who,
		agent:      agent,
		dialStatus: f.dialStatus,
		maxSteps:   f.maxSteps,
	}
	fmt.Fprintf(stdout, "call %s %s from %s to %s\n", c.Provider, c.ID, c.From, c.To)
	start := time.Now()
	runErr := r.run(ctx, request{method: f.method, url: f.answerURL})
	if runErr == nil {
		fmt.Fprintf(stdout, "call ended: %s after %d request%s\n", describeOutcome(r.outcome, r.dialed), r.steps, plural(r.steps))
	}
	// The provider reports the end of every answered call, whatever happened;
	// after Ctrl-C too, so give the callback its own few seconds.
	var cbErr error
	if f.statusURL != "none" && r.reached {
		cbCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		seconds := int(math.Ceil(time.Since(start).Seconds()))
		cbErr = r.statusCallback(cbCtx, f.answerURL, f.statusURL, seconds)
		cancel()
	}
	if runErr != nil || cbErr != nil {
		return errors.Join(runErr, cbErr)
	}
	if err := reportFallback(stdout, c.Provider, r); err != nil {
		return err
	}
	return check(stdout, f.want, f.expectSay, r)
}

// answerURLOf reads --url: a base URL with no path (http://localhost:8080,
// https://abc.ngrok.app/) means the provider's answer URL on it.
func answerURLOf(s, provider string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("--url %q: want an http(s) URL such as http://localhost:8080 or https://abc.ngrok.app/%s/voice", s, provider)
	}
	if strings.Trim(u.Path, "/") == "" && u.RawQuery == "" {
		u.Path = "/" + provider + "/voice"
	}
	return u.String(), nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func describeOutcome(outcome string, dialed []string) string {
	if outcome == outcomeTransfer && len(dialed) > 0 {
		return outcome + " to " + strings.Join(dialed, ", ")
	}
	return outcome
}

// expectation is a parsed --expect.
type expectation struct {
	outcome string   // "" = no expectation
	numbers []string // transfer:NUMBER,...: each must be among the dialed
}

func parseExpect(s string) (expectation, error) {
	if s == "" {
		return expectation{}, nil
	}
	kind, nums, hasNums := strings.Cut(s, ":")
	switch kind {
	case outcomeHangup, outcomeCallerHangup, outcomeVoicemail, outcomeTransfer:
	default:
		return expectation{}, fmt.Errorf("--expect %q: want hangup, caller-hangup, voicemail, transfer or transfer:NUMBER", s)
	}
	e := expectation{outcome: kind}
	if hasNums {
		if kind != outcomeTransfer {
			return expectation{}, fmt.Errorf("--expect %q: only transfer takes numbers", s)
		}
		for _, n := range strings.Split(nums, ",") {
			if n = strings.TrimSpace(n); n != "" {
				e.numbers = append(e.numbers, n)
			}
		}
		if len(e.numbers) == 0 {
			return expectation{}, fmt.Errorf("--expect %q: no number after \"transfer:\"; give one or more, comma separated", s)
		}
	}
	return e, nil
}

// check compares the call with the expectations, printing one line each.
func check(out io.Writer, want expectation, says []string, r *runner) error {
	var failed []string
	report := func(what string, ok bool, got string) {
		if ok {
			fmt.Fprintf(out, "expect %s: ok\n", what)
			return
		}
		fmt.Fprintf(out, "expect %s: FAILED (%s)\n", what, got)
		failed = append(failed, fmt.Sprintf("expected %s, %s", what, got))
	}
	if want.outcome != "" {
		what := want.outcome
		if len(want.numbers) > 0 {
			what += ":" + strings.Join(want.numbers, ",")
		}
		ok := r.outcome == want.outcome
		for _, n := range want.numbers {
			ok = ok && dialedNumber(r.dialed, n)
		}
		report(what, ok, "call ended with "+describeOutcome(r.outcome, r.dialed))
	}
	heard := strings.ToLower(strings.Join(r.heard, "\n"))
	for _, s := range says {
		report(fmt.Sprintf("say %q", s), strings.Contains(heard, strings.ToLower(s)), "not heard")
	}
	if len(failed) > 0 {
		return errors.New(strings.Join(failed, "; "))
	}
	return nil
}

// dialedNumber compares numbers with or without "+" (Plivo writes none).
func dialedNumber(dialed []string, n string) bool {
	n = strings.TrimPrefix(n, "+")
	for _, d := range dialed {
		if strings.TrimPrefix(d, "+") == n {
			return true
		}
	}
	return false
}
