package ivr

import (
	"fmt"
	"strconv"
	"strings"
)

// exits is where an action list can lead.
type exits struct {
	menus    []string // menus it can go to (goto, redirect, top, fall-through to a menu)
	back     bool     // it can go back
	terminal bool     // it can end the call: hangup, transfer, voicemail or callback
}

// Where an action list goes when it does not end in a control action.
const (
	fallMenu   = iota // back to the current menu (options)
	fallEntry         // to the entry menu (answer)
	fallHangup        // hang up (closed, on_max_*, no_answer)
)

func (f *Flow) exitsOf(as []Action, cur string, fall int) exits {
	e, falls := f.flowOf(as)
	if !falls {
		return e
	}
	switch fall {
	case fallMenu:
		if cur != "" {
			e.menus = append(e.menus, cur)
		}
	case fallEntry:
		e.menus = append(e.menus, f.entries()...)
	case fallHangup:
		e.terminal = true
	}
	return e
}

// flowOf is where an action list can lead, and whether it can reach its end.
func (f *Flow) flowOf(as []Action) (exits, bool) {
	var e exits
	merge := func(n exits) {
		e.menus = append(e.menus, n.menus...)
		e.back = e.back || n.back
		e.terminal = e.terminal || n.terminal
	}
	for i := range as {
		a := &as[i]
		switch a.Kind {
		case KindGoto, KindRedirect:
			e.menus = append(e.menus, a.Menu)
			return e, false
		case KindTop:
			e.menus = append(e.menus, f.entries()...)
			return e, false
		case KindBack:
			e.back = true
			return e, false
		case KindTransfer:
			e.terminal = true
			// The no-answer path can lead on to menus too.
			merge(f.exitsOf(a.Transfer.NoAnswer, "", fallHangup))
			return e, false
		case KindVoicemail, KindHangup, KindCallback:
			e.terminal = true
			return e, false
		case KindFetch:
			n, _ := f.flowOf(a.OnError) // on_error that reaches its end goes on after the fetch
			merge(n)
		case KindSwitch, KindSplit: // a split's variants have no If: one always runs
			ends := false
			for j := range a.Branches {
				n, falls := f.flowOf(a.Branches[j].Actions)
				merge(n)
				if a.Branches[j].If == "" {
					ends = !falls && !anyFalls(f, a.Branches[:j])
				}
			}
			if ends {
				return e, false
			}
		}
	}
	return e, true
}

// anyFalls reports whether one of the branches can reach its end.
func anyFalls(f *Flow, bs []Branch) bool {
	for i := range bs {
		if _, falls := f.flowOf(bs[i].Actions); falls {
			return true
		}
	}
	return false
}

// menuExits merges the exits of every option and exhaustion path of m.
func (f *Flow) menuExits(m *Menu) exits {
	var all exits
	add := func(e exits) {
		all.menus = append(all.menus, e.menus...)
		all.back = all.back || e.back
		all.terminal = all.terminal || e.terminal
	}
	for _, o := range m.Options {
		add(f.exitsOf(o.Actions, m.ID, fallMenu))
	}
	if m.Collect != nil {
		add(f.exitsOf(m.Collect.Actions, m.ID, fallMenu))
	}
	add(f.exitsOf(m.OnMaxFailures, m.ID, fallHangup))
	add(f.exitsOf(m.OnMaxTimeouts, m.ID, fallHangup))
	return all
}

// check finds menus no call can reach and menus from which a call can never
// end (a loop with no way out).
func (p *parser) check() {
	f := p.f
	ex := map[string]exits{}
	preds := map[string][]string{}
	for _, m := range f.order {
		e := f.menuExits(m)
		ex[m.ID] = e
		for _, s := range e.menus {
			preds[s] = append(preds[s], m.ID)
		}
	}

	// Reachable from the answer URL.
	reached := map[string]bool{}
	var queue []string
	visit := func(ids ...string) {
		for _, id := range ids {
			if !reached[id] && f.menus[id] != nil {
				reached[id] = true
				queue = append(queue, id)
			}
		}
	}
	visit(f.exitsOf(f.Answer, "", fallEntry).menus...)
	if f.Hours != nil {
		visit(f.exitsOf(f.Hours.Closed, "", fallHangup).menus...)
	}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		visit(ex[id].menus...)
	}
	for _, m := range f.order {
		if !reached[m.ID] {
			p.probs = append(p.probs, Problem{File: p.file, Line: m.Line, Col: m.col,
				Msg: fmt.Sprintf("menu %q is never reached from the entry menu %q: link to it with goto: %s, or remove it", m.ID, f.Entry, m.ID)})
		}
	}

	// Menus that can end the call, directly or through others (fixed point).
	ends := map[string]bool{}
	for changed := true; changed; {
		changed = false
		for _, m := range f.order {
			if ends[m.ID] {
				continue
			}
			e := ex[m.ID]
			ok := e.terminal
			for _, s := range e.menus {
				ok = ok || ends[s]
			}
			if e.back {
				ok = ok || ends[f.Entry]
				for _, s := range preds[m.ID] {
					ok = ok || ends[s]
				}
			}
			if ok {
				ends[m.ID], changed = true, true
			}
		}
	}
	p.silentCycles(reached)
	for _, m := range f.order {
		if reached[m.ID] && !ends[m.ID] {
			p.probs = append(p.probs, Problem{File: p.file, Line: m.Line, Col: m.col,
				Msg: fmt.Sprintf("menu %q can never end the call: no option, on_max_failures or on_max_timeouts leads (through other menus) to hangup, transfer or voicemail; add one, e.g. on_max_failures: hangup", m.ID)})
		}
	}
}

// Warnings are what `ivr check` says about a flow that loads: menus a
// silent caller never leaves (the step limit ends those calls).
func (f *Flow) Warnings() Problems { return f.warnings }

// silentCycles warns about the menus a silent caller never leaves: where
// on_max_timeouts leads, menu after menu, never reaches a hangup, a
// transfer, a voicemail or back. The flow still loads: the call's step
// limit ends such a call (on_step_limit).
func (p *parser) silentCycles(reached map[string]bool) {
	f := p.f
	silent := map[string]exits{}
	for _, m := range f.order {
		silent[m.ID] = f.exitsOf(m.OnMaxTimeouts, m.ID, fallHangup)
	}
	leaves := map[string]bool{}
	for changed := true; changed; {
		changed = false
		for _, m := range f.order {
			e := silent[m.ID]
			ok := e.terminal || e.back
			for _, s := range e.menus {
				ok = ok || leaves[s]
			}
			if ok && !leaves[m.ID] {
				leaves[m.ID], changed = true, true
			}
		}
	}
	var stuck []string
	for _, m := range f.order {
		if reached[m.ID] && !leaves[m.ID] {
			stuck = append(stuck, strconv.Quote(m.ID))
		}
	}
	for _, m := range f.order {
		if reached[m.ID] && !leaves[m.ID] {
			p.warns = append(p.warns, Problem{File: p.file, Line: m.Line, Col: m.col,
				Msg: fmt.Sprintf("a silent caller never leaves menus %s: on_max_timeouts leads from one to another; the step limit (%d) ends such a call with on_step_limit. Add on_max_timeouts: hangup (or a transfer) to one of them",
					strings.Join(stuck, ", "), f.StepLimit)})
		}
	}
}
