package ivr

import "strconv"

// DefaultStepLimit is Flow.StepLimit when the flow sets no step_limit.
const DefaultStepLimit = 10

// stepLimitGoodbye is said before hanging up when the call's step limit
// ends a call in a flow with no call center and no on_step_limit.
const stepLimitGoodbye = "Goodbye."

// defaultOnStepLimit is on_step_limit when the flow has none: the call
// center when the flow has one, else goodbye and hang up.
func defaultOnStepLimit(callCenter string) []Action {
	if callCenter != "" {
		return []Action{{Kind: KindTransfer, Transfer: &Transfer{To: []string{"call_center"}}}}
	}
	return []Action{{Kind: KindSay, Text: Text{Plain: stepLimitGoodbye}}, {Kind: KindHangup}}
}

// giveUp runs m's on_max_timeouts or on_max_failures (k says which) and
// counts it against the call's step limit: one give-up more than
// Flow.StepLimit runs on_step_limit instead, so a caller who never answers
// cannot go round menus forever.
func (r *runner) giveUp(m *Menu, k EventKind, actions []Action) {
	r.mark(k, m.ID)
	r.loops = min(r.loops+1, maxCount)
	if r.loops > r.f.StepLimit {
		r.add(Event{Kind: EventStepLimit, Menu: m.ID, More: &EventMore{Reason: strconv.Itoa(r.loops) + " menus ran out of tries"}})
		r.run(r.f.OnStepLimit, m, fallHangup)
		return
	}
	r.run(actions, m, fallHangup)
}
