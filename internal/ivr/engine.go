package ivr

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Paths of the engine's own action URLs (relative to the voice base).
const (
	PathDialDone      = "action/dial-done"
	PathVoicemailDone = "action/voicemail-done"
	// PathTranscription receives a voicemail's transcript from the provider;
	// the server answers it (the engine has no step there).
	PathTranscription = "action/transcription"
	menuPrefix        = "menu/"
)

// Step answers one voice webhook of a call. It is pure: the result depends
// only on the flow and req (req.Call.Now included).
//
// Paths: "" is the answer URL (business hours, then the answer actions, then
// the entry menu); "menu/{id}" renders or evaluates menu id following the
// menu URL rule; "action/dial-done" continues after a transfer (reads
// req.DialStatus); "action/voicemail-done" thanks the caller after a
// voicemail and hangs up. An unknown path or menu is an error: a call that
// was in a menu removed by a reload lands there, and the server falls back.
func (f *Flow) Step(req Request) (Result, error) {
	st := parseState(req.Query)
	r := &runner{f: f, call: req.Call, lang: f.callLang(st.Lang, req.Call.To), trail: st.Trail, loops: st.Loops, steps: make([]Step, 0, 4),
		lookups: req.Lookups, secrets: req.Secrets, given: req.Sealer, demoAPI: req.DemoAPI}
	if req.Input.HasConfidence && req.Input.Confidence > 0 && req.Input.Confidence <= 1 {
		r.confidence = req.Input.Confidence
	}
	if st.BadVars {
		return Result{}, fmt.Errorf("step %q: the sealed variables (v=) are not a token", req.Path)
	}
	if req.Path == PathWhisper && st.Call != "" {
		r.call.ID = st.Call // the agent's leg speaks for the caller's call
	}
	if st.Vars != "" {
		if err := r.openVars(st.Vars); err != nil {
			return Result{}, fmt.Errorf("step %q: %w", req.Path, err)
		}
	}
	switch {
	case req.Path == "" && req.Closure != nil:
		if err := r.closed(req.Closure); err != nil {
			return Result{}, err
		}
	case req.Path == "":
		r.answer()
	case strings.HasPrefix(req.Path, menuPrefix):
		id := req.Path[len(menuPrefix):]
		m := f.menus[id]
		if m == nil {
			return Result{}, fmt.Errorf("step %q: flow %s has no menu %q", req.Path, f.File, id)
		}
		r.menu(m, st, req.Input)
	case req.Path == PathDialDone:
		if err := r.dialDone(st, req.DialStatus); err != nil {
			return Result{}, err
		}
	case req.Path == PathVoicemailDone:
		r.voicemailDone(st, req.RecordingURL)
	case req.Path == PathWhisper:
		if err := r.whisper(st, req.Input); err != nil {
			return Result{}, err
		}
	case req.Path == PathCallback:
		if err := r.callbackAnswer(st, req.Input); err != nil {
			return Result{}, err
		}
	default:
		return Result{}, fmt.Errorf("step %q: unknown path", req.Path)
	}
	switch {
	case r.err != nil:
		return Result{}, fmt.Errorf("step %q: %w", req.Path, r.err)
	case r.need != nil:
		return Result{Need: r.need}, nil
	}
	res := Result{Steps: r.steps, Events: r.events, Callback: r.callbackReq}
	if r.call.ID != req.Call.ID {
		res.CallID = r.call.ID
	}
	return res, nil
}

// callLang is the call's language: the state's if the flow speaks it, else
// the called number's, else the flow's default.
func (f *Flow) callLang(l, to string) string {
	if l != "" && f.langs[l] != nil {
		return l
	}
	if n := f.number(to); n != nil && n.Language != "" {
		return n.Language
	}
	return f.Language
}

// number is the numbers: entry of the number called: Twilio's "+1555..."
// and Plivo's "1555..." are the same number.
func (f *Flow) number(to string) *Number {
	if len(f.numbers) == 0 {
		return nil
	}
	return f.numbers[strings.TrimPrefix(strings.TrimSpace(to), "+")]
}

// urlPath is the menu's URL path ("menu/ID").
func (m *Menu) urlPath() string {
	if m.path == "" { // a Menu not made by the parser
		return menuPrefix + m.ID
	}
	return m.path
}

// entry is the call's entry menu: its number's, else the flow's.
func (r *runner) entry() *Menu {
	if n := r.f.number(r.call.To); n != nil {
		return r.f.menus[n.Entry]
	}
	return r.f.menus[r.f.Entry]
}

type runner struct {
	f      *Flow
	call   Call
	lang   string
	trail  []string
	loops  int // menus the call left because their tries ran out (state: loops)
	steps  []Step
	events []Event

	// From the Request (copied, so the Request stays on the stack).
	lookups []LookupResult
	secrets func(string) (string, bool)
	given   Sealer // the caller's; nil = an error when variables are kept
	demoAPI string

	vars    vars   // the call's variables
	token   string // vars sealed; "" = not sealed since the last change
	sealer  Sealer
	used    int     // lookups consumed
	need    *Lookup // a lookup the step waits for
	err     error   // the step fails
	failure Failure // while a fetch's on_error runs: why it failed (the variable error)
	// confidence is the recognizer's confidence in the request's speech
	// (0 = none reported), kept on the events of what was heard.
	confidence float64

	callbackReq *CallbackRequest // a callback taken in this step
}

// halted reports whether the step stopped (a lookup is needed, or an error).
func (r *runner) halted() bool { return r.need != nil || r.err != nil }

// add records e at the step's time (most steps record at most four
// events: one allocation).
func (r *runner) add(e Event) {
	e.At = r.call.Now
	if e.Confidence == 0 && (e.Heard == HeardSpeech || e.Heard == HeardSpokenDigits) {
		e.Confidence = r.confidence // what replay needs to judge it by a min_confidence again
	}
	if r.events == nil {
		r.events = make([]Event, 0, 4)
	}
	r.events = append(r.events, e)
}

// mark records an event of kind k in menu, with nothing else to say.
func (r *runner) mark(k EventKind, menu string) {
	r.add(Event{Kind: k, Menu: menu})
}

func (r *runner) answer() {
	f := r.f
	if f.Hours != nil && !f.Hours.Open(r.call.Now) {
		r.mark(EventClosed, "")
		r.run(f.Hours.Closed, nil, fallHangup)
		return
	}
	r.run(f.Answer, nil, fallEntry)
}

// enter renders m fresh (attempt 1, full greeting).
func (r *runner) enter(m *Menu) {
	r.mark(EventEnter, m.ID)
	r.render(m, state{Attempt: 1}, nil, false)
}

func (r *runner) menu(m *Menu, st state, in Input) {
	hasInput := strings.TrimSpace(in.Digits) != "" || strings.TrimSpace(in.Speech) != ""
	if !hasInput && st.Attempt == 0 {
		r.enter(m)
		return
	}
	next := state{Attempt: min(max(st.Attempt, 1)+1, maxCount), Invalid: st.Invalid, Timeouts: st.Timeouts, Keys: st.Keys}
	if st.Confirm > 0 && m.Collect != nil && len(m.Collect.Confirm) > 0 {
		r.confirmReply(m, st.Confirm, next, in)
		return
	}
	if key, ok := m.repeat(in); ok {
		r.add(Event{Kind: EventRepeatKey, Menu: m.ID, Heard: HeardKeys, Entry: key})
		r.render(m, next, nil, false)
		return
	}
	if !hasInput {
		next.Timeouts = min(next.Timeouts+1, maxCount)
		r.add(Event{Kind: EventTimeout, Menu: m.ID, Heard: HeardSilence})
		if next.Timeouts >= m.MaxTimeouts {
			r.giveUp(m, EventMaxTimeouts, m.OnMaxTimeouts)
			return
		}
		r.render(m, next, m.TimeoutPrompt, true)
		return
	}
	if heard, unsure := m.unsure(in); unsure {
		next.Keys = true
		r.invalid(m, next, heard, m.Speech.KeypadPrompt)
		return
	}
	if m.Collect != nil {
		r.collect(m, next, in)
		return
	}
	o, heard := r.choose(m, in)
	if o == nil {
		r.invalid(m, next, heard, m.InvalidPrompt)
		return
	}
	heard.Kind, heard.Menu, heard.Key = EventOption, m.ID, o.Key
	r.add(heard)
	r.run(o.Actions, m, fallMenu)
}

// invalid counts a wrong entry (heard: what the caller entered): the menu
// again after lead (its invalid prompt), or on_max_failures.
func (r *runner) invalid(m *Menu, next state, heard Event, lead []Action) {
	next.Invalid = min(next.Invalid+1, maxCount)
	heard.Kind, heard.Menu = EventInvalid, m.ID
	r.add(heard)
	if next.Invalid >= m.MaxFailures {
		r.giveUp(m, EventMaxFailures, m.OnMaxFailures)
		return
	}
	r.render(m, next, lead, true)
}

// choose finds the option the input selects; heard is an event with the
// input for the call record (its Heard fields).
func (r *runner) choose(m *Menu, in Input) (*Option, Event) {
	if strings.TrimSpace(in.Digits) != "" {
		d, ok := cleanDigits(in.Digits, m.FinishKey)
		if !ok {
			return nil, Event{Heard: HeardBadKeys}
		}
		return m.byKeys(d), Event{Heard: HeardKeys, Entry: d}
	}
	s := strings.TrimSpace(in.Speech)
	label := Event{Heard: HeardSpeech, Entry: truncate(s, 100)}
	if m.Speech == nil {
		return nil, label
	}
	ws := words(s)
	for i := range m.Options {
		o := &m.Options[i]
		for _, w := range o.Words {
			if phraseIn(words(w), ws) {
				return o, label
			}
		}
	}
	if d := spokenDigits(ws); d != "" {
		return m.byKeys(d), label
	}
	return nil, label
}

// byKeys matches exact keys first, then patterns and regexes in file order.
func (m *Menu) byKeys(d string) *Option {
	for i := range m.Options {
		if o := &m.Options[i]; o.match.kind == matchExact && o.match.s == d {
			return o
		}
	}
	for i := range m.Options {
		if o := &m.Options[i]; o.match.kind != matchExact && o.match.match(d) {
			return o
		}
	}
	return nil
}

func truncate(s string, n int) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= n {
			break
		}
		if r == utf8.RuneError || r < 0x20 || r == 0x7f {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func curID(m *Menu) string {
	if m == nil {
		return ""
	}
	return m.ID
}

// run executes an action list in menu cur (nil outside menus); fall says
// what happens when it does not end in a control action.
func (r *runner) run(as []Action, cur *Menu, fall int) {
	if r.exec(as, cur) {
		return
	}
	switch {
	case fall == fallMenu && cur != nil:
		r.mark(EventRepeat, cur.ID)
		r.render(cur, state{Attempt: 1}, nil, true)
	case fall == fallEntry:
		r.trail = nil
		r.enter(r.entry())
	default:
		r.steps = append(r.steps, Hangup{})
		r.mark(EventHangup, curID(cur))
	}
}

// exec runs as and reports whether the turn ended: a control action ran, or
// the step stopped for a lookup or an error.
func (r *runner) exec(as []Action, cur *Menu) bool {
	for i := range as {
		if r.action(&as[i], cur) || r.halted() {
			return true
		}
	}
	return false
}

// action runs one action and reports whether it ended the turn.
func (r *runner) action(a *Action, cur *Menu) bool {
	f := r.f
	id := curID(cur)
	switch a.Kind {
	case KindSay, KindPlay, KindPause:
		r.steps = append(r.steps, r.prompt(a, cur))
		r.mark(promptEvent(a.Kind), id)
	case KindSetLanguage:
		r.lang = a.Lang
		r.add(Event{Kind: EventSetLanguage, Menu: id, Target: a.Lang})
	case KindSet:
		r.set(a, id)
	case KindFetch:
		return r.fetch(a, cur)
	case KindSwitch:
		return r.switchOn(a, cur)
	case KindSplit:
		return r.split(a, cur)
	case KindGoto:
		r.add(Event{Kind: EventGoto, Menu: id, Target: a.Menu})
		if cur != nil && cur.ID != a.Menu {
			r.trail = push(r.trail, cur.ID)
		}
		r.enter(f.menus[a.Menu])
	case KindRedirect:
		r.add(Event{Kind: EventRedirect, Menu: id, Target: a.Menu})
		if cur != nil && cur.ID != a.Menu {
			r.trail = push(r.trail, cur.ID)
		}
		st := state{Lang: r.lang, Trail: r.trail}
		r.steps = append(r.steps, Redirect{Target: Target{Path: menuPrefix + a.Menu, Query: r.encode(st)}})
	case KindBack:
		to := r.pop()
		r.add(Event{Kind: EventBack, Menu: id, Target: to.ID})
		r.enter(to)
	case KindTop:
		r.mark(EventTop, id)
		r.trail = nil
		r.enter(r.entry())
	case KindTransfer:
		r.transfer(a, cur, 0)
	case KindCallback:
		r.callback(a, cur)
	case KindVoicemail:
		r.voicemail(a, cur)
	case KindHangup:
		r.steps = append(r.steps, Hangup{})
		r.mark(EventHangup, id)
	}
	return a.Control()
}

// promptEvent is the event kind of a say, play or pause action.
func promptEvent(kind string) EventKind {
	switch kind {
	case KindPlay:
		return EventPlay
	case KindPause:
		return EventPause
	}
	return EventSay
}

func (r *runner) voicemail(a *Action, cur *Menu) {
	vm := a.Voicemail
	for j := range vm.Prompt {
		r.steps = append(r.steps, r.prompt(&vm.Prompt[j], cur))
	}
	st := state{Lang: r.lang, Menu: curID(cur), Ref: a.ref}
	rec := Record{
		Action:           Target{Path: PathVoicemailDone, Query: r.encode(st)},
		MaxLengthSeconds: vm.MaxLengthSeconds,
		FinishOnKey:      vm.FinishKey,
		TimeoutSeconds:   vm.TimeoutSeconds,
		PlayBeep:         vm.Beep,
	}
	if vm.Transcribe {
		// No variables: the transcript is stored, never spoken or branched on.
		rec.Transcription = &Target{Path: PathTranscription, Query: state{Menu: curID(cur)}.encode()}
	}
	r.steps = append(r.steps, rec, Hangup{})
	r.mark(EventVoicemail, curID(cur))
}

// pop takes the last menu of the back-trail that still exists; an empty
// trail goes to the entry menu.
func (r *runner) pop() *Menu {
	for len(r.trail) > 0 {
		id := r.trail[len(r.trail)-1]
		r.trail = r.trail[:len(r.trail)-1]
		if m := r.f.menus[id]; m != nil {
			return m
		}
	}
	return r.entry()
}

// connected reports whether a dial status means the transfer was answered.
func connected(status string) bool {
	switch strings.ToLower(strings.TrimSpace(status)) {
	case "completed", "answered", "answer":
		return true
	}
	return false
}

func (r *runner) dialDone(st state, status string) error {
	a := r.f.refs[st.Ref]
	if a == nil || a.Kind != KindTransfer {
		return fmt.Errorf("step %s: flow %s has no transfer %q (was the flow changed during the call?)", PathDialDone, r.f.File, st.Ref)
	}
	cur := r.f.menus[st.Menu]
	id := curID(cur)
	dial := truncate(strings.ToLower(strings.TrimSpace(status)), 20)
	if connected(status) {
		r.add(Event{Kind: EventHangup, Menu: id, Heard: HeardDial, Entry: dial})
		r.steps = append(r.steps, Hangup{})
		return nil
	}
	if t := a.Transfer; t.Sequential && st.Ring+1 < len(t.Numbers) {
		r.add(Event{Kind: EventNextNumber, Menu: id, Heard: HeardDial, Entry: dial, More: &EventMore{Numbers: t.Numbers[st.Ring+1 : st.Ring+2]}})
		r.transfer(a, cur, st.Ring+1)
		return nil
	}
	r.add(Event{Kind: EventNoAnswer, Menu: id, Heard: HeardDial, Entry: dial})
	r.run(a.Transfer.NoAnswer, cur, fallHangup)
	return nil
}

func (r *runner) voicemailDone(st state, recording string) {
	cur := r.f.menus[st.Menu]
	id := curID(cur)
	r.add(Event{Kind: EventVoicemailDone, Menu: id, Heard: HeardRecording, More: &EventMore{URL: truncate(recording, 200)}})
	thanks := []Action{{Kind: KindSay, Text: Text{Plain: defaultVMThanks}}}
	if a := r.f.refs[st.Ref]; a != nil && a.Kind == KindVoicemail {
		thanks = a.Voicemail.Thanks
	}
	for i := range thanks {
		r.steps = append(r.steps, r.prompt(&thanks[i], cur))
	}
	r.steps = append(r.steps, Hangup{})
	r.mark(EventHangup, id)
}
