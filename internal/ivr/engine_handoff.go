package ivr

import (
	"fmt"
	"strings"
)

// Paths of the hand-off URLs (relative to the voice base).
const (
	// PathWhisper is the whisper route: the answering agent's leg requests
	// it (Twilio <Number url>, Plivo confirmSound) before the caller is
	// connected.
	PathWhisper = "whisper"
	// PathCallback is the action of a callback's questions (confirm the
	// number, enter another).
	PathCallback = "action/callback"
)

// Answers a whisper or callback URL is waiting for (its step=).
const (
	stepAnswer  = "answer"  // the agent's key at the whisper (Twilio)
	stepConfirm = "confirm" // 1 = the number is right, 2 = enter another
	stepEnter   = "enter"   // the number the caller enters
)

// Prompts of the hand-off that the flow does not word.
const (
	whisperAcceptPrompt = "Press %s to take this call."
	callbackConfirmText = "We will call you back at %s. Press 1 if that is right, or 2 to enter another number."
	callbackEnterText   = "Please enter the number we should call, starting with the country code, then press pound."
	callbackGoodbye     = "Sorry, we could not take your number. Goodbye."
	maxCallbackTries    = 3
)

// CallbackRequest is a callback the caller asked for: the step's caller
// stores it and announces it (the callback.requested event).
type CallbackRequest struct {
	Number  string         // E.164, where to call back
	Context []ContextValue // the callback's context, else its transfer's, else the call's variables
}

// transfer dials a transfer's numbers: all of them, or number ring of a
// sequential one.
func (r *runner) transfer(a *Action, cur *Menu, ring int) {
	t, id := a.Transfer, curID(cur)
	nums := t.Numbers
	if t.Sequential && ring < len(nums) {
		nums = nums[ring : ring+1]
	}
	st := state{Lang: r.lang, Trail: r.trail, Menu: id, Ref: a.ref, Ring: ring}
	target := Target{Path: PathDialDone, Query: r.encode(st)}
	d := Dial{Numbers: nums, CallerID: t.CallerID, TimeoutSeconds: t.TimeoutSeconds, Action: &target,
		AcceptKey: t.AcceptKey, Context: r.contextValues(t.Context)}
	if t.Whisper != "" {
		w := state{Lang: r.lang, Menu: id, Ref: a.ref, Call: r.call.ID}
		d.Whisper = &Target{Path: PathWhisper, Query: r.encode(w)}
	}
	r.steps = append(r.steps, d)
	r.add(Event{Kind: EventTransfer, Menu: id, More: &EventMore{Numbers: nums, Context: d.Context}})
}

// contextValues fills in a context's templates.
func (r *runner) contextValues(fs []ContextField) []ContextValue {
	if len(fs) == 0 {
		return nil
	}
	out := make([]ContextValue, len(fs))
	for i, f := range fs {
		out[i] = ContextValue{Name: f.Name, Value: expand(f.Value, r.value)}
	}
	return out
}

// whisper answers the agent's leg of a transfer: the whisper, then (with an
// accept key) the key to take the call. On Twilio the whisper's own Gather
// asks for the key and its answer (step=answer) connects the call or hangs
// up the agent's leg; on Plivo the Dial's confirmKey takes it.
func (r *runner) whisper(st state, in Input) error {
	a := r.f.refs[st.Ref]
	if a == nil || a.Kind != KindTransfer || a.Transfer.Whisper == "" {
		return fmt.Errorf("step %s: flow %s has no transfer with a whisper %q (was the flow changed during the call?)", PathWhisper, r.f.File, st.Ref)
	}
	t, cur := a.Transfer, r.f.menus[st.Menu]
	id := curID(cur)
	if st.Step == stepAnswer {
		d := strings.TrimSpace(in.Digits)
		if d == t.AcceptKey {
			r.add(Event{Kind: EventWhisperAccepted, Menu: id, Heard: HeardAgent, Entry: d})
			return nil // an empty answer connects the call
		}
		r.add(Event{Kind: EventWhisperDeclined, Menu: id, Heard: HeardAgent, Entry: truncate(d, 8)})
		r.steps = append(r.steps, Hangup{})
		return nil
	}
	say := r.prompt(&Action{Kind: KindSay, Text: Text{Plain: t.Whisper}}, cur)
	r.mark(EventWhisper, id)
	if t.AcceptKey == "" {
		r.steps = append(r.steps, say)
		return nil
	}
	press := r.prompt(&Action{Kind: KindSay, Text: Text{Plain: fmt.Sprintf(whisperAcceptPrompt, t.AcceptKey)}}, cur)
	if r.call.Provider == "plivo" { // confirmSound plays only; confirmKey takes the key
		r.steps = append(r.steps, say, press)
		return nil
	}
	next := state{Lang: r.lang, Menu: id, Ref: st.Ref, Call: st.Call, Step: stepAnswer}
	r.steps = append(r.steps, Gather{
		Action: Target{Path: PathWhisper, Query: r.encode(next)}, Prompts: []Step{say, press},
		NumDigits: 1, TimeoutSeconds: 5, DTMF: true,
	}, Hangup{})
	return nil
}

// callback runs a callback action: the number is read back (confirm:),
// asked for (none known), or taken at once.
func (r *runner) callback(a *Action, cur *Menu) {
	cb := a.Callback
	num := r.callbackNumber(cb)
	switch {
	case num == "":
		r.callbackAsk(a, cur, stepEnter, 1, "")
	case cb.Confirm:
		r.callbackAsk(a, cur, stepConfirm, 1, num)
	default:
		r.callbackTake(a, cur, num)
	}
}

// callbackNumber is the number to call back: one the caller entered, else
// the callback's number; "" when it is not a phone number.
func (r *runner) callbackNumber(cb *Callback) string {
	if v, ok := r.vars.get(CallbackNumberVar); ok && v != "" {
		return phoneNumber(v)
	}
	return phoneNumber(r.value(cb.Number))
}

// phoneNumber reads s as a phone number in E.164 ("+" added when missing),
// or "" (an anonymous caller, a value that is not a number).
func phoneNumber(s string) string {
	s = strings.Map(func(r rune) rune {
		if strings.ContainsRune(" -.()", r) {
			return -1
		}
		return r
	}, s)
	d := strings.TrimPrefix(s, "+")
	if len(d) < 7 || len(d) > 15 || !allDigits(d) || d[0] == '0' {
		return ""
	}
	return "+" + d
}

// callbackAsk asks the caller to confirm num (step confirm) or to enter a
// number (step enter); try counts the asks.
func (r *runner) callbackAsk(a *Action, cur *Menu, step string, try int, num string) {
	id := curID(cur)
	target := Target{Path: PathCallback, Query: r.encode(state{Lang: r.lang, Menu: id, Ref: a.ref, Step: step, Attempt: try})}
	g := Gather{Action: target, DTMF: true, TimeoutSeconds: 5}
	text := callbackEnterText
	if step == stepConfirm {
		text = fmt.Sprintf(callbackConfirmText, spokenNumber(num))
		g.NumDigits = 1
	} else {
		g.FinishOnKey, g.TimeoutSeconds, g.InterDigitSeconds = "#", 10, 5
	}
	g.Prompts = []Step{r.prompt(&Action{Kind: KindSay, Text: Text{Plain: text}}, cur)}
	r.steps = append(r.steps, g, Redirect{Target: target})
	if step == stepConfirm {
		r.mark(EventCallbackConfirm, id)
	} else {
		r.mark(EventCallbackEnter, id)
	}
}

// callbackAnswer continues a callback with the caller's answer to its
// question.
func (r *runner) callbackAnswer(st state, in Input) error {
	a := r.f.refs[st.Ref]
	if a == nil || a.Kind != KindCallback {
		return fmt.Errorf("step %s: flow %s has no callback %q (was the flow changed during the call?)", PathCallback, r.f.File, st.Ref)
	}
	cur := r.f.menus[st.Menu]
	d, _ := cleanDigits(in.Digits, "#")
	switch {
	case st.Step == stepConfirm && d == "1":
		r.add(Event{Kind: EventCallbackConfirmed, Menu: curID(cur), Heard: HeardKeys, Entry: d})
		r.callbackTake(a, cur, r.callbackNumber(a.Callback))
	case st.Step == stepConfirm && d == "2":
		r.add(Event{Kind: EventCallbackAnother, Menu: curID(cur), Heard: HeardKeys, Entry: d})
		r.callbackAsk(a, cur, stepEnter, 1, "")
	case st.Step == stepEnter && phoneNumber(d) != "":
		r.setVar(CallbackNumberVar, phoneNumber(d))
		r.add(Event{Kind: EventCallbackEntered, Menu: curID(cur), Heard: HeardDigits, Digits: len(d)})
		if a.Callback.Confirm {
			r.callbackAsk(a, cur, stepConfirm, 1, phoneNumber(d))
		} else {
			r.callbackTake(a, cur, phoneNumber(d))
		}
	case st.Attempt >= maxCallbackTries:
		r.add(callbackHeard(EventCallbackNotTaken, curID(cur), d))
		r.steps = append(r.steps, r.prompt(&Action{Kind: KindSay, Text: Text{Plain: callbackGoodbye}}, cur), Hangup{})
		r.mark(EventHangup, curID(cur))
	default:
		r.add(callbackHeard(EventInvalid, curID(cur), d))
		r.callbackAsk(a, cur, st.Step, st.Attempt+1, r.callbackNumber(a.Callback))
	}
	return nil
}

// callbackHeard is an event of kind k with the keys entered at a callback's
// question: how many (never which), or silence.
func callbackHeard(k EventKind, menu, d string) Event {
	if d == "" {
		return Event{Kind: k, Menu: menu, Heard: HeardSilence}
	}
	return Event{Kind: k, Menu: menu, Heard: HeardDigits, Digits: len(d)}
}

// callbackTake records the request, thanks the caller and ends the call.
func (r *runner) callbackTake(a *Action, cur *Menu, num string) {
	id := curID(cur)
	cb := a.Callback
	ctx := r.contextValues(cb.Context)
	if ctx == nil {
		ctx = r.parentContext(a.ref)
	}
	if ctx == nil {
		for _, v := range r.vars {
			if v.name != CallbackNumberVar {
				ctx = append(ctx, ContextValue{Name: v.name, Value: v.value})
			}
		}
	}
	r.callbackReq = &CallbackRequest{Number: num, Context: ctx}
	r.add(Event{Kind: EventCallbackRequested, Menu: id, More: &EventMore{Numbers: []string{num}, Context: ctx}})
	for i := range cb.Thanks {
		r.steps = append(r.steps, r.prompt(&cb.Thanks[i], cur))
	}
	r.steps = append(r.steps, Hangup{})
	r.mark(EventHangup, id)
}

// parentContext is the context of the transfer whose no_answer holds the
// action ref, or nil.
func (r *runner) parentContext(ref string) []ContextValue {
	i := strings.LastIndex(ref, ".no_answer.")
	if i < 0 {
		return nil
	}
	if a := r.f.refs[ref[:i]]; a != nil && a.Kind == KindTransfer {
		return r.contextValues(a.Transfer.Context)
	}
	return nil
}

// UsesCallback reports whether an action of the flow is a callback (the
// server then needs the providers' REST credentials).
func (f *Flow) UsesCallback() bool {
	for _, a := range f.refs {
		if a.Kind == KindCallback {
			return true
		}
	}
	return false
}
