package ivr

import (
	"slices"
	"strconv"
	"strings"
)

// resolve checks names used before they were defined.
func (p *parser) resolve() {
	f := p.f
	ids := make([]string, 0, len(f.order))
	for _, m := range f.order {
		ids = append(ids, m.ID)
	}
	for _, u := range p.menuUses {
		if f.menus[u.name] == nil {
			p.errf(u.n, "there is no menu %q%s", u.name, orList(suggest(u.name, ids), ids))
		}
	}
	tags := make([]string, 0, len(f.Languages))
	for _, l := range f.Languages {
		tags = append(tags, l.Tag)
	}
	for _, u := range p.langUses {
		if f.langs[u.name] == nil {
			p.errf(u.n, "language %q is not one the flow speaks: add it under languages: (known: %s)%s", u.name, strings.Join(tags, ", "), suggest(u.name, tags))
		}
	}
	if f.CallCenterNumber == "" {
		for _, n := range p.ccUses {
			p.errf(n, "transfer to call_center, but the flow has no call_center number: add call_center: \"+15551234567\" at the top")
		}
	}
	p.resolveLogic()
	if len(p.probs) > 0 {
		return
	}
	p.fillRefs()
}

// fillRefs fills call_center numbers and action references.
func (p *parser) fillRefs() {
	f := p.f
	var walk func(prefix string, as []Action)
	walk = func(prefix string, as []Action) {
		for i := range as {
			a := &as[i]
			a.ref = prefix + "." + strconv.Itoa(i)
			f.refs[a.ref] = a
			if t := a.Transfer; t != nil {
				for _, to := range t.To {
					if to == "call_center" {
						to = f.CallCenterNumber
					}
					if !slices.Contains(t.Numbers, to) {
						t.Numbers = append(t.Numbers, to)
					}
				}
				walk(a.ref+".no_answer", t.NoAnswer)
			}
			walk(a.ref+".on_error", a.OnError)
			for j := range a.Branches {
				walk(a.ref+".b"+strconv.Itoa(j), a.Branches[j].Actions)
			}
		}
	}
	walk("answer", f.Answer)
	if f.Hours != nil {
		walk("closed", f.Hours.Closed)
	}
	walk("step_limit", f.OnStepLimit)
	walk("defaults.on_max_failures", p.defs.onMaxFailures)
	walk("defaults.on_max_timeouts", p.defs.onMaxTimeouts)
	for _, m := range f.order {
		for i := range m.Options {
			walk(m.ID+"."+m.Options[i].Key, m.Options[i].Actions)
		}
		if m.Collect != nil {
			walk(m.ID+".collect", m.Collect.Actions)
		}
		if !sameSlice(m.OnMaxFailures, p.defs.onMaxFailures) {
			walk(m.ID+".on_max_failures", m.OnMaxFailures)
		}
		if !sameSlice(m.OnMaxTimeouts, p.defs.onMaxTimeouts) {
			walk(m.ID+".on_max_timeouts", m.OnMaxTimeouts)
		}
	}
}

// resolveLogic checks request names, counts variables and compiles
// conditions.
func (p *parser) resolveLogic() {
	f := p.f
	names := make([]string, 0, len(f.Requests))
	for _, r := range f.Requests {
		names = append(names, r.Name)
	}
	for _, u := range p.fetchUses {
		if f.requests[u.name] == nil {
			known := "; the flow has no requests: add requests: with " + u.name + ": {url: ...}"
			if len(names) > 0 {
				known = "; requests are: " + strings.Join(names, ", ")
			}
			if s := suggest(u.name, names); s != "" {
				known = s
			}
			p.errf(u.n, "there is no request %q%s", u.name, known)
		}
	}
	slices.SortFunc(p.varNodes, func(a, b use) int { return strings.Compare(a.name, b.name) })
	for i, u := range p.varNodes {
		if i == MaxVariables {
			p.errf(u.n, "the flow names %d variables, at most %d: reuse some (call state stays small because it rides in every URL)", len(p.varNodes), MaxVariables)
		}
		f.Variables = append(f.Variables, u.name)
	}
	if len(f.Variables) > MaxVariables {
		f.Variables = f.Variables[:MaxVariables]
	}
	for _, u := range p.reads {
		if !slices.Contains(f.Variables, u.name) {
			p.errf(u.n, "unknown placeholder {{%s}}: no set:, save: or collect into: sets a variable %s; the caller's details are {{from}}, {{to}} and {{call_center}}%s",
				u.name, u.name, suggest(u.name, append(slices.Clone(f.Variables), readable...)))
		}
	}
	p.compileConds()
}

func sameSlice(a, b []Action) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

func orList(sug string, ids []string) string {
	if sug != "" {
		return sug
	}
	if len(ids) > 8 {
		ids = ids[:8]
	}
	return "; menus are: " + strings.Join(ids, ", ")
}
