package ivr

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

var (
	menuKeys   = []string{"label", "greeting", "short_greeting", "invalid_prompt", "timeout_prompt", "digits", "timeout", "inter_digit_timeout", "finish_key", "speech", "voice", "language", "options", "collect", "max_failures", "max_timeouts", "on_max_failures", "on_max_timeouts", "repeat_key"}
	optionKeys = []string{"do", "words", "label"}
	speechKeys = []string{"hints", "language", "min_confidence", "keypad_prompt"}
)

// menuSetting reads one of the keys menus share with defaults.
func (p *parser) menuSetting(kv pair, timeout, interDigit, maxFailures, maxTimeouts *int, finishKey *string,
	invalidPrompt, timeoutPrompt, onMaxFailures, onMaxTimeouts *[]Action) {
	k := kv.k.Value
	switch k {
	case "timeout":
		if v, ok := p.num(kv.v, k, 1, 60, "seconds"); ok {
			*timeout = v
		}
	case "inter_digit_timeout":
		if v, ok := p.num(kv.v, k, 1, 30, "seconds"); ok {
			*interDigit = v
		}
	case "max_failures":
		if v, ok := p.num(kv.v, k, 1, 10, "tries"); ok {
			*maxFailures = v
		}
	case "max_timeouts":
		if v, ok := p.num(kv.v, k, 1, 10, "tries"); ok {
			*maxTimeouts = v
		}
	case "finish_key":
		if v, ok := p.finishKey(kv.v, k); ok {
			*finishKey = v
		}
	case "invalid_prompt":
		*invalidPrompt = p.actions(kv.v, k, true)
	case "timeout_prompt":
		*timeoutPrompt = p.actions(kv.v, k, true)
	case "on_max_failures":
		*onMaxFailures = p.actions(kv.v, k, false)
	case "on_max_timeouts":
		*onMaxTimeouts = p.actions(kv.v, k, false)
	}
}

func (p *parser) menus(n *yaml.Node) {
	pairs := p.mapping(n, "menus", nil)
	if len(pairs) == 0 && n.Kind == yaml.MappingNode || isNull(n) {
		p.errf(n, "menus is empty: add at least the entry menu %q", p.f.Entry)
	}
	for _, kv := range pairs {
		id := kv.k.Value
		if !idRE.MatchString(id) {
			p.errf(kv.k, "menu id %q must be 1 to 64 letters, digits, _ or -", id)
			continue
		}
		m := p.menu(id, kv.k, kv.v)
		p.f.menus[id] = m
		p.f.order = append(p.f.order, m)
	}
}

func (p *parser) menu(id string, kn, n *yaml.Node) *Menu {
	d := p.defs
	m := &Menu{
		ID: id, Line: kn.Line, col: kn.Column, path: menuPrefix + id,
		TimeoutSeconds: d.timeout, InterDigitSeconds: d.interDigit, FinishKey: d.finishKey,
		MaxFailures: d.maxFailures, MaxTimeouts: d.maxTimeouts,
		InvalidPrompt: d.invalidPrompt, TimeoutPrompt: d.timeoutPrompt,
		OnMaxFailures: d.onMaxFailures, OnMaxTimeouts: d.onMaxTimeouts,
		RepeatKey: p.f.RepeatKey,
	}
	what := fmt.Sprintf("menu %q", id)
	digits := -1
	var optionsNode, collectNode, digitsNode, repeatNode *yaml.Node
	for _, kv := range p.mapping(n, what, menuKeys) {
		k := kv.k.Value
		switch k {
		case "label":
			m.Label, _ = p.str(kv.v, k)
		case "greeting":
			m.Greeting = p.actions(kv.v, k, true)
		case "short_greeting":
			m.ShortGreeting = p.actions(kv.v, k, true)
		case "digits":
			digitsNode = kv.v
			if v, ok := p.num(kv.v, k, 0, maxKeyLen, "keys"); ok {
				digits = v
			}
		case "speech":
			m.Speech = p.speech(kv.v)
		case "voice":
			m.Voice, _ = p.str(kv.v, k)
		case "language":
			if s, ok := p.langRef(kv.v, k); ok {
				m.Language = s
			}
		case "options":
			optionsNode = kv.v
			m.Options = p.options(id, kv.v)
		case "collect":
			collectNode = kv.v
			m.Collect = p.collect(m, kv.k, kv.v)
		case "repeat_key":
			repeatNode = kv.v
			m.RepeatKey, _ = p.finishKey(kv.v, k)
		default:
			p.menuSetting(kv, &m.TimeoutSeconds, &m.InterDigitSeconds, &m.MaxFailures, &m.MaxTimeouts, &m.FinishKey,
				&m.InvalidPrompt, &m.TimeoutPrompt, &m.OnMaxFailures, &m.OnMaxTimeouts)
		}
	}
	p.menuCollect(m, kn, optionsNode, collectNode, digitsNode)
	if optionsNode == nil && collectNode == nil {
		p.errf(kn, "menu %q has no options: add options: with at least one key, e.g. \"1\": {goto: main}", id)
	}
	if len(m.Greeting) == 0 {
		p.errf(kn, "menu %q has no greeting: add greeting: \"...\" telling callers what to press", id)
	}
	p.menuDigits(m, digits)
	p.menuRepeat(m, kn, repeatNode)
	if m.Speech != nil && m.Speech.Hints == nil {
		for _, o := range m.Options {
			m.Speech.Hints = append(m.Speech.Hints, o.Words...)
		}
	}
	return m
}

// menuDigits sets the keys m collects: digits when given (>= 0), else the
// common length of every option; and checks the options against it.
func (p *parser) menuDigits(m *Menu, digits int) {
	id := m.ID
	if digits >= 0 {
		m.Digits = digits
	} else {
		for i, o := range m.Options {
			l := o.match.length()
			if i == 0 {
				m.Digits = l
			} else if l != m.Digits {
				m.Digits = 0
			}
		}
	}
	for _, o := range m.Options {
		on := &yaml.Node{Line: o.line, Column: o.col}
		if l := o.match.length(); m.Digits > 0 && l > m.Digits {
			p.errf(on, "option %q needs %d keys but menu %q collects digits: %d; raise digits or set digits: 0 (any length, ended by %s)", o.Key, l, id, m.Digits, finishName(m.FinishKey))
		}
		if m.FinishKey != "" && strings.Contains(o.Key, m.FinishKey) && o.match.kind != matchRegex {
			p.errf(on, "option %q can never be chosen: %s is the finish key; set finish_key: \"\" or another key", o.Key, m.FinishKey)
		}
	}
}

// menuCollect checks what a collect menu cannot have, and gives the collect
// the menu's finish key unless it has its own.
func (p *parser) menuCollect(m *Menu, kn, optionsNode, collectNode, digitsNode *yaml.Node) {
	if collectNode == nil {
		return
	}
	if optionsNode != nil {
		p.errf(kn, "menu %q has both options and collect: a menu offers options or collects a value; move one to another menu", m.ID)
	}
	if digitsNode != nil {
		p.errf(digitsNode, "menu %q collects: set min_digits and max_digits under collect instead of digits", m.ID)
	}
	if c := m.Collect; c != nil && !c.finishSet {
		c.FinishKey = m.FinishKey
	}
}

func finishName(k string) string {
	if k == "" {
		return "a pause"
	}
	return k + " or a pause"
}

func (p *parser) speech(n *yaml.Node) *Speech {
	if n.Kind == yaml.ScalarNode {
		if on, ok := p.boolean(n, "speech"); ok && on {
			return &Speech{}
		}
		return nil
	}
	s := &Speech{}
	var keypadNode *yaml.Node
	for _, kv := range p.mapping(n, "speech", speechKeys) {
		switch kv.k.Value {
		case "hints":
			s.Hints = p.list(kv.v, "hints")
			if s.Hints == nil {
				s.Hints = []string{}
			}
		case "language":
			if l, ok := p.langRef(kv.v, "speech language"); ok {
				s.Language = l
			}
		case "min_confidence":
			s.MinConfidence, _ = p.confidence(kv.v)
		case "keypad_prompt":
			keypadNode = kv.v
			s.KeypadPrompt = p.actions(kv.v, "keypad_prompt", true)
		}
	}
	switch {
	case keypadNode != nil && s.MinConfidence == 0:
		p.errf(keypadNode, "keypad_prompt is said when a spoken answer is below min_confidence: set min_confidence (e.g. 0.4) or remove keypad_prompt")
	case s.MinConfidence > 0 && len(s.KeypadPrompt) == 0:
		s.KeypadPrompt = []Action{{Kind: KindSay, Text: Text{Plain: DefaultKeypadPrompt}, Line: n.Line, Col: n.Column}}
	}
	return s
}

// confidence reads speech min_confidence: a number above 0 and below 1.
func (p *parser) confidence(n *yaml.Node) (float64, bool) {
	v, err := strconv.ParseFloat(n.Value, 64)
	if n.Kind != yaml.ScalarNode || err != nil || !(v > 0 && v < 1) {
		p.errf(n, "min_confidence must be a number between 0 and 1 (the recognizer's confidence: Twilio Confidence, Plivo SpeechConfidenceScore), e.g. 0.4, not %q", truncate(n.Value, 20))
		return 0, false
	}
	return v, true
}

// menuRepeat checks m's repeat key (its own, else the flow's) against what
// the caller can enter at m; at is where the key is set (nil = the flow's).
func (p *parser) menuRepeat(m *Menu, kn, at *yaml.Node) {
	key := m.RepeatKey
	if key == "" {
		return
	}
	where, fix := "the flow's repeat_key", fmt.Sprintf("set repeat_key: \"\" in menu %q or choose another key", m.ID)
	if at == nil {
		at = kn
	} else {
		where, fix = "its repeat_key", "choose another key"
	}
	switch {
	case key == m.finish():
		p.errf(at, "menu %q: %s %s is also the key that ends an entry (finish_key), so it never repeats; %s", m.ID, where, key, fix)
	case m.Collect != nil && len(m.Collect.Confirm) > 0 && (key == confirmAccept || key == confirmReject):
		p.errf(at, "menu %q: %s %s answers the read-back (1 accepts, 2 asks again); %s", m.ID, where, key, fix)
	case m.Collect != nil && allDigits(key) && m.Collect.MinDigits <= 1:
		p.errf(at, "menu %q: %s %s is also a one-digit entry the collect takes; %s, or raise min_digits", m.ID, where, key, fix)
	case m.Collect == nil:
		if o := m.byKeys(key); o != nil {
			p.errf(at, "menu %q: %s %s also chooses option %q; %s", m.ID, where, key, o.Key, fix)
		}
	}
}

func (p *parser) options(menuID string, n *yaml.Node) []Option {
	pairs := p.mapping(n, fmt.Sprintf("options of menu %q", menuID), nil)
	if len(pairs) == 0 {
		p.errf(n, "menu %q has no options: add at least one, e.g. \"1\": {goto: main}", menuID)
	}
	var out []Option
	for _, kv := range pairs {
		key := kv.k.Value
		mt, err := compileKey(key)
		if err != nil {
			p.errf(kv.k, "%v", err)
			continue
		}
		o := Option{Key: key, match: mt, line: kv.k.Line, col: kv.k.Column}
		v := kv.v
		acts := v
		if v.Kind == yaml.MappingNode && hasAnyKey(v, optionKeys) {
			acts = nil
			for _, ov := range p.mapping(v, fmt.Sprintf("option %q", key), optionKeys) {
				switch ov.k.Value {
				case "do":
					acts = ov.v
					o.Actions = p.actions(ov.v, "do", false)
				case "words":
					for _, w := range p.list(ov.v, "words") {
						if len(words(w)) == 0 {
							p.errf(ov.v, "option %q: word %q has no letters or digits", key, w)
							continue
						}
						o.Words = append(o.Words, w)
					}
				case "label":
					o.Label, _ = p.str(ov.v, "label")
				}
			}
		} else {
			o.Actions = p.actions(v, fmt.Sprintf("option %q", key), false)
		}
		if acts == nil || isNull(acts) || (acts.Kind != yaml.ScalarNode && len(acts.Content) == 0) {
			p.errf(kv.k, "option %q does nothing: give it actions, e.g. goto: billing (or do: [...] with words: [...])", key)
		}
		out = append(out, o)
	}
	return out
}
