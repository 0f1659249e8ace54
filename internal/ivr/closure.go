package ivr

import "fmt"

// What a closure does after its message.
const (
	ClosureVoicemail = "voicemail"
	ClosureHangup    = "hangup"
	ClosureTransfer  = "transfer"
)

// Closure is the line owner's switch (set in the admin, shared by every
// instance): while it is on, every new call hears Message and then Then,
// instead of the hours check, the answer actions and the entry menu. Calls
// already in a menu go on. The server decides whether one is on at the
// request's time (its end time included) and passes it in the Request.
type Closure struct {
	Message string
	Then    string // ClosureVoicemail, ClosureHangup or ClosureTransfer
	// To is where ClosureTransfer dials; "" = the flow's call_center.
	To string
}

// ValidClosureThen reports whether then is a closure's next step.
func ValidClosureThen(then string) bool {
	switch then {
	case ClosureVoicemail, ClosureHangup, ClosureTransfer:
		return true
	}
	return false
}

// closed answers a new call while a closure is on.
func (r *runner) closed(c *Closure) error {
	if !ValidClosureThen(c.Then) {
		return fmt.Errorf("closure: then %q is not voicemail, hangup or transfer", c.Then)
	}
	to := c.To
	if to == "" {
		to = r.f.CallCenterNumber
	}
	if c.Then == ClosureTransfer && to == "" {
		return fmt.Errorf("closure: transfer, but neither the closure nor the flow has a call_center number")
	}
	r.add(Event{Kind: EventClosure, More: &EventMore{Reason: c.Then}})
	if c.Message != "" {
		say := Action{Kind: KindSay, Text: Text{Plain: c.Message}}
		r.steps = append(r.steps, r.prompt(&say, nil))
	}
	switch c.Then {
	case ClosureVoicemail:
		r.voicemail(&Action{Kind: KindVoicemail, Voicemail: closureVoicemail()}, nil)
	case ClosureTransfer:
		// No dial-done: the call ends when the transfer does, answered or not.
		r.steps = append(r.steps, Dial{Numbers: []string{to}, TimeoutSeconds: defaultTransferTimeout}, Hangup{})
		r.add(Event{Kind: EventTransfer, More: &EventMore{Numbers: []string{to}}})
	default:
		r.steps = append(r.steps, Hangup{})
		r.mark(EventHangup, "")
	}
	return nil
}

// closureVoicemail is the default voicemail without its prompt: the
// closure's message said what to do.
func closureVoicemail() *Voicemail {
	vm := defaultVoicemail()
	vm.Prompt = nil
	return vm
}
