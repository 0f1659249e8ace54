package ivr

import (
	"errors"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// maxCollectDigits is the longest value a collect takes: Plivo's GetInput
// accepts numDigits up to 32.
const maxCollectDigits = 32

var collectKeys = []string{"into", "min_digits", "max_digits", "finish_key", "confirm", "do"}

// set reads set: {name: "text with {{...}}", ...}.
func (p *parser) set(n *yaml.Node) []Assign {
	var out []Assign
	ok := true
	for _, kv := range p.mapping(n, "set", nil) {
		if !p.varName(kv.k, kv.k.Value) {
			ok = false
			continue
		}
		v := ""
		if !isNull(kv.v) {
			s, good := p.str(kv.v, "set "+kv.k.Value)
			if !good {
				ok = false
				continue
			}
			v = s
			p.template(kv.v, s, tmplSet)
		}
		p.setVar(kv.k.Value, kv.k)
		out = append(out, Assign{Name: kv.k.Value, Value: v})
	}
	if len(out) == 0 {
		if ok {
			p.errf(n, "set needs variables: set: {name: \"value\"}")
		}
		return nil
	}
	return out
}

// branches reads switch: [{if: cond, do: actions}, ..., {else: actions}].
func (p *parser) branches(n *yaml.Node) []Branch {
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		p.errf(n, "switch is a list of branches: - if: 'status == \"active\"' with do: [...], and last - else: [...]")
		return nil
	}
	out := make([]Branch, 0, len(n.Content))
	var elseNode *yaml.Node
	for _, it := range n.Content {
		b := Branch{Line: it.Line, Col: it.Column}
		var ifNode, doNode *yaml.Node
		isElse := false
		for _, kv := range p.mapping(it, "a switch branch", []string{"if", "do", "else"}) {
			switch kv.k.Value {
			case "if":
				ifNode = kv.v
			case "do":
				doNode = kv.v
			case "else":
				isElse, doNode = true, kv.v
				if elseNode != nil {
					p.errf(kv.k, "switch has one else (the first is at line %d)", elseNode.Line)
				}
				elseNode = kv.k
			}
		}
		if it.Kind != yaml.MappingNode {
			continue
		}
		if elseNode != nil && !isElse {
			p.errf(it, "switch: this branch comes after else and is never run; move else last")
		}
		switch {
		case isElse && ifNode != nil:
			p.errf(ifNode, "switch: a branch has if: and do:, or else: alone")
			continue
		case !isElse && ifNode == nil:
			p.errf(it, "switch: a branch needs if: 'condition' and do: [...] (or else: [...])")
			continue
		case !isElse && doNode == nil:
			p.errf(it, "switch: the branch needs do: [...]")
			continue
		}
		if ifNode != nil {
			if s, ok := p.str(ifNode, "if"); ok {
				b.If = s
			}
		}
		b.Actions = p.actions(doNode, "switch branch", false)
		out = append(out, b)
	}
	if len(out) == 0 {
		return nil
	}
	for i := range out { // compiled in resolve, once every variable is known
		if out[i].If != "" {
			p.conds = append(p.conds, condUse{&out[i], condNode(n.Content, out[i].Line, out[i].Col), p.onError > 0})
			out[i].shown = truncate(out[i].If, 60)
		}
	}
	return out
}

// condNode finds the if: value node of the branch item at line:col.
func condNode(items []*yaml.Node, line, col int) *yaml.Node {
	for _, it := range items {
		if it.Line == line && it.Column == col {
			for i := 0; i+1 < len(it.Content); i += 2 {
				if it.Content[i].Value == "if" {
					return it.Content[i+1]
				}
			}
		}
	}
	return nil
}

// compileConds compiles every switch condition against the flow's variables.
func (p *parser) compileConds() {
	for i, c := range p.conds {
		if i == maxConditions {
			p.errf(c.n, "the flow has %d switch conditions, at most %d", len(p.conds), maxConditions)
			return
		}
		cond, err := compileCond(c.b.If, p.f.Variables, c.onError)
		if err != nil {
			p.condProblem(c.n, err)
			continue
		}
		c.b.cond = cond
	}
}

// condProblem reports a condition error at its column when the condition
// is on one line.
func (p *parser) condProblem(n *yaml.Node, err error) {
	var ce *condError
	if !errors.As(err, &ce) || n == nil {
		p.errf(n, "%v", err)
		return
	}
	line, col := n.Line, n.Column
	if !strings.Contains(n.Value, "\n") && (n.Style == 0 || n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) != 0) {
		if n.Style != 0 {
			col++ // the opening quote
		}
		col += len([]rune(n.Value[:min(ce.off, len(n.Value))]))
	}
	p.probs = append(p.probs, Problem{File: p.file, Line: line, Col: col, Msg: ce.msg})
}

// collect reads a menu's collect:.
func (p *parser) collect(m *Menu, kn, n *yaml.Node) *Collect {
	c := &Collect{MinDigits: 1, Line: kn.Line, Col: kn.Column}
	what := fmt.Sprintf("menu %q collect", m.ID)
	var intoNode, doNode, minNode, maxNode *yaml.Node
	for _, kv := range p.mapping(n, what, collectKeys) {
		switch kv.k.Value {
		case "into":
			intoNode = kv.v
			if s, ok := p.str(kv.v, "into"); ok && p.varName(kv.v, s) {
				c.Into = s
				p.setVar(s, kv.v)
			}
		case "min_digits":
			minNode = kv.v
			c.MinDigits, _ = p.num(kv.v, "min_digits", 1, maxCollectDigits, "digits")
		case "max_digits":
			maxNode = kv.v
			c.MaxDigits, _ = p.num(kv.v, "max_digits", 1, maxCollectDigits, "digits")
		case "finish_key":
			if v, ok := p.finishKey(kv.v, "finish_key"); ok {
				c.FinishKey, c.finishSet = v, true
			}
		case "confirm":
			c.Confirm = p.actions(kv.v, "confirm", true)
		case "do":
			doNode = kv.v
			c.Actions = p.actions(kv.v, "collect do", false)
		}
	}
	if intoNode == nil {
		p.errf(kn, "%s needs into: variable_name", what)
	}
	if maxNode == nil {
		p.errf(kn, "%s needs max_digits: the longest value (1-%d)", what, maxCollectDigits)
	}
	if minNode != nil && maxNode != nil && c.MinDigits > c.MaxDigits && c.MaxDigits > 0 {
		p.errf(minNode, "%s: min_digits %d is more than max_digits %d", what, c.MinDigits, c.MaxDigits)
	}
	if doNode == nil || len(c.Actions) == 0 && isNull(doNode) {
		p.errf(kn, "%s needs do: what to do with the value, e.g. do: [{fetch: account}]", what)
	}
	return c
}
