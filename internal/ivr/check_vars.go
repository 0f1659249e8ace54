package ivr

import (
	"fmt"
	"slices"
	"strings"
)

// readable are the names every template may read besides variables.
var readable = []string{"from", "to", "provider", "language", "call_center", "demo_api"}

// varMask is a set of the flow's variables (at most MaxVariables), by their
// index in Flow.Variables.
type varMask uint32

// varCheck finds variables read where no path sets them: a forward
// "possibly set" analysis over menus, run to a fixed point, then once more
// to report.
type varCheck struct {
	p       *parser
	f       *Flow
	in      map[string]varMask // variables possibly set when a menu is entered
	reached map[string]bool
	queue   []string
	report  bool
	seen    map[string]bool // reported problems (a shared prompt is walked per menu)
}

func (p *parser) checkVars() {
	f := p.f
	c := &varCheck{p: p, f: f, in: map[string]varMask{}, reached: map[string]bool{}, seen: map[string]bool{}}
	for pass := 0; pass < 2; pass++ {
		c.report = pass == 1
		c.roots()
		if c.report {
			for _, m := range f.order {
				if c.reached[m.ID] {
					c.menu(m)
				}
			}
			break
		}
		for len(c.queue) > 0 {
			id := c.queue[0]
			c.queue = c.queue[1:]
			c.menu(f.menus[id])
		}
	}
}

func (c *varCheck) roots() {
	c.walk(c.f.Answer, 0, nil, fallEntry)
	if c.f.Hours != nil {
		c.walk(c.f.Hours.Closed, 0, nil, fallHangup)
	}
}

func (c *varCheck) bit(name string) varMask {
	i := slices.Index(c.f.Variables, name)
	if i < 0 {
		return 0
	}
	return 1 << i
}

// flowTo records that a call can enter menu id with variables in.
func (c *varCheck) flowTo(id string, in varMask) {
	if c.f.menus[id] == nil || c.report {
		return
	}
	old, ok := c.in[id]
	c.reached[id] = true
	if !ok || old|in != old {
		c.in[id] = old | in
		c.queue = append(c.queue, id)
	}
}

func (c *varCheck) menu(m *Menu) {
	in := c.in[m.ID]
	for _, ps := range [][]Action{m.Greeting, m.ShortGreeting, m.InvalidPrompt, m.TimeoutPrompt} {
		c.walk(ps, in, m, -1)
	}
	for i := range m.Options {
		c.walk(m.Options[i].Actions, in, m, fallMenu)
	}
	if col := m.Collect; col != nil {
		c.walk(col.Confirm, in|c.bit(col.Into), m, -1)
		c.walk(col.Actions, in|c.bit(col.Into), m, fallMenu)
	}
	c.walk(m.OnMaxFailures, in, m, fallHangup)
	c.walk(m.OnMaxTimeouts, in, m, fallHangup)
}

// walk follows an action list; fall < 0: a prompt list (no control flow).
func (c *varCheck) walk(as []Action, in varMask, cur *Menu, fall int) {
	out, falls := c.list(as, in, cur)
	if !falls || fall < 0 {
		return
	}
	switch fall {
	case fallMenu:
		if cur != nil {
			c.flowTo(cur.ID, out)
		}
	case fallEntry:
		for _, id := range c.f.entries() {
			c.flowTo(id, out)
		}
	}
}

// list follows as with variables in; it returns the variables possibly set
// at its end and whether the end is reached.
func (c *varCheck) list(as []Action, in varMask, cur *Menu) (varMask, bool) {
	for i := range as {
		a := &as[i]
		c.reads(a, in)
		switch a.Kind {
		case KindSet:
			for _, s := range a.Set {
				in |= c.bit(s.Name)
			}
		case KindFetch:
			out, falls := c.list(a.OnError, in, cur)
			if r := c.f.requests[a.Request]; r != nil {
				for _, s := range r.Save {
					in |= c.bit(s.Var)
				}
			}
			if falls {
				in |= out
			}
		case KindSwitch, KindSplit: // a split's variants have no If: one always runs
			acc, ends := varMask(0), true
			hasElse := false
			for j := range a.Branches {
				b := &a.Branches[j]
				hasElse = hasElse || b.If == ""
				if out, falls := c.list(b.Actions, in, cur); falls {
					acc, ends = acc|out, false
				}
			}
			if !hasElse {
				acc, ends = acc|in, false
			}
			if ends {
				return in, false
			}
			in = acc
		case KindGoto, KindRedirect:
			c.flowTo(a.Menu, in)
			return in, false
		case KindTop:
			for _, id := range c.f.entries() {
				c.flowTo(id, in)
			}
			return in, false
		case KindBack:
			for _, m := range c.f.order { // any menu of the trail: every menu, to be safe
				c.flowTo(m.ID, in)
			}
			return in, false
		case KindTransfer:
			c.walk(a.Transfer.NoAnswer, in, cur, fallHangup)
			return in, false
		case KindVoicemail:
			c.walk(a.Voicemail.Prompt, in, cur, -1)
			c.walk(a.Voicemail.Thanks, in, cur, -1)
			return in, false
		case KindCallback:
			c.walk(a.Callback.Thanks, in, cur, -1)
			return in, false
		case KindHangup:
			return in, false
		}
	}
	return in, true
}

// reads reports the variables a reads that are not possibly set in in.
func (c *varCheck) reads(a *Action, in varMask) {
	if !c.report {
		return
	}
	check := func(line, col int, name, where string) {
		if slices.Contains(readable, name) || strings.HasPrefix(name, secretPrefix) || !varNameRE.MatchString(name) {
			return
		}
		if !slices.Contains(c.f.Variables, name) {
			return // reported where it is written
		}
		if in&c.bit(name) == 0 {
			c.problem(line, col, fmt.Sprintf("{{%s}} is read here%s, but no path to here sets %s first: set it before (set:, a fetch's save: or a collect's into:)", name, where, name))
		}
	}
	switch a.Kind {
	case KindSay:
		for _, t := range a.Text.all() {
			for _, n := range templateNames(t) {
				check(a.Line, a.Col, n, "")
			}
		}
	case KindSet:
		for _, s := range a.Set {
			for _, n := range templateNames(s.Value) {
				check(a.Line, a.Col, n, " (set "+s.Name+")")
			}
		}
	case KindTransfer:
		for _, n := range templateNames(a.Transfer.Whisper) {
			check(a.Line, a.Col, n, " (by the whisper)")
		}
		contextReads(a, a.Transfer.Context, check)
	case KindCallback:
		if cb := a.Callback; cb.Number != "from" {
			check(a.Line, a.Col, cb.Number, " (the callback number)")
		}
		contextReads(a, a.Callback.Context, check)
	case KindFetch:
		if r := c.f.requests[a.Request]; r != nil {
			for _, n := range r.reads() {
				if slices.Contains(c.f.Variables, n) {
					check(a.Line, a.Col, n, fmt.Sprintf(" (by request %q)", r.Name))
				}
			}
		}
	case KindSwitch:
		for _, b := range a.Branches {
			if b.cond == nil {
				continue
			}
			for _, n := range b.cond.names {
				if !slices.Contains(callNames, n) && n != ErrorName {
					if in&c.bit(n) == 0 {
						c.problem(b.Line, b.Col, fmt.Sprintf("the condition reads %s, but no path to here sets %s first: set it before (set:, a fetch's save: or a collect's into:)", n, n))
					}
				}
			}
		}
	}
}

// contextReads checks the variables a context's values read.
func contextReads(a *Action, ctx []ContextField, check func(line, col int, name, where string)) {
	for _, f := range ctx {
		for _, n := range templateNames(f.Value) {
			check(a.Line, a.Col, n, " (context "+f.Name+")")
		}
	}
}

func (c *varCheck) problem(line, col int, msg string) {
	key := fmt.Sprintf("%d:%d:%s", line, col, msg)
	if c.seen[key] {
		return
	}
	c.seen[key] = true
	c.p.probs = append(c.p.probs, Problem{File: c.p.file, Line: line, Col: col, Msg: msg})
}

// all returns the plain text and every per-language text.
func (t *Text) all() []string {
	out := make([]string, 0, 1+len(t.Langs))
	if t.Plain != "" {
		out = append(out, t.Plain)
	}
	for _, l := range t.Langs {
		out = append(out, l.Text)
	}
	return out
}

// reads lists the names a request's templates read, secrets left out.
func (r *HTTPRequest) reads() []string {
	var out []string
	add := func(s string) {
		for _, n := range templateNames(s) {
			if !strings.HasPrefix(n, secretPrefix) && !slices.Contains(readable, n) && !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	add(r.URL)
	for _, h := range r.Headers {
		add(h.Value)
	}
	var body func(b *BodyValue)
	body = func(b *BodyValue) {
		if b == nil {
			return
		}
		add(b.Text)
		for _, v := range b.Values {
			body(v)
		}
	}
	body(r.Body)
	return out
}

// entries are the flow's entry menus: entry and every number's.
func (f *Flow) entries() []string {
	out := []string{f.Entry}
	for _, n := range f.Numbers {
		if !slices.Contains(out, n.Entry) {
			out = append(out, n.Entry)
		}
	}
	return out
}
