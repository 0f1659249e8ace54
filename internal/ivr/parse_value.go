package ivr

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

var e164RE = regexp.MustCompile(`^\+[1-9]\d{1,14}$`)

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// mapping returns the pairs of a mapping node, reporting duplicate keys and,
// when known is non-nil, unknown keys.
func (p *parser) mapping(n *yaml.Node, what string, known []string) []pair {
	if n.Kind != yaml.MappingNode {
		if isNull(n) {
			return nil
		}
		p.errf(n, "%s must be a mapping of key: value lines", what)
		return nil
	}
	seen := map[string]*yaml.Node{}
	var out []pair
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.errf(k, "%s: keys must be plain text", what)
			continue
		}
		if prev := seen[k.Value]; prev != nil {
			p.errf(k, "duplicate key %q in %s (first at line %d): remove one", k.Value, what, prev.Line)
			continue
		}
		seen[k.Value] = k
		if known != nil && !slices.Contains(known, k.Value) {
			p.errf(k, "unknown key %q in %s%s", k.Value, what, hint(k.Value, known))
			p.probs[len(p.probs)-1].cause = true
			continue
		}
		out = append(out, pair{k, v})
	}
	return out
}

func hint(s string, known []string) string {
	if h := suggest(s, known); h != "" {
		return h
	}
	return "; known keys: " + strings.Join(known, ", ")
}

func (p *parser) str(n *yaml.Node, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		p.errf(n, "%s must be a single text value", what)
		return "", false
	}
	return n.Value, true
}

func (p *parser) num(n *yaml.Node, what string, lo, hi int, unit string) (int, bool) {
	if n.Kind != yaml.ScalarNode {
		p.errf(n, "%s must be a whole number of %s", what, unit)
		return 0, false
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil {
		p.errf(n, "%s must be a whole number of %s, not %q", what, unit, n.Value)
		return 0, false
	}
	if v < lo || v > hi {
		p.errf(n, "%s is %d %s: use %d to %d", what, v, unit, lo, hi)
		return 0, false
	}
	return v, true
}

func (p *parser) boolean(n *yaml.Node, what string) (bool, bool) {
	if n.Kind == yaml.ScalarNode {
		switch strings.ToLower(n.Value) {
		case "true", "yes", "on":
			return true, true
		case "false", "no", "off":
			return false, true
		}
	}
	p.errf(n, "%s must be true or false", what)
	return false, false
}

// list reads a scalar or a sequence of scalars.
func (p *parser) list(n *yaml.Node, what string) []string {
	if isNull(n) {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		return []string{n.Value}
	}
	if n.Kind != yaml.SequenceNode {
		p.errf(n, "%s must be a list of text values", what)
		return nil
	}
	var out []string
	for _, c := range n.Content {
		if s, ok := p.str(c, what+" entries"); ok {
			out = append(out, s)
		}
	}
	return out
}

func (p *parser) lang(n *yaml.Node, what string) (string, bool) {
	s, ok := p.str(n, what)
	if !ok {
		return "", false
	}
	if !langRE.MatchString(s) {
		p.errf(n, "%s %q is not a language tag: write it like en-US or es-ES", what, s)
		return "", false
	}
	return s, true
}

// langRef reads a language tag that names one of the flow's languages
// (checked in resolve, once all are known).
func (p *parser) langRef(n *yaml.Node, what string) (string, bool) {
	s, ok := p.lang(n, what)
	if ok {
		p.langUses = append(p.langUses, use{s, n})
	}
	return s, ok
}

func (p *parser) phone(n *yaml.Node, what string) (string, bool) {
	s, ok := p.str(n, what)
	if !ok {
		return "", false
	}
	if !e164RE.MatchString(s) {
		p.errf(n, "%s %q is not an E.164 phone number: write + then country code and number, no spaces, like +15551234567", what, s)
		return "", false
	}
	return s, true
}

func (p *parser) finishKey(n *yaml.Node, what string) (string, bool) {
	if isNull(n) {
		return "", true
	}
	s, ok := p.str(n, what)
	if !ok {
		return "", false
	}
	if s != "" && (len(s) != 1 || !strings.Contains("0123456789*#", s)) {
		p.errf(n, "%s %q must be one key: 0-9, * or #, or \"\" for none", what, s)
		return "", false
	}
	return s, true
}

func hasAnyKey(n *yaml.Node, keys []string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if slices.Contains(keys, n.Content[i].Value) {
			return true
		}
	}
	return false
}
