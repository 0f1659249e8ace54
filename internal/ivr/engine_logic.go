package ivr

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// openVars reads the call's variables from the sealed token of the URL.
func (r *runner) openVars(token string) error {
	s, err := sealerOf(r.given)
	if err != nil {
		return err
	}
	vs, err := openVars(s, token, callBinding(r.call))
	if err != nil {
		return err
	}
	r.sealer, r.token = s, token
	// Keep only the variables this flow names (a reload may have dropped some).
	for _, v := range vs {
		if slices.Contains(r.f.Variables, v.name) {
			r.vars = append(r.vars, v)
		} else {
			r.token = ""
		}
	}
	return nil
}

// encode writes st for an action URL with the variables sealed into it.
func (r *runner) encode(st state) string {
	st.Loops = r.loops
	if len(r.vars) > 0 && r.err == nil {
		if r.token == "" {
			if r.sealer == nil {
				s, err := sealerOf(r.given)
				if err != nil {
					r.err = err
					return ""
				}
				r.sealer = s
			}
			r.token = r.sealer.SealFor(r.vars.encode(), callBinding(r.call))
		}
		st.Vars = r.token
	}
	return st.encode()
}

// setVar sets a variable (its value cut to MaxVarValueLen).
func (r *runner) setVar(name, value string) {
	if old, ok := r.vars.get(name); ok && old == cutValue(value) {
		return
	}
	r.vars = r.vars.set(name, value)
	r.token = ""
}

// value is a name's value as text: a variable (unset = "") or a call detail.
func (r *runner) value(name string) string {
	switch name {
	case "from":
		return r.call.From
	case "to":
		return r.call.To
	case "provider":
		return r.call.Provider
	case "language":
		return r.lang
	case "call_center":
		return r.f.CallCenterNumber
	case "demo_api":
		return r.demoAPI
	case ErrorName:
		return string(r.failure)
	}
	v, _ := r.vars.get(name)
	return v
}

// collect reads a collect menu's entry: digits (or spoken digits where the
// menu takes speech) of an allowed length go into the variable and the
// collect's actions run; anything else is a wrong entry. Events say how many
// digits came, never which.
func (r *runner) collect(m *Menu, next state, in Input) {
	c := m.Collect
	d, heard := c.read(m, in)
	if d == "" || len(d) < c.MinDigits || len(d) > c.MaxDigits {
		r.invalid(m, next, heard, m.InvalidPrompt)
		return
	}
	r.setVar(c.Into, d)
	heard.Kind, heard.Menu, heard.More = EventCollected, m.ID, &EventMore{Var: c.Into}
	r.add(heard)
	if len(c.Confirm) > 0 {
		next.Confirm = 1
		r.askConfirm(m, next)
		return
	}
	r.run(c.Actions, m, fallMenu)
}

// read returns the digits entered ("" = none readable) and an event with
// what was heard, without them (how many, never which).
func (c *Collect) read(m *Menu, in Input) (string, Event) {
	if strings.TrimSpace(in.Digits) != "" {
		d, ok := cleanDigits(in.Digits, c.FinishKey)
		if !ok || !allDigits(d) {
			return "", Event{Heard: HeardBadKeys}
		}
		return d, Event{Heard: HeardDigits, Digits: len(d)}
	}
	if m.Speech == nil {
		return "", Event{Heard: HeardSpeechIgnored}
	}
	d := collectedDigits(words(in.Speech))
	if d == "" {
		return "", Event{Heard: HeardSpeechNoDigits}
	}
	return d, Event{Heard: HeardSpokenDigits, Digits: len(d)}
}

// digitWords are spoken digits a transcript may spell out (English and
// Spanish), besides numerals.
var digitWords = map[string]byte{
	"zero": '0', "oh": '0', "one": '1', "two": '2', "three": '3', "four": '4',
	"five": '5', "six": '6', "seven": '7', "eight": '8', "nine": '9',
	"cero": '0', "uno": '1', "dos": '2', "tres": '3', "cuatro": '4',
	"cinco": '5', "seis": '6', "siete": '7', "ocho": '8', "nueve": '9',
}

// collectedDigits reads a transcript of numerals and spelled-out digits
// ("1 2 3", "123", "one two three") as digits; anything else gives "".
func collectedDigits(ws []string) string {
	var b strings.Builder
	for _, w := range ws {
		if allDigits(w) {
			b.WriteString(w)
		} else if d, ok := digitWords[w]; ok {
			b.WriteByte(d)
		} else {
			return ""
		}
		if b.Len() > maxInputLen {
			return ""
		}
	}
	return b.String()
}

// set runs a set action: each value expanded in one pass.
func (r *runner) set(a *Action, menu string) {
	for _, s := range a.Set {
		r.setVar(s.Name, expand(s.Value, r.value))
	}
	names := a.setNames
	if names == nil { // an Action not made by the parser
		names = setNames(a.Set)
	}
	r.add(Event{Kind: EventSet, Menu: menu, More: &EventMore{Vars: names}})
}

// setNames are the names a set action sets, for its event.
func setNames(set []Assign) []string {
	names := make([]string, 0, len(set))
	for _, s := range set {
		names = append(names, s.Name)
	}
	return names
}

// fetch runs a fetch action; it reports whether the turn ended. It records
// one fetch event (Reason: why it failed, "" when it did not; Error: the
// kind of failure); the engine's caller adds the lookup's outcome, status
// and duration to it. While on_error runs, the variable error names the
// failure.
func (r *runner) fetch(a *Action, cur *Menu) bool {
	id := curID(cur)
	req := r.f.requests[a.Request]
	res, why, fail := r.lookup(req)
	if r.halted() {
		return true
	}
	if why == "" {
		for _, s := range req.Save {
			r.setVar(s.Var, res.Values[s.Var])
		}
		r.add(Event{Kind: EventFetch, Menu: id, More: &EventMore{Request: req.Name}})
		return false
	}
	r.add(Event{Kind: EventFetch, Menu: id, More: &EventMore{Request: req.Name, Reason: why, Error: fail}})
	outer := r.failure
	r.failure = fail
	ended := r.exec(a.OnError, cur)
	r.failure = outer
	return ended
}

// lookup returns the result of req for this step: the next of
// req.Lookups, or it asks for the lookup (r.need), even one that cannot be
// sent (Lookup.Unsent). why is "" when the lookup succeeded, else a short
// reason, and fail its kind.
func (r *runner) lookup(req *HTTPRequest) (LookupResult, string, Failure) {
	if r.used < len(r.lookups) {
		res := r.lookups[r.used]
		r.used++
		if res.Request != req.Name {
			r.err = fmt.Errorf("lookup %d is for request %q, the flow asked for %q", r.used, res.Request, req.Name)
			return res, "error", FailUnavailable
		}
		if res.Unsent != "" {
			return res, res.Unsent, res.failure()
		}
		if !res.OK {
			return res, "lookup failed", res.failure()
		}
		for _, s := range req.Save {
			if _, ok := res.Values[s.Var]; !ok {
				return res, "no " + s.Var + " in the answer", FailBadAnswer
			}
		}
		return res, "", ""
	}
	l, why, fail := r.build(req)
	if why != "" {
		// Asked for like any other lookup, so the results never shift.
		l = Lookup{Request: req.Name, Method: req.Method, Timeout: req.Timeout, Save: req.saveMap(), Unsent: why, unsentFail: fail}
	}
	if r.used >= MaxFetchesPerStep || l.Unsent == "" && r.sent() >= MaxLookupsPerStep {
		r.err = fmt.Errorf("more than %d lookups in one step (request %q): the flow loops through fetch; put a menu between them", MaxLookupsPerStep, req.Name)
		return LookupResult{}, "error", FailUnavailable
	}
	r.need = &l
	return LookupResult{}, "", ""
}

// sent counts the step's lookups so far that were sent.
func (r *runner) sent() int {
	n := 0
	for _, res := range r.lookups[:r.used] {
		if res.Unsent == "" {
			n++
		}
	}
	return n
}

// switchOn runs the first branch whose condition holds (else: the else
// branch); it reports whether the turn ended.
func (r *runner) switchOn(a *Action, cur *Menu) bool {
	id := curID(cur)
	var env map[string]any
	for j := range a.Branches {
		b := &a.Branches[j]
		if b.If == "" {
			r.mark(EventSwitchElse, id)
			return r.exec(b.Actions, cur)
		}
		if env == nil {
			env = r.condEnv()
		}
		ok, err := b.cond.eval(env)
		if err != nil {
			r.add(Event{Kind: EventSwitchFailed, Menu: id, More: &EventMore{Branch: j + 1}})
			continue
		}
		if ok {
			r.add(Event{Kind: EventSwitch, Menu: id, More: &EventMore{Branch: j + 1, Cond: b.shown}})
			return r.exec(b.Actions, cur)
		}
	}
	r.mark(EventSwitchNone, id)
	return false
}

// condEnv is what conditions read: every variable (unset = "") and the
// call's details.
func (r *runner) condEnv() map[string]any {
	env := make(map[string]any, len(r.f.Variables)+len(callNames))
	for _, name := range r.f.Variables {
		v, _ := r.vars.get(name)
		env[name] = cmpValue{v}
	}
	env["from"], env["to"], env["provider"], env["language"] = r.call.From, r.call.To, r.call.Provider, r.lang
	env[ErrorName] = string(r.failure)
	env["open"] = r.f.Hours.Open(r.call.Now)
	lt := r.call.Now.In(r.f.Hours.Location())
	env["now_hour"], env["now_weekday"] = lt.Hour(), isoWeekday(lt.Weekday())
	return env
}

// isoWeekday numbers days from 1 = Monday to 7 = Sunday.
func isoWeekday(d time.Weekday) int {
	if d == time.Sunday {
		return 7
	}
	return int(d)
}
