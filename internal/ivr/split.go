package ivr

import (
	"crypto/sha256"
	"encoding/binary"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// A split sends each call down one of its weighted variants (an A/B test).
// The variant is a pure function of the call id and the split's labels, so
// every step of a call, on any instance, picks the same one without storing
// it; the call record says which (a "variant LABEL" event).

const (
	maxVariants = 10
	maxWeight   = 10000
	maxLabelLen = 32
)

var labelRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// variants reads split: [{label: short, weight: 50, do: [...]}, ...].
func (p *parser) variants(n *yaml.Node) []Branch {
	const how = "split is a list of variants: - {label: short, weight: 50, do: [...]} (at least two)"
	if n.Kind != yaml.SequenceNode || len(n.Content) < 2 {
		p.errf(n, "%s", how)
		return nil
	}
	if len(n.Content) > maxVariants {
		p.errf(n, "split has %d variants, at most %d", len(n.Content), maxVariants)
		return nil
	}
	out := make([]Branch, 0, len(n.Content))
	seen := map[string]int{}
	total, ok := 0, true
	for _, it := range n.Content {
		b, good := p.variant(it)
		if !good {
			ok = false
			continue
		}
		if line, dup := seen[b.Label]; dup {
			p.errf(it, "split: the label %q is already used at line %d: give each variant its own label", b.Label, line)
			ok = false
			continue
		}
		seen[b.Label] = it.Line
		total += b.Weight
		out = append(out, b)
	}
	if ok && total == 0 {
		p.errf(n, "split: every weight is 0, so no call can take a variant: give at least one a weight above 0")
		return nil
	}
	if !ok {
		return nil
	}
	return out
}

func (p *parser) variant(n *yaml.Node) (Branch, bool) {
	b := Branch{Line: n.Line, Col: n.Column}
	var labelNode, weightNode, doNode *yaml.Node
	for _, kv := range p.mapping(n, "a split variant", []string{"label", "weight", "do"}) {
		switch kv.k.Value {
		case "label":
			labelNode = kv.v
		case "weight":
			weightNode = kv.v
		case "do":
			doNode = kv.v
		}
	}
	if n.Kind != yaml.MappingNode {
		return b, false
	}
	if labelNode == nil || weightNode == nil || doNode == nil {
		p.errf(n, "a split variant needs label:, weight: and do:, e.g. {label: short, weight: 50, do: [...]}")
		return b, false
	}
	s, ok := p.str(labelNode, "label")
	if ok && !labelRE.MatchString(s) {
		p.errf(labelNode, "split label %q: use 1 to %d letters, digits, - and _ (it names the variant in insights)", truncate(s, 40), maxLabelLen)
		ok = false
	}
	b.Label = s
	w, good := p.num(weightNode, "weight", 0, maxWeight, "shares")
	b.Weight = w
	b.Actions = p.actions(doNode, "split variant "+s, false)
	return b, ok && good
}

// pickVariant is the variant of a split for a call: the same for every step
// of the call (and every instance), spread over the calls by weight.
func pickVariant(callID string, bs []Branch) *Branch {
	total := 0
	labels := make([]string, 0, len(bs))
	for i := range bs {
		total += bs[i].Weight
		labels = append(labels, bs[i].Label)
	}
	if total <= 0 {
		return nil
	}
	sum := sha256.Sum256([]byte(callID + "\x00" + strings.Join(labels, ",")))
	n := int(binary.BigEndian.Uint64(sum[:8]) % uint64(total))
	for i := range bs {
		if n < bs[i].Weight {
			return &bs[i]
		}
		n -= bs[i].Weight
	}
	return nil
}

// split runs the call's variant of a split; it reports whether the turn ended.
func (r *runner) split(a *Action, cur *Menu) bool {
	b := pickVariant(r.call.ID, a.Branches)
	if b == nil {
		return false
	}
	r.add(Event{Kind: EventVariant, Menu: curID(cur), More: &EventMore{Label: b.Label}})
	return r.exec(b.Actions, cur)
}
