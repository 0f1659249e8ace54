package ivr

import (
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

var (
	transferKeys = []string{"to", "caller_id", "timeout", "no_answer", "ring", "whisper", "accept_key", "context"}
	vmKeys       = []string{"prompt", "max_length", "finish_key", "timeout", "beep", "thanks", "transcribe"}
)

func (p *parser) transfer(n *yaml.Node) *Transfer {
	t := &Transfer{TimeoutSeconds: defaultTransferTimeout}
	var toNode, keyNode *yaml.Node
	ok := true
	switch n.Kind {
	case yaml.ScalarNode, yaml.SequenceNode:
		toNode = n
	default:
		for _, kv := range p.mapping(n, "transfer", transferKeys) {
			switch kv.k.Value {
			case "to":
				toNode = kv.v
			case "no_answer":
				t.NoAnswer = p.actions(kv.v, "no_answer", false)
			case "accept_key":
				keyNode = kv.v
				ok = p.transferSetting(t, kv) && ok
			default:
				ok = p.transferSetting(t, kv) && ok
			}
		}
	}
	if toNode == nil || isNull(toNode) {
		p.errf(n, "transfer needs a number: transfer: call_center, transfer: \"+15551234567\" or transfer: {to: [...]}")
		return nil
	}
	items := []*yaml.Node{toNode}
	if toNode.Kind == yaml.SequenceNode {
		items = toNode.Content
	}
	if len(items) == 0 || len(items) > maxTransferNumbers {
		p.errf(toNode, "transfer needs 1 to %d numbers", maxTransferNumbers)
		ok = false
	}
	for _, it := range items {
		if it.Kind == yaml.ScalarNode && it.Value == "call_center" {
			t.To = append(t.To, it.Value)
			p.ccUses = append(p.ccUses, it)
			continue
		}
		if s, good := p.dialTarget(it); good {
			t.To = append(t.To, s)
		} else {
			ok = false
		}
	}
	if keyNode != nil && t.AcceptKey != "" && t.Whisper == "" {
		p.errf(keyNode, "accept_key %q needs a whisper: the agent must hear what the call is before pressing %s; add whisper: \"...\"", t.AcceptKey, t.AcceptKey)
		ok = false
	}
	if !ok {
		return nil
	}
	return t
}

// transferSetting reads one of a transfer's settings besides to and no_answer.
func (p *parser) transferSetting(t *Transfer, kv pair) bool {
	switch kv.k.Value {
	case "caller_id":
		s, good := p.phone(kv.v, "caller_id")
		t.CallerID = s
		return good
	case "timeout":
		v, good := p.num(kv.v, "transfer timeout", 5, 600, "seconds")
		if good {
			t.TimeoutSeconds = v
		}
		return good
	case "ring":
		s, good := p.str(kv.v, "ring")
		if good && s != "simultaneous" && s != "sequential" {
			p.errf(kv.v, "ring %q: write ring: simultaneous (every number at once, the default) or ring: sequential (one after the other)%s", s, suggest(s, []string{"simultaneous", "sequential"}))
			good = false
		}
		t.Sequential = s == "sequential"
		return good
	case "whisper":
		s, good := p.str(kv.v, "whisper")
		if good && strings.TrimSpace(s) == "" {
			p.errf(kv.v, "whisper is empty: write what the agent hears, e.g. whisper: \"Billing call\"")
			good = false
		}
		if good {
			p.template(kv.v, s, tmplPrompt)
			t.Whisper = s
		}
		return good
	case "accept_key":
		s, good := p.str(kv.v, "accept_key")
		if good && (len(s) != 1 || !strings.Contains("0123456789*#", s)) {
			p.errf(kv.v, "accept_key %q must be one key: 0-9, * or #", s)
			good = false
		}
		t.AcceptKey = s
		return good
	case "context":
		t.Context = p.context(kv.v, "transfer context")
		return t.Context != nil
	}
	return true
}

// sipRE is a SIP URI we can hand to both providers: user@host, parameters
// allowed, no headers of its own (context adds them).
var sipRE = regexp.MustCompile(`^sips?:[^\s@?&<>"]+@[A-Za-z0-9.\-\[\]:]+(;[^\s?&<>"]*)?$`)

// dialTarget reads a transfer target: an E.164 number or a SIP URI.
func (p *parser) dialTarget(n *yaml.Node) (string, bool) {
	if n.Kind == yaml.ScalarNode && (strings.HasPrefix(n.Value, "sip:") || strings.HasPrefix(n.Value, "sips:")) {
		if len(n.Value) > 255 || !sipRE.MatchString(n.Value) {
			p.errf(n, "transfer SIP URI %q: write sip:user@host (e.g. sip:sales@pbx.example.com), without ?headers: use context: for those", truncate(n.Value, 80))
			return "", false
		}
		return n.Value, true
	}
	return p.phone(n, "transfer number")
}

// maxContextFields bounds a context: each becomes a SIP header and a field
// of an event.
const maxContextFields = 8

// context reads a context: mapping of names to templates, in file order.
// nil = a problem was reported.
func (p *parser) context(n *yaml.Node, what string) []ContextField {
	pairs := p.mapping(n, what, nil)
	if n.Kind != yaml.MappingNode || len(pairs) == 0 {
		if n.Kind == yaml.MappingNode || isNull(n) {
			p.errf(n, "%s is empty: write names and values, e.g. context: {account: \"{{account}}\", intent: billing}", what)
		}
		return nil
	}
	if len(pairs) > maxContextFields {
		p.errf(n, "%s has %d names, at most %d", what, len(pairs), maxContextFields)
		return nil
	}
	out := make([]ContextField, 0, len(pairs))
	ok := true
	for _, kv := range pairs {
		name := kv.k.Value
		if len(name) > MaxVarNameLen || !contextNameRE.MatchString(name) {
			p.errf(kv.k, "%s name %q: use 1 to %d letters and digits (and _ or - inside); it becomes the SIP header X-IVR-Name", what, truncate(name, 40), MaxVarNameLen)
			ok = false
			continue
		}
		s, good := p.str(kv.v, what+" "+name)
		if !good {
			ok = false
			continue
		}
		p.template(kv.v, s, tmplPrompt)
		out = append(out, ContextField{Name: name, Value: s})
	}
	if !ok {
		return nil
	}
	return out
}

var contextNameRE = regexp.MustCompile(`^[A-Za-z]([A-Za-z0-9_-]*[A-Za-z0-9])?$`)

func defaultVoicemail() *Voicemail {
	return &Voicemail{
		Prompt:           []Action{{Kind: KindSay, Text: Text{Plain: defaultVMPrompt}}},
		MaxLengthSeconds: defaultVMMaxLength,
		FinishKey:        defaultFinishKey,
		TimeoutSeconds:   defaultVMTimeout,
		Beep:             true,
		Thanks:           []Action{{Kind: KindSay, Text: Text{Plain: defaultVMThanks}}},
	}
}

func (p *parser) voicemail(n *yaml.Node) *Voicemail {
	vm := defaultVoicemail()
	if isNull(n) {
		return vm
	}
	if n.Kind == yaml.ScalarNode {
		if b, ok := p.boolean(n, "voicemail"); ok && b {
			return vm
		}
		return nil
	}
	for _, kv := range p.mapping(n, "voicemail", vmKeys) {
		k := kv.k.Value
		switch k {
		case "prompt":
			vm.Prompt = p.actions(kv.v, "voicemail prompt", true)
		case "thanks":
			vm.Thanks = p.actions(kv.v, "voicemail thanks", true)
		case "max_length":
			if v, ok := p.num(kv.v, k, 1, 3600, "seconds"); ok {
				vm.MaxLengthSeconds = v
			}
		case "timeout":
			if v, ok := p.num(kv.v, "voicemail timeout", 1, 60, "seconds"); ok {
				vm.TimeoutSeconds = v
			}
		case "finish_key":
			if v, ok := p.finishKey(kv.v, k); ok {
				vm.FinishKey = v
			}
		case "beep":
			if v, ok := p.boolean(kv.v, k); ok {
				vm.Beep = v
			}
		case "transcribe":
			if v, ok := p.boolean(kv.v, k); ok {
				vm.Transcribe = v
			}
		}
	}
	return vm
}
