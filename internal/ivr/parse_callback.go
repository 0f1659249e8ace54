package ivr

import "gopkg.in/yaml.v3"

var callbackKeys = []string{"number", "confirm", "thanks", "context"}

// Defaults of a callback.
const (
	defaultCallbackThanks = "Thank you. We will call you back as soon as we can. Goodbye."
	// CallbackNumberVar is the variable that keeps a number the caller
	// entered for a callback with confirm: (the flow may read it too).
	CallbackNumberVar = "callback_number"
)

// callback reads a callback: action. callback: {} (or null, or true) takes
// the defaults: the caller's number, no read-back, the default thanks.
func (p *parser) callback(n *yaml.Node) *Callback {
	c := &Callback{Number: "from", Thanks: []Action{{Kind: KindSay, Text: Text{Plain: defaultCallbackThanks}}}}
	if isNull(n) {
		p.setVar(CallbackNumberVar, n)
		return c
	}
	if n.Kind == yaml.ScalarNode {
		if b, ok := p.boolean(n, "callback"); ok && b {
			return c
		} else if ok {
			p.errf(n, "callback: false is not allowed; remove the action instead")
		}
		return nil
	}
	ok := true
	for _, kv := range p.mapping(n, "callback", callbackKeys) {
		switch kv.k.Value {
		case "number":
			s, good := p.str(kv.v, "callback number")
			switch {
			case !good:
				ok = false
			case s == "from":
			case varNameRE.MatchString(s) && !isReserved(s):
				p.reads = append(p.reads, use{s, kv.v})
			default:
				p.errf(kv.v, "callback number %q: write from (the caller's number, the default) or the name of a variable holding the number, e.g. number: phone", truncate(s, 40))
				ok = false
			}
			c.Number = s
		case "confirm":
			c.Confirm, _ = p.boolean(kv.v, "confirm")
		case "thanks":
			c.Thanks = p.actions(kv.v, "callback thanks", true)
		case "context":
			c.Context = p.context(kv.v, "callback context")
			ok = ok && c.Context != nil
		}
	}
	p.setVar(CallbackNumberVar, n) // a number the caller enters is kept here
	if !ok {
		return nil
	}
	return c
}
