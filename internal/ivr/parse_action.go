package ivr

import (
	"net/url"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

var (
	kindKeys   = []string{KindSay, KindPlay, KindPause, KindGoto, KindBack, KindTop, KindRedirect, KindTransfer, KindVoicemail, KindHangup, KindSetLanguage, KindSet, KindFetch, KindSwitch, KindCallback, KindSplit}
	actionKeys = append(slices.Clone(kindKeys), "voice", "language", "loop", "on_error")
)

// actions reads an action list: a sequence of actions, or one action. With
// prompt set only say, play and pause are allowed and a plain text is said.
func (p *parser) actions(n *yaml.Node, what string, prompt bool) []Action {
	if isNull(n) || (n.Kind != yaml.ScalarNode && len(n.Content) == 0) {
		return nil
	}
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	var out []Action
	for i, it := range items {
		a, ok := p.action(it, what, prompt)
		if !ok {
			continue
		}
		if i < len(items)-1 && a.Control() {
			p.errf(items[i+1], "%s: nothing after %s is ever run; move it before %s or remove it", what, a.Kind, a.Kind)
		} else if i < len(items)-1 && (a.Kind == KindSwitch || a.Kind == KindSplit) && endsAll([]Action{a}) {
			p.errf(items[i+1], "%s: every branch of the %s before this (else included) ends the call or moves on, so this is never run; move it into a branch or remove it", what, a.Kind)
		}
		out = append(out, a)
	}
	return out
}

func (p *parser) action(n *yaml.Node, what string, prompt bool) (Action, bool) {
	a := Action{Line: n.Line, Col: n.Column}
	if n.Kind == yaml.ScalarNode {
		if prompt {
			if isNull(n) || n.Value == "" {
				p.errf(n, "%s: empty prompt text", what)
				return a, false
			}
			a.Kind, a.Text.Plain = KindSay, n.Value
			p.template(n, n.Value, tmplPrompt)
			return a, true
		}
		switch n.Value {
		case KindBack, KindTop, KindHangup, KindVoicemail, KindCallback:
			a.Kind = n.Value
			switch a.Kind {
			case KindVoicemail:
				a.Voicemail = defaultVoicemail()
			case KindCallback:
				a.Callback = p.callback(&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: n.Line, Column: n.Column})
			}
			return a, true
		}
		p.errf(n, "%s: unknown action %q; a plain word can be back, top, hangup or voicemail, otherwise write e.g. say: \"...\" or goto: menu_id%s", what, n.Value, suggest(n.Value, kindKeys))
		return a, false
	}
	if n.Kind != yaml.MappingNode {
		p.errf(n, "%s: an action must be one item such as say: \"...\", not a nested list", what)
		return a, false
	}
	pairs := p.mapping(n, "an action", actionKeys)
	var kind *pair
	for i := range pairs {
		if slices.Contains(kindKeys, pairs[i].k.Value) {
			if kind != nil {
				p.errf(pairs[i].k, "an action does one thing: %s and %s are in the same item; make them two list items (- %s: ... and - %s: ...)", kind.k.Value, pairs[i].k.Value, kind.k.Value, pairs[i].k.Value)
				return a, false
			}
			kind = &pairs[i]
		}
	}
	if kind == nil {
		if len(pairs) == len(n.Content)/2 { // else an unknown key was reported already
			p.errf(n, "%s: the action has no kind: use one of %s", what, strings.Join(kindKeys, ", "))
		}
		return a, false
	}
	a.Kind = kind.k.Value
	if prompt && a.Kind != KindSay && a.Kind != KindPlay && a.Kind != KindPause {
		p.errf(kind.k, "%s: only say, play and pause can be used in a prompt, not %s", what, a.Kind)
		return a, false
	}
	ok := true
	for _, kv := range pairs {
		k := kv.k.Value
		switch {
		case kv.k == kind.k:
		case k == "on_error" && a.Kind == KindFetch:
			p.onError++ // {{error}} and conditions on error are known in here
			a.OnError = p.actions(kv.v, "on_error", false)
			p.onError--
		case (k == "voice" || k == "language") && a.Kind == KindSay,
			k == "loop" && (a.Kind == KindSay || a.Kind == KindPlay):
			switch k {
			case "voice":
				a.Voice, _ = p.str(kv.v, k)
			case "language":
				if s, good := p.langRef(kv.v, k); good {
					a.Language = s
				}
			case "loop":
				a.Loop, _ = p.num(kv.v, k, 0, 10, "times")
			}
		default:
			p.errf(kv.k, "%s does not take %s", a.Kind, k)
			ok = false
		}
	}
	return a, p.actionValue(&a, kind, ok)
}

// actionValue reads the value of the action's kind key into a.
func (p *parser) actionValue(a *Action, kind *pair, ok bool) bool {
	v := kind.v
	switch a.Kind {
	case KindSay:
		a.Text, ok = p.text(v, ok)
		if len(a.Text.Langs) > 0 && a.Language != "" {
			p.errf(kind.k, "say with text per language takes the language from its keys; remove language:")
		}
	case KindPlay:
		s, good := p.str(v, "play")
		if good {
			if u, err := url.Parse(s); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
				p.errf(v, "play %q is not a usable audio URL: write an absolute http(s) URL like https://example.com/hold.mp3", s)
				good = false
			}
		}
		a.URL, ok = s, ok && good
	case KindPause:
		a.Seconds, ok = p.num(v, "pause", 1, 60, "seconds")
	case KindGoto, KindRedirect:
		s, good := p.str(v, string(a.Kind))
		if good && a.Kind == KindRedirect {
			s = strings.TrimPrefix(s, "menu/")
		}
		if good {
			a.Menu = s
			p.menuUses = append(p.menuUses, use{s, v})
		}
		ok = ok && good
	case KindBack, KindTop, KindHangup:
		if !isNull(v) {
			if b, good := p.boolean(v, a.Kind); !good || !b {
				if good {
					p.errf(v, "%s: false is not allowed; remove the action instead", a.Kind)
				}
				ok = false
			}
		}
	case KindSetLanguage:
		s, good := p.langRef(v, "set_language")
		if good {
			a.Lang = s
		}
		ok = ok && good
	case KindTransfer:
		a.Transfer = p.transfer(v)
		ok = ok && a.Transfer != nil
	case KindVoicemail:
		a.Voicemail = p.voicemail(v)
		ok = ok && a.Voicemail != nil
	case KindCallback:
		a.Callback = p.callback(v)
		ok = ok && a.Callback != nil
	case KindSet:
		a.Set = p.set(v)
		ok = ok && a.Set != nil
		a.setNames = setNames(a.Set)
	case KindFetch:
		s, good := p.str(v, "fetch")
		if good {
			a.Request = s
			p.fetchUses = append(p.fetchUses, use{s, v})
		}
		ok = ok && good
	case KindSwitch:
		a.Branches = p.branches(v)
		ok = ok && a.Branches != nil
	case KindSplit:
		a.Branches = p.variants(v)
		ok = ok && a.Branches != nil
	}
	return ok
}

func (p *parser) text(n *yaml.Node, ok bool) (Text, bool) {
	var t Text
	switch n.Kind {
	case yaml.ScalarNode:
		if isNull(n) || n.Value == "" {
			p.errf(n, "say needs text")
			return t, false
		}
		t.Plain = n.Value
		p.template(n, n.Value, tmplPrompt)
	case yaml.MappingNode:
		for _, kv := range p.mapping(n, "say", nil) {
			l, good := p.lang(kv.k, "say language")
			s, good2 := p.str(kv.v, "say "+kv.k.Value)
			if !good || !good2 {
				ok = false
				continue
			}
			p.langUses = append(p.langUses, use{l, kv.k})
			p.template(kv.v, s, tmplPrompt)
			t.Langs = append(t.Langs, LangText{Lang: l, Text: s})
		}
		if len(t.Langs) == 0 {
			p.errf(n, "say needs text")
			return t, false
		}
	default:
		p.errf(n, "say needs text, or text per language like {en-US: \"Hello\", es-ES: \"Hola\"}")
		return t, false
	}
	return t, ok
}

// endsAll reports whether as can never reach its end: a control action, a
// switch with else whose every branch ends, or a split whose every variant
// ends (a split's variants have no If, like an else: one always runs).
func endsAll(as []Action) bool {
	for i := range as {
		a := &as[i]
		if a.Control() {
			return true
		}
		if a.Kind != KindSwitch && a.Kind != KindSplit {
			continue
		}
		hasElse, all := false, true
		for j := range a.Branches {
			hasElse = hasElse || a.Branches[j].If == ""
			all = all && endsAll(a.Branches[j].Actions)
		}
		if hasElse && all {
			return true
		}
	}
	return false
}
