package ivr

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

var (
	topKeys      = []string{"name", "description", "entry", "language", "voice", "languages", "call_center", "defaults", "hours", "answer", "menus", "sms", "numbers", "requests", "repeat_key", "step_limit", "on_step_limit"}
	defaultsKeys = []string{"timeout", "inter_digit_timeout", "finish_key", "max_failures", "max_timeouts", "invalid_prompt", "timeout_prompt", "on_max_failures", "on_max_timeouts"}
	langKeys     = []string{"voice", "name"}
)

// MaxFileSize is the largest flow file Parse and Load accept.
const MaxFileSize = 1 << 20

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
	p := &parser{file: name, f: &Flow{File: name, revision: contentRevision(data), text: append([]byte(nil), data...), menus: map[string]*Menu{}, refs: map[string]*Action{}, langs: map[string]*LanguageConfig{},
		numbers: map[string]*Number{}, requests: map[string]*HTTPRequest{}}, vars: map[string]bool{}}
	p.noAliases(&doc)
	p.flow(doc.Content[0])
	p.resolve()
	if len(p.probs) == 0 {
		p.check()
		p.checkVars()
	}
	if len(p.probs) > 0 {
		p.probs.sort()
		return nil, p.probs
	}
	p.warns.sort()
	p.f.warnings = p.warns
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
	warns Problems // what check says about a flow that still loads
	f     *Flow

	menuUses []use // goto / redirect targets
	langUses []use // languages named by say or set_language
	ccUses   []*yaml.Node
	defs     menuDefaults

	fetchUses []use           // requests named by fetch
	conds     []condUse       // switch conditions, compiled once every variable is known
	vars      map[string]bool // variables set anywhere
	varNodes  []use           // where each variable is first set
	reads     []use           // variables read by templates
	onError   int             // > 0: reading a fetch's on_error (error is known)
}

type condUse struct {
	b       *Branch
	n       *yaml.Node
	onError bool // in a fetch's on_error: the condition may read error
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
	if n := top["repeat_key"]; n != nil {
		f.RepeatKey, _ = p.finishKey(n, "repeat_key")
	}
	f.StepLimit = DefaultStepLimit
	if n := top["step_limit"]; n != nil {
		if v, ok := p.num(n, "step_limit", 1, maxCount-1, "times"); ok {
			f.StepLimit = v
		}
	}
	if n := top["on_step_limit"]; n != nil {
		f.OnStepLimit = p.actions(n, "on_step_limit", false)
	} else {
		f.OnStepLimit = defaultOnStepLimit(f.CallCenterNumber)
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
	if n := top["numbers"]; n != nil {
		p.numbers(n)
	}
	if n := top["requests"]; n != nil {
		p.requests(n)
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
