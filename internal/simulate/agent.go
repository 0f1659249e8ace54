package simulate

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/ivr-project/ivr/internal/carrier"
	"github.com/ivr-project/ivr/internal/xml"
)

// The agent's side of a transfer with a whisper: the provider rings the
// agent, and before connecting the caller it requests the whisper URL on
// the agent's leg (Twilio <Number url>, Plivo confirmSound). The simulator
// plays that leg: it shows what the agent hears and lets the agent take the
// call or not (--agent, or a line typed at the terminal).

// whisper plays the agent's leg of v and reports whether the agent took
// the call. An agent who hangs up, or stays silent where a key is asked
// for, declines: the provider then rings the next number or ends the dial
// unanswered.
func (r *runner) whisper(ctx context.Context, v xml.Dial, docURL string) (bool, error) {
	u, err := resolve(docURL, v.Whisper)
	if err != nil {
		return false, err
	}
	who := "the agent"
	if len(v.Numbers) > 0 {
		who = clean(v.Numbers[0])
	}
	agent := carrier.NewCall(r.call.Provider, r.call.Account, r.call.From, strings.TrimPrefix(who, "client "))
	agent.Answered = true
	extra := url.Values{}
	if agent.Provider == carrier.Twilio {
		extra.Set("ParentCallSid", r.call.ID)
	}
	fmt.Fprintf(r.out, "  [%s answers; the caller still hears ringing]\n", who)
	verbs, err := r.fetch(ctx, request{method: "POST", url: u, extra: extra, as: &agent})
	if err != nil {
		return false, err
	}
	for t := xml.NextTurn(verbs); ; t = xml.NextTurn(t.Rest) {
		for _, h := range t.Heard {
			r.agentHears(h)
		}
		if t.Stop == nil {
			break
		}
		switch stop := t.Stop.(type) {
		case xml.Gather: // Twilio: the whisper asks for the accept key itself
			accepted, answered, err := r.agentGathers(ctx, stop, u, &agent, extra)
			if err != nil || answered {
				return accepted, err
			} // silence: the next verb (a hang-up) plays
		case xml.Hangup:
			fmt.Fprintln(r.out, "  [the agent's leg hangs up: declined]")
			return false, nil
		default:
			r.agentHears(stop)
		}
	}
	if v.AcceptKey == "" {
		fmt.Fprintln(r.out, "  [the agent takes the call]")
		return true, nil
	}
	// Plivo: the dial's confirmKey takes the key.
	keys, err := r.agentKeys(ctx, xml.Gather{Element: "confirmKey", DTMF: true, NumDigits: 1})
	if err != nil {
		return false, err
	}
	fmt.Fprintf(r.out, "  agent presses %q (confirmKey %s)\n", keys, v.AcceptKey)
	if keys != v.AcceptKey {
		fmt.Fprintln(r.out, "  [declined]")
		return false, nil
	}
	fmt.Fprintln(r.out, "  [the agent takes the call]")
	return true, nil
}

// agentGathers asks the agent for the whisper gather g's keys and sends
// them to g's action; answered: the agent pressed keys, and accepted says
// whether the answer connects the call.
func (r *runner) agentGathers(ctx context.Context, g xml.Gather, docURL string, agent *carrier.Call, extra url.Values) (accepted, answered bool, err error) {
	keys, err := r.agentKeys(ctx, g)
	if err != nil || keys == "" {
		if keys == "" && err == nil {
			fmt.Fprintln(r.out, "  (agent stays silent)")
		}
		return false, false, nil
	}
	fmt.Fprintf(r.out, "  agent presses %s\n", keys)
	next, err := resolve(docURL, g.Action)
	if err != nil {
		return false, true, err
	}
	in := agent.Input(g.Element, keys, "", "", "")
	for k, vals := range extra {
		in[k] = vals
	}
	answer, err := r.fetch(ctx, request{method: g.Method, url: next, extra: in, as: agent})
	if err != nil {
		return false, true, err
	}
	return r.agentDecides(answer), true, nil
}

// agentDecides reads the whisper's answer to the agent's key: nothing more
// connects the call; a hang-up declines it.
func (r *runner) agentDecides(verbs []xml.Verb) bool {
	for _, v := range verbs {
		if _, ok := v.(xml.Hangup); ok {
			fmt.Fprintln(r.out, "  [the agent's leg hangs up: declined]")
			return false
		}
		r.agentHears(v)
	}
	fmt.Fprintln(r.out, "  [the agent takes the call]")
	return true
}

func (r *runner) agentHears(v xml.Verb) {
	if s, ok := v.(xml.Say); ok {
		fmt.Fprintf(r.out, "  agent hears: %s\n", clean(s.Text))
		return
	}
	fmt.Fprint(r.out, "  agent:")
	r.hear(v)
}

// agentKeys asks the agent (--agent, or the terminal) for keys; "" = silence.
func (r *runner) agentKeys(ctx context.Context, g xml.Gather) (string, error) {
	if r.agent == nil {
		return "", nil
	}
	rep, err := r.agent.respond(ctx, g)
	if err != nil || rep.hangup {
		return "", err
	}
	return rep.keys, nil
}
