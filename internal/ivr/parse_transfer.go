package ivr

import "gopkg.in/yaml.v3"

var (
	transferKeys = []string{"to", "caller_id", "timeout", "no_answer"}
	vmKeys       = []string{"prompt", "max_length", "finish_key", "timeout", "beep", "thanks", "transcribe"}
)

func (p *parser) transfer(n *yaml.Node) *Transfer {
	t := &Transfer{TimeoutSeconds: defaultTransferTimeout}
	var toNode *yaml.Node
	ok := true
	switch n.Kind {
	case yaml.ScalarNode, yaml.SequenceNode:
		toNode = n
	default:
		for _, kv := range p.mapping(n, "transfer", transferKeys) {
			switch kv.k.Value {
			case "to":
				toNode = kv.v
			case "caller_id":
				if s, good := p.phone(kv.v, "caller_id"); good {
					t.CallerID = s
				} else {
					ok = false
				}
			case "timeout":
				if v, good := p.num(kv.v, "transfer timeout", 5, 600, "seconds"); good {
					t.TimeoutSeconds = v
				} else {
					ok = false
				}
			case "no_answer":
				t.NoAnswer = p.actions(kv.v, "no_answer", false)
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
		if s, good := p.phone(it, "transfer number"); good {
			t.To = append(t.To, s)
		} else {
			ok = false
		}
	}
	if !ok {
		return nil
	}
	return t
}

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
