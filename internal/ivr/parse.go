package ivr

import (
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// MaxFileSize is the largest flow file Parse and Load accept.
const MaxFileSize = 1 << 20

var e164RE = regexp.MustCompile(`^\+[1-9]\d{1,14}$`)

// Built-in defaults (see FORMAT.md).
const (
	defaultLanguage        = "en-US"
	defaultTimeout         = 5
	defaultInterDigit      = 3
	defaultFinishKey       = "#"
	defaultMaxFailures     = 3
	defaultMaxTimeouts     = 3
	defaultTransferTimeout = 30
	defaultVMMaxLength     = 120
	defaultVMTimeout       = 5
	defaultVMPrompt        = "Please leave a message after the beep. Press the pound key when you are finished."
	defaultVMThanks        = "Thank you for your message. Goodbye."
	maxTransferNumbers     = 10
)

var (
	topKeys      = []string{"name", "description", "entry", "language", "voice", "languages", "call_center", "defaults", "hours", "answer", "menus", "sms"}
	defaultsKeys = []string{"timeout", "inter_digit_timeout", "finish_key", "max_failures", "max_timeouts", "invalid_prompt", "timeout_prompt", "on_max_failures", "on_max_timeouts"}
	menuKeys     = []string{"label", "greeting", "short_greeting", "invalid_prompt", "timeout_prompt", "digits", "timeout", "inter_digit_timeout", "finish_key", "speech", "voice", "language", "options", "max_failures", "max_timeouts", "on_max_failures", "on_max_timeouts"}
	optionKeys   = []string{"do", "words", "label"}
	kindKeys     = []string{KindSay, KindPlay, KindPause, KindGoto, KindBack, KindTop, KindRedirect, KindTransfer, KindVoicemail, KindHangup, KindSetLanguage}
	actionKeys   = append(slices.Clone(kindKeys), "voice", "language", "loop")
	transferKeys = []string{"to", "caller_id", "timeout", "no_answer"}
	vmKeys       = []string{"prompt", "max_length", "finish_key", "timeout", "beep", "thanks"}
	hoursKeys    = []string{"time_zone", "weekly", "holidays", "closed"}
	speechKeys   = []string{"hints", "language"}
	langKeys     = []string{"voice", "name"}
	smsKeys      = []string{"keywords", "default"}
)

// Load reads and parses the flow file at path.
func Load(path string) (*Flow, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

func readFile(path string) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load flow %s: %w", path, err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("load flow %s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("load flow %s: file is more than the %d bytes allowed", path, MaxFileSize)
	}
	return data, nil
}

// Parse reads a flow file. name is used in problem positions. A bad file
// gives an error of type Problems listing every problem found.
func Parse(name string, data []byte) (*Flow, error) {
	if len(data) > MaxFileSize {
		return nil, Problems{{File: name, Msg: fmt.Sprintf("flow file is %d bytes, more than the %d allowed", len(data), MaxFileSize)}}
	}
	var doc yaml.Node
	if err := safeUnmarshal(data, &doc); err != nil {
		return nil, Problems{yamlProblem(name, err)}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, Problems{{File: name, Msg: "flow file is empty: start from the bundled example (ivr check prints nothing for it)"}}
	}
	p := &parser{file: name, f: &Flow{File: name, revision: contentRevision(data), menus: map[string]*Menu{}, refs: map[string]*Action{}, langs: map[string]*LanguageConfig{}}}
	p.noAliases(&doc)
	p.flow(doc.Content[0])
	p.resolve()
	if len(p.probs) == 0 {
		p.check()
	}
	if len(p.probs) > 0 {
		p.probs.sort()
		return nil, p.probs
	}
	return p.f, nil
}

func safeUnmarshal(data []byte, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: cannot parse: %v", r)
		}
	}()
	return yaml.Unmarshal(data, n)
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func yamlProblem(name string, err error) Problem {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return Problem{File: name, Line: line, Col: 1, Msg: "YAML syntax: " + m[2] + " (check indentation, and quote keys like \"*\" and \"#\")"}
	}
	return Problem{File: name, Msg: "YAML syntax: " + strings.TrimPrefix(msg, "yaml: ")}
}

type pair struct{ k, v *yaml.Node }

// use is a reference resolved after the whole file is read.
type use struct {
	name string
	n    *yaml.Node
}

type parser struct {
	file  string
	probs Problems
	f     *Flow

	menuUses []use // goto / redirect targets
	langUses []use // languages named by say or set_language
	ccUses   []*yaml.Node
	defs     menuDefaults
}

type menuDefaults struct {
	timeout, interDigit, maxFailures, maxTimeouts int
	finishKey                                     string
	invalidPrompt, timeoutPrompt                  []Action
	onMaxFailures, onMaxTimeouts                  []Action
}

func (p *parser) errf(n *yaml.Node, format string, args ...any) {
	line, col := 0, 0
	if n != nil {
		line, col = n.Line, n.Column
	}
	p.probs = append(p.probs, Problem{File: p.file, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)})
}

// noAliases reports YAML aliases (*name) and replaces them with nulls:
// following them could blow a small file up exponentially.
func (p *parser) noAliases(n *yaml.Node) {
	for _, c := range n.Content {
		if c.Kind == yaml.AliasNode {
			p.errf(c, "YAML aliases (*%s) are not supported: write the value out", c.Value)
			*c = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: c.Line, Column: c.Column}
			continue
		}
		p.noAliases(c)
	}
}

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

func (p *parser) flow(root *yaml.Node) {
	f := p.f
	if root.Kind != yaml.MappingNode {
		p.errf(root, "a flow file must be a mapping with keys such as entry, menus (see the bundled example)")
		return
	}
	top := map[string]*yaml.Node{}
	for _, kv := range p.mapping(root, "the flow", topKeys) {
		top[kv.k.Value] = kv.v
	}
	if n := top["name"]; n != nil {
		f.Name, _ = p.str(n, "name")
	}
	if n := top["description"]; n != nil {
		f.Description, _ = p.str(n, "description")
	}
	f.Entry = "main"
	if n := top["entry"]; n != nil {
		if s, ok := p.str(n, "entry"); ok {
			f.Entry = s
			p.menuUses = append(p.menuUses, use{s, n})
		}
	}
	f.Language = defaultLanguage
	if n := top["language"]; n != nil {
		if s, ok := p.lang(n, "language"); ok {
			f.Language = s
		}
	}
	if n := top["voice"]; n != nil {
		f.Voice, _ = p.str(n, "voice")
	}
	p.languages(top["languages"])
	if n := top["call_center"]; n != nil {
		f.CallCenterNumber, _ = p.phone(n, "call_center")
	}
	p.defaults(top["defaults"])
	if n := top["hours"]; n != nil {
		f.Hours = p.hours(n)
	}
	if n := top["answer"]; n != nil {
		f.Answer = p.actions(n, "answer", false)
	}
	if n := top["menus"]; n != nil {
		p.menus(n)
	} else {
		p.errf(root, "the flow has no menus: add menus: with at least the entry menu %q", f.Entry)
	}
	if n := top["sms"]; n != nil {
		p.sms(n)
	}
}

func (p *parser) languages(n *yaml.Node) {
	f := p.f
	f.Languages = []LanguageConfig{{Tag: f.Language}}
	if n != nil {
		for _, kv := range p.mapping(n, "languages", nil) {
			tag, ok := p.lang(kv.k, "language")
			if !ok {
				continue
			}
			lc := LanguageConfig{Tag: tag}
			switch {
			case isNull(kv.v):
			case kv.v.Kind == yaml.ScalarNode:
				lc.Voice = kv.v.Value
			default:
				for _, lv := range p.mapping(kv.v, "language "+tag, langKeys) {
					switch lv.k.Value {
					case "voice":
						lc.Voice, _ = p.str(lv.v, "voice")
					case "name":
						lc.Name, _ = p.str(lv.v, "name")
					}
				}
			}
			if tag == f.Language {
				f.Languages[0] = lc
			} else {
				f.Languages = append(f.Languages, lc)
			}
		}
	}
	for i := range f.Languages {
		f.langs[f.Languages[i].Tag] = &f.Languages[i]
	}
}

func (p *parser) defaults(n *yaml.Node) {
	d := &p.defs
	d.timeout, d.interDigit, d.finishKey = defaultTimeout, defaultInterDigit, defaultFinishKey
	d.maxFailures, d.maxTimeouts = defaultMaxFailures, defaultMaxTimeouts
	if n == nil {
		return
	}
	for _, kv := range p.mapping(n, "defaults", defaultsKeys) {
		p.menuSetting(kv, &d.timeout, &d.interDigit, &d.maxFailures, &d.maxTimeouts, &d.finishKey,
			&d.invalidPrompt, &d.timeoutPrompt, &d.onMaxFailures, &d.onMaxTimeouts)
	}
}

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
		ID: id, Line: kn.Line, col: kn.Column,
		TimeoutSeconds: d.timeout, InterDigitSeconds: d.interDigit, FinishKey: d.finishKey,
		MaxFailures: d.maxFailures, MaxTimeouts: d.maxTimeouts,
		InvalidPrompt: d.invalidPrompt, TimeoutPrompt: d.timeoutPrompt,
		OnMaxFailures: d.onMaxFailures, OnMaxTimeouts: d.onMaxTimeouts,
	}
	what := fmt.Sprintf("menu %q", id)
	digits := -1
	var optionsNode *yaml.Node
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
			if v, ok := p.num(kv.v, k, 0, maxKeyLen, "keys"); ok {
				digits = v
			}
		case "speech":
			m.Speech = p.speech(kv.v)
		case "voice":
			m.Voice, _ = p.str(kv.v, k)
		case "language":
			if s, ok := p.lang(kv.v, k); ok {
				m.Language = s
				p.langUses = append(p.langUses, use{s, kv.v})
			}
		case "options":
			optionsNode = kv.v
			m.Options = p.options(id, kv.v)
		default:
			p.menuSetting(kv, &m.TimeoutSeconds, &m.InterDigitSeconds, &m.MaxFailures, &m.MaxTimeouts, &m.FinishKey,
				&m.InvalidPrompt, &m.TimeoutPrompt, &m.OnMaxFailures, &m.OnMaxTimeouts)
		}
	}
	if optionsNode == nil {
		p.errf(kn, "menu %q has no options: add options: with at least one key, e.g. \"1\": {goto: main}", id)
	}
	if len(m.Greeting) == 0 {
		p.errf(kn, "menu %q has no greeting: add greeting: \"...\" telling callers what to press", id)
	}
	// digits: explicit, or the common length of every option.
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
	if m.Speech != nil && m.Speech.Hints == nil {
		for _, o := range m.Options {
			m.Speech.Hints = append(m.Speech.Hints, o.Words...)
		}
	}
	return m
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
	for _, kv := range p.mapping(n, "speech", speechKeys) {
		switch kv.k.Value {
		case "hints":
			s.Hints = p.list(kv.v, "hints")
			if s.Hints == nil {
				s.Hints = []string{}
			}
		case "language":
			if l, ok := p.lang(kv.v, "speech language"); ok {
				s.Language = l
				p.langUses = append(p.langUses, use{l, kv.v})
			}
		}
	}
	return s
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

func hasAnyKey(n *yaml.Node, keys []string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if slices.Contains(keys, n.Content[i].Value) {
			return true
		}
	}
	return false
}

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
			p.placeholders(n, n.Value)
			return a, true
		}
		switch n.Value {
		case KindBack, KindTop, KindHangup, KindVoicemail:
			a.Kind = n.Value
			if a.Kind == KindVoicemail {
				a.Voicemail = defaultVoicemail()
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
		case (k == "voice" || k == "language") && a.Kind == KindSay,
			k == "loop" && (a.Kind == KindSay || a.Kind == KindPlay):
			switch k {
			case "voice":
				a.Voice, _ = p.str(kv.v, k)
			case "language":
				if s, good := p.lang(kv.v, k); good {
					a.Language = s
					p.langUses = append(p.langUses, use{s, kv.v})
				}
			case "loop":
				a.Loop, _ = p.num(kv.v, k, 0, 10, "times")
			}
		default:
			p.errf(kv.k, "%s does not take %s", a.Kind, k)
			ok = false
		}
	}
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
		s, good := p.lang(v, "set_language")
		if good {
			a.Lang = s
			p.langUses = append(p.langUses, use{s, v})
		}
		ok = ok && good
	case KindTransfer:
		a.Transfer = p.transfer(v)
		ok = ok && a.Transfer != nil
	case KindVoicemail:
		a.Voicemail = p.voicemail(v)
		ok = ok && a.Voicemail != nil
	}
	return a, ok
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
		p.placeholders(n, n.Value)
	case yaml.MappingNode:
		for _, kv := range p.mapping(n, "say", nil) {
			l, good := p.lang(kv.k, "say language")
			s, good2 := p.str(kv.v, "say "+kv.k.Value)
			if !good || !good2 {
				ok = false
				continue
			}
			p.langUses = append(p.langUses, use{l, kv.k})
			p.placeholders(kv.v, s)
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

func (p *parser) placeholders(n *yaml.Node, s string) {
	for _, name := range unknownPlaceholders(s) {
		p.errf(n, "unknown placeholder {{%s}}: use {{from}}, {{to}} or {{call_center}}%s", name, suggest(name, placeholderNames))
	}
}

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
		}
	}
	return vm
}

func (p *parser) hours(n *yaml.Node) *Hours {
	h := &Hours{}
	var tzNode, closedNode, weeklyNode *yaml.Node
	for _, kv := range p.mapping(n, "hours", hoursKeys) {
		switch kv.k.Value {
		case "time_zone":
			tzNode = kv.v
			s, ok := p.str(kv.v, "time_zone")
			if !ok {
				continue
			}
			loc, err := time.LoadLocation(s)
			if s == "" || s == "Local" || err != nil {
				p.errf(kv.v, "unknown time zone %q: use an IANA name like America/New_York, Europe/Madrid or UTC", s)
				continue
			}
			h.TimeZone, h.loc = s, loc
		case "weekly":
			weeklyNode = kv.v
			p.weekly(h, kv.v)
		case "holidays":
			if kv.v.Kind != yaml.SequenceNode && !isNull(kv.v) {
				p.errf(kv.v, "holidays must be a list of dates like - 2026-12-25 (one day) or - 12-25 (every year)")
				continue
			}
			for _, it := range kv.v.Content {
				s, ok := p.str(it, "holiday")
				if !ok {
					continue
				}
				hd, err := parseHoliday(s)
				if err != nil {
					p.errf(it, "%v", err)
					continue
				}
				h.Holidays = append(h.Holidays, hd)
			}
		case "closed":
			closedNode = kv.v
			h.Closed = p.actions(kv.v, "closed", false)
		}
	}
	if tzNode == nil {
		p.errf(n, "hours needs time_zone, e.g. time_zone: America/New_York")
	}
	if weeklyNode == nil {
		p.errf(n, "hours needs weekly: the opening hours per day, e.g. weekly: {mon-fri: \"09:00-17:00\"} (mon-sun: open for always)")
	}
	if closedNode == nil {
		p.errf(n, "hours needs closed: what callers hear when closed, e.g. closed: [{say: \"We are closed.\"}, voicemail]")
	}
	return h
}

func (p *parser) weekly(h *Hours, n *yaml.Node) {
	var seen [7]*yaml.Node
	for _, kv := range p.mapping(n, "weekly", nil) {
		days, err := parseDays(kv.k.Value)
		if err != nil {
			p.errf(kv.k, "%v", err)
			continue
		}
		var spans []Span
		items := []*yaml.Node{kv.v}
		if kv.v.Kind == yaml.SequenceNode {
			items = kv.v.Content
		}
		for _, it := range items {
			s, ok := p.str(it, "hours of "+kv.k.Value)
			if !ok {
				continue
			}
			switch strings.ToLower(strings.TrimSpace(s)) {
			case "closed":
				continue
			case "open", "24h":
				spans = append(spans, Span{0, 24 * 60})
				continue
			}
			sp, err := parseSpan(s)
			if err != nil {
				p.errf(it, "%v", err)
				continue
			}
			spans = append(spans, sp)
		}
		for _, d := range days {
			if prev := seen[d]; prev != nil {
				p.errf(kv.k, "%s is already given at line %d: list each day once", strings.ToLower(d.String()[:3]), prev.Line)
				continue
			}
			seen[d] = kv.k
			h.Weekly[d] = spans
		}
	}
}

func (p *parser) sms(n *yaml.Node) {
	for _, kv := range p.mapping(n, "sms", smsKeys) {
		switch kv.k.Value {
		case "default":
			if !isNull(kv.v) {
				if s, ok := p.str(kv.v, "sms default"); ok {
					p.f.SMS.Default = s
					p.placeholders(kv.v, s)
				}
			}
		case "keywords":
			seen := map[string]*yaml.Node{}
			for _, kw := range p.mapping(kv.v, "sms keywords", nil) {
				w := strings.ToUpper(kw.k.Value)
				if len(words(w)) != 1 || words(w)[0] != strings.ToLower(w) {
					p.errf(kw.k, "sms keyword %q must be one word of letters or digits", kw.k.Value)
					continue
				}
				if prev := seen[w]; prev != nil {
					p.errf(kw.k, "sms keyword %q is already given at line %d (keywords ignore case)", kw.k.Value, prev.Line)
					continue
				}
				seen[w] = kw.k
				reply := ""
				if !isNull(kw.v) {
					reply, _ = p.str(kw.v, "sms reply")
					p.placeholders(kw.v, reply)
				}
				p.f.SMS.Keywords = append(p.f.SMS.Keywords, Keyword{Word: w, Reply: reply})
			}
		}
	}
}

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
	if len(p.probs) > 0 {
		return
	}
	// Fill call_center numbers and action references.
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
		}
	}
	walk("answer", f.Answer)
	if f.Hours != nil {
		walk("closed", f.Hours.Closed)
	}
	walk("defaults.on_max_failures", p.defs.onMaxFailures)
	walk("defaults.on_max_timeouts", p.defs.onMaxTimeouts)
	for _, m := range f.order {
		for i := range m.Options {
			walk(m.ID+"."+m.Options[i].Key, m.Options[i].Actions)
		}
		if !sameSlice(m.OnMaxFailures, p.defs.onMaxFailures) {
			walk(m.ID+".on_max_failures", m.OnMaxFailures)
		}
		if !sameSlice(m.OnMaxTimeouts, p.defs.onMaxTimeouts) {
			walk(m.ID+".on_max_timeouts", m.OnMaxTimeouts)
		}
	}
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
