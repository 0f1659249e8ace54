package ivr

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Limits and defaults of requests:.
const (
	defaultRequestTimeout = 3 * time.Second
	maxRequestTimeout     = 10 * time.Second
	maxRequests           = 32
	maxBodyDepth          = 8
)

var (
	requestKeys   = []string{"method", "url", "headers", "body", "timeout", "save"}
	numberKeys    = []string{"entry", "language"}
	headerNameRE  = regexp.MustCompile(`^[A-Za-z0-9!#$%&'*+.^_|~-]{1,64}$`)
	jsonPathRE    = regexp.MustCompile(`^[^.\s{}]+(\.[^.\s{}]+)*$`)
	secretNameRE  = regexp.MustCompile(`^[A-Z0-9_]{1,64}$`)
	badHeaderName = []string{"host", "content-length", "transfer-encoding", "connection"}
)

// numbers reads numbers: "+1555...": {entry: menu, language: tag} (or just
// the entry menu's id).
func (p *parser) numbers(n *yaml.Node) {
	f := p.f
	for _, kv := range p.mapping(n, "numbers", nil) {
		num, ok := p.phone(kv.k, "number")
		if !ok {
			continue
		}
		key := strings.TrimPrefix(num, "+")
		if prev := f.numbers[key]; prev != nil {
			p.errf(kv.k, "number %s is already given at line %d", num, prev.Line)
			continue
		}
		e := Number{Number: num, Line: kv.k.Line}
		var entryNode *yaml.Node
		if kv.v.Kind == yaml.ScalarNode {
			entryNode = kv.v
		} else {
			for _, nv := range p.mapping(kv.v, "number "+num, numberKeys) {
				switch nv.k.Value {
				case "entry":
					entryNode = nv.v
				case "language":
					if s, good := p.langRef(nv.v, "language"); good {
						e.Language = s
					}
				}
			}
		}
		if entryNode == nil || isNull(entryNode) {
			p.errf(kv.k, "number %s needs an entry menu: %q: {entry: menu_id}", num, num)
			continue
		}
		if s, good := p.str(entryNode, "entry"); good {
			e.Entry = s
			p.menuUses = append(p.menuUses, use{s, entryNode})
		}
		f.Numbers = append(f.Numbers, e)
		f.numbers[key] = &f.Numbers[len(f.Numbers)-1]
	}
	for i := range f.Numbers { // the slice may have moved while growing
		f.numbers[strings.TrimPrefix(f.Numbers[i].Number, "+")] = &f.Numbers[i]
	}
}

// requests reads requests: name: {method, url, headers, body, timeout, save}.
func (p *parser) requests(n *yaml.Node) {
	pairs := p.mapping(n, "requests", nil)
	if len(pairs) > maxRequests {
		p.errf(n, "requests: %d requests, at most %d", len(pairs), maxRequests)
	}
	for _, kv := range pairs {
		name := kv.k.Value
		if !idRE.MatchString(name) {
			p.errf(kv.k, "request name %q must be 1 to 64 letters, digits, _ or -", name)
			continue
		}
		if r := p.request(name, kv.k, kv.v); r != nil {
			p.f.Requests = append(p.f.Requests, r)
			p.f.requests[name] = r
		}
	}
}

func (p *parser) request(name string, kn, n *yaml.Node) *HTTPRequest {
	r := &HTTPRequest{Name: name, Method: "GET", Timeout: defaultRequestTimeout, Line: kn.Line}
	what := fmt.Sprintf("request %q", name)
	var urlNode, bodyNode, methodNode *yaml.Node
	for _, kv := range p.mapping(n, what, requestKeys) {
		switch kv.k.Value {
		case "method":
			methodNode = kv.v
			if s, ok := p.str(kv.v, "method"); ok {
				r.Method = strings.ToUpper(s)
				if r.Method != "GET" && r.Method != "POST" {
					p.errf(kv.v, "%s: method %q: use GET or POST", what, s)
				}
			}
		case "url":
			urlNode = kv.v
			if s, ok := p.str(kv.v, "url"); ok {
				r.URL = s
				p.requestURL(r, kv.v)
			}
		case "headers":
			for _, hv := range p.mapping(kv.v, what+" headers", nil) {
				if !headerNameRE.MatchString(hv.k.Value) || isBadHeader(hv.k.Value) {
					p.errf(hv.k, "%s: %q is not a header a flow may set", what, hv.k.Value)
					continue
				}
				if s, ok := p.str(hv.v, "header "+hv.k.Value); ok {
					r.Headers = append(r.Headers, Header{Name: hv.k.Value, Value: s})
					r.secrets = append(r.secrets, p.template(hv.v, s, tmplHeader)...)
				}
			}
		case "body":
			bodyNode = kv.v
			r.Body = p.body(kv.v, 0)
		case "timeout":
			p.requestTimeout(r, kv.v)
		case "save":
			p.save(r, kv.v)
		}
	}
	if urlNode == nil {
		p.errf(kn, "%s needs url: \"https://...\"", what)
	}
	if bodyNode != nil && r.Method != "POST" {
		at := bodyNode
		if methodNode != nil {
			at = methodNode
		}
		p.errf(at, "%s: a body is sent with POST only: add method: POST or remove body", what)
	}
	return r
}

func isBadHeader(h string) bool {
	for _, b := range badHeaderName {
		if strings.EqualFold(h, b) {
			return true
		}
	}
	return false
}

// requestURL checks a URL template: http(s) (or the local demo API) before
// any caller value, so a value can never choose the host.
func (p *parser) requestURL(r *HTTPRequest, n *yaml.Node) {
	s := r.URL
	r.secrets = append(r.secrets, p.template(n, s, tmplURL)...)
	rest, demo := strings.CutPrefix(s, "{{demo_api}}")
	if demo {
		if rest != "" && rest[0] != '/' {
			p.errf(n, "request %q: after {{demo_api}} comes a path starting with /", r.Name)
		}
		return
	}
	lower := strings.ToLower(s)
	scheme := ""
	switch {
	case strings.HasPrefix(lower, "https://"):
		scheme = "https://"
	case strings.HasPrefix(lower, "http://"):
		scheme = "http://"
	default:
		p.errf(n, "request %q: url %q is not an http(s) URL: write it like https://api.example.com/accounts/{{account}}", r.Name, truncate(s, 80))
		return
	}
	host := s[len(scheme):]
	if i := strings.IndexAny(host, "/?#"); i >= 0 {
		host = host[:i]
	}
	if host == "" || strings.Contains(host, "{{") || strings.Contains(host, "@") {
		p.errf(n, "request %q: the host of %q must be written out (no {{...}}, no user@)", r.Name, truncate(s, 80))
	}
}

func (p *parser) requestTimeout(r *HTTPRequest, n *yaml.Node) {
	s, ok := p.str(n, "timeout")
	if !ok {
		return
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		if secs, e2 := time.ParseDuration(s + "s"); e2 == nil {
			d, err = secs, nil
		}
	}
	switch {
	case err != nil:
		p.errf(n, "request %q: timeout %q: write a duration like 2s or 500ms", r.Name, s)
	case d <= 0 || d > maxRequestTimeout:
		p.errf(n, "request %q: timeout %s: use more than 0 and at most %s", r.Name, d, maxRequestTimeout)
	default:
		r.Timeout = d
	}
}

func (p *parser) save(r *HTTPRequest, n *yaml.Node) {
	for _, kv := range p.mapping(n, fmt.Sprintf("request %q save", r.Name), nil) {
		name := kv.k.Value
		if !p.varName(kv.k, name) {
			continue
		}
		path, ok := p.str(kv.v, "save path")
		if !ok {
			continue
		}
		if len(path) > 200 || !jsonPathRE.MatchString(path) {
			p.errf(kv.v, "request %q: %q is not a path in the JSON answer: write keys and array indexes with dots, like account.status or items.0.id", r.Name, truncate(path, 80))
			continue
		}
		p.setVar(name, kv.k)
		r.Save = append(r.Save, SaveField{Var: name, Path: path})
	}
}

// body reads a JSON body template.
func (p *parser) body(n *yaml.Node, depth int) *BodyValue {
	if depth > maxBodyDepth {
		p.errf(n, "body is nested more than %d deep", maxBodyDepth)
		return nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		b := &BodyValue{}
		for _, kv := range p.mapping(n, "body", nil) {
			if v := p.body(kv.v, depth+1); v != nil {
				b.Keys = append(b.Keys, kv.k.Value)
				b.Values = append(b.Values, v)
			}
		}
		return b
	case yaml.SequenceNode:
		b := &BodyValue{Array: true}
		for _, c := range n.Content {
			if v := p.body(c, depth+1); v != nil {
				b.Values = append(b.Values, v)
			}
		}
		return b
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return &BodyValue{Raw: "null"}
		case "!!bool":
			if v, ok := p.boolean(n, "body value"); ok {
				return &BodyValue{Raw: fmt.Sprint(v)}
			}
			return nil
		case "!!int", "!!float":
			if _, ok := readNumber(n.Value); ok {
				return &BodyValue{Raw: n.Value}
			}
			return &BodyValue{Text: n.Value, IsText: true}
		}
		p.template(n, n.Value, tmplBody)
		return &BodyValue{Text: n.Value, IsText: true}
	}
	p.errf(n, "body: write a JSON-like mapping, e.g. body: {caller: \"{{from}}\"}")
	return nil
}

// varName checks a variable name where it is set.
func (p *parser) varName(n *yaml.Node, name string) bool {
	switch {
	case name == ErrorName:
		p.errf(n, "%q is a reserved name: in a fetch's on_error it says why the fetch failed; choose another variable name", name)
	case isReserved(name):
		p.errf(n, "%q is a reserved name (%s): choose another variable name", name, strings.Join(reservedNames, ", "))
	case len(name) > MaxVarNameLen || !varNameRE.MatchString(name):
		p.errf(n, "variable name %q: use 1 to %d letters, digits and _, not starting with a digit", truncate(name, 40), MaxVarNameLen)
	default:
		return true
	}
	return false
}

// setVar records a variable the flow sets somewhere.
func (p *parser) setVar(name string, n *yaml.Node) {
	if !p.vars[name] {
		p.vars[name] = true
		p.varNodes = append(p.varNodes, use{name, n})
	}
}
