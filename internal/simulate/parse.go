package simulate

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The simulator reads TwiML and Plivo XML into one small, provider-neutral
// set of verbs, then plays them (run.go). Parsing is tolerant: an element it
// does not know becomes unknownVerb and is printed, never an error. Only XML
// that is not well formed, or whose root is not <Response>, is refused, as
// Twilio and Plivo refuse it.

type verb interface{ isVerb() }

type sayVerb struct {
	text string
	loop int
}

type playVerb struct {
	url  string
	loop int
}

type pauseVerb struct{ seconds int }

// dtmfVerb is the caller's phone sending keys (Twilio <Play digits>, Plivo <DTMF>).
type dtmfVerb struct{ digits string }

type gatherVerb struct {
	element     string // "Gather", "GetDigits", "GetInput"
	action      string // as written; "" = the current document's URL
	post        bool   // request the action after input (false: Plivo without action)
	method      string // GET or POST
	follow      bool   // play the action's answer (Plivo redirect="false" ignores it)
	dtmf        bool
	speech      bool
	numDigits   int    // 0 = no limit
	finishOnKey string // "" = none
	validDigits string // "" = any key
	onEmpty     bool   // request the action on silence too (Twilio actionOnEmptyResult)
	prompts     []verb
}

type dialVerb struct {
	numbers []string
	action  string
	method  string
	follow  bool
}

type recordVerb struct {
	action      string
	post        bool
	method      string
	follow      bool
	finishOnKey string
}

type redirectVerb struct {
	url    string
	method string
}

type hangupVerb struct {
	reason   string
	schedule int // Plivo: hang up after this many seconds, and carry on meanwhile
}

type unknownVerb struct{ name string }

func (sayVerb) isVerb()      {}
func (playVerb) isVerb()     {}
func (pauseVerb) isVerb()    {}
func (dtmfVerb) isVerb()     {}
func (gatherVerb) isVerb()   {}
func (dialVerb) isVerb()     {}
func (recordVerb) isVerb()   {}
func (redirectVerb) isVerb() {}
func (hangupVerb) isVerb()   {}
func (unknownVerb) isVerb()  {}

// node is one XML element: its attributes by local name, the text of all its
// descendants (whitespace collapsed, so SSML inside <Say> still reads), and
// its child elements.
type node struct {
	name  string
	attrs map[string]string
	text  string
	kids  []*node
	buf   strings.Builder
}

func (n *node) attr(name string) (string, bool) {
	v, ok := n.attrs[name]
	return strings.TrimSpace(v), ok
}

func (n *node) attrOr(name, def string) string {
	if v, ok := n.attr(name); ok {
		return v
	}
	return def
}

// maxDepth bounds the element tree kept; deeper elements are skipped whole,
// text included, so hostile nesting costs no more than the input's size.
const maxDepth = 8

// parseXML reads a well-formed XML document whose root is <Response>.
func parseXML(data []byte) (*node, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	var root *node
	var stack []*node
	skipped := 0 // open elements below maxDepth
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("malformed XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch {
			case root == nil && t.Name.Local != "Response":
				return nil, fmt.Errorf("root element is <%s>, want <Response>", t.Name.Local)
			case root != nil && len(stack) == 0:
				return nil, errors.New("more than one root element")
			case len(stack) == maxDepth || skipped > 0:
				skipped++
				continue
			}
			n := &node{name: t.Name.Local, attrs: make(map[string]string, len(t.Attr))}
			for _, a := range t.Attr {
				if _, dup := n.attrs[a.Name.Local]; !dup {
					n.attrs[a.Name.Local] = a.Value
				}
			}
			if root == nil {
				root = n
			} else {
				parent := stack[len(stack)-1]
				parent.kids = append(parent.kids, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			if skipped > 0 {
				skipped--
				continue
			}
			n := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			n.text = strings.Join(strings.Fields(n.buf.String()), " ")
			n.buf.Reset()
			if len(stack) > 0 {
				// SSML and the like: a parent's text includes its children's.
				p := stack[len(stack)-1]
				p.buf.WriteByte(' ')
				p.buf.WriteString(n.text)
			}
		case xml.CharData:
			if len(stack) > 0 && skipped == 0 {
				stack[len(stack)-1].buf.Write(t)
			}
		}
	}
	if root == nil {
		return nil, errors.New("no <Response> element")
	}
	return root, nil
}

// atoi reads a non-negative count attribute; anything else is def.
func atoi(s string, def int) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return def
	}
	return n
}

func method(s string) string {
	if strings.EqualFold(s, "GET") {
		return "GET"
	}
	return "POST"
}

func isFalse(s string) bool { return strings.EqualFold(s, "false") }

// parseTwiML reads a TwiML voice document.
func parseTwiML(data []byte) ([]verb, error) {
	root, err := parseXML(data)
	if err != nil {
		return nil, err
	}
	verbs := make([]verb, 0, len(root.kids))
	for _, n := range root.kids {
		verbs = append(verbs, twilioVerb(n, false))
	}
	return verbs, nil
}

func twilioVerb(n *node, nested bool) verb {
	switch n.name {
	case "Say":
		return sayVerb{text: n.text, loop: atoi(n.attrOr("loop", "1"), 1)}
	case "Play":
		if d, ok := n.attr("digits"); ok && d != "" {
			return dtmfVerb{digits: d}
		}
		return playVerb{url: n.text, loop: atoi(n.attrOr("loop", "1"), 1)}
	case "Pause":
		return pauseVerb{seconds: atoi(n.attrOr("length", "1"), 1)}
	}
	if nested {
		return unknownVerb{name: n.name}
	}
	switch n.name {
	case "Gather":
		input := strings.Fields(strings.ToLower(n.attrOr("input", "dtmf")))
		g := gatherVerb{
			element:     n.name,
			action:      n.attrOr("action", ""),
			post:        true,
			method:      method(n.attrOr("method", "POST")),
			follow:      true,
			dtmf:        contains(input, "dtmf"),
			speech:      contains(input, "speech"),
			numDigits:   atoi(n.attrOr("numDigits", "0"), 0),
			finishOnKey: n.attrOr("finishOnKey", "#"),
			onEmpty:     strings.EqualFold(n.attrOr("actionOnEmptyResult", "false"), "true"),
		}
		for _, k := range n.kids {
			g.prompts = append(g.prompts, twilioVerb(k, true))
		}
		return g
	case "Dial":
		d := dialVerb{action: n.attrOr("action", ""), method: method(n.attrOr("method", "POST")), follow: true}
		for _, k := range n.kids {
			if t := dialTarget(k); t != "" {
				d.numbers = append(d.numbers, t)
			}
		}
		if len(n.kids) == 0 && n.text != "" {
			d.numbers = []string{n.text}
		}
		return d
	case "Record":
		// Without an action Twilio requests the current document again.
		return recordVerb{
			action:      n.attrOr("action", ""),
			post:        true,
			method:      method(n.attrOr("method", "POST")),
			follow:      true,
			finishOnKey: n.attrOr("finishOnKey", "1234567890*#"),
		}
	case "Redirect":
		return redirectVerb{url: n.text, method: method(n.attrOr("method", "POST"))}
	case "Hangup":
		return hangupVerb{}
	case "Reject":
		return hangupVerb{reason: n.attrOr("reason", "rejected")}
	}
	return unknownVerb{name: n.name}
}

// dialTarget names one party of a <Dial>: a number, or what else it rings.
func dialTarget(n *node) string {
	switch n.name {
	case "Number":
		return n.text
	case "Client", "User":
		return "client " + n.text
	case "Sip":
		return n.text
	case "Conference":
		return "conference " + n.text
	case "Queue":
		return "queue " + n.text
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// parsePlivoXML reads a Plivo XML voice document.
func parsePlivoXML(data []byte) ([]verb, error) {
	root, err := parseXML(data)
	if err != nil {
		return nil, err
	}
	var verbs []verb
	for _, n := range root.kids {
		if n.name == "PreAnswer" {
			// Early media: its Speak/Play/Wait are heard before the answer.
			for _, k := range n.kids {
				verbs = append(verbs, plivoVerb(k, true))
			}
			continue
		}
		verbs = append(verbs, plivoVerb(n, false))
	}
	return verbs, nil
}

func plivoVerb(n *node, nested bool) verb {
	switch n.name {
	case "Speak":
		return sayVerb{text: n.text, loop: atoi(n.attrOr("loop", "1"), 1)}
	case "Play":
		return playVerb{url: n.text, loop: atoi(n.attrOr("loop", "1"), 1)}
	case "Wait":
		return pauseVerb{seconds: atoi(n.attrOr("length", "1"), 1)}
	}
	if nested {
		return unknownVerb{name: n.name}
	}
	switch n.name {
	case "GetDigits", "GetInput":
		action := n.attrOr("action", "")
		g := gatherVerb{
			element:     n.name,
			action:      action,
			post:        action != "",
			method:      method(n.attrOr("method", "POST")),
			follow:      !isFalse(n.attrOr("redirect", "true")),
			dtmf:        true,
			finishOnKey: n.attrOr("finishOnKey", "#"),
		}
		if n.name == "GetDigits" {
			g.numDigits = atoi(n.attrOr("numDigits", "99"), 99)
			g.validDigits = n.attrOr("validDigits", "1234567890*#")
		} else {
			input := strings.Fields(strings.ToLower(n.attrOr("inputType", "dtmf")))
			g.dtmf = contains(input, "dtmf")
			g.speech = contains(input, "speech")
			g.numDigits = atoi(n.attrOr("numDigits", "0"), 0)
		}
		for _, k := range n.kids {
			g.prompts = append(g.prompts, plivoVerb(k, true))
		}
		return g
	case "Dial":
		action := n.attrOr("action", "")
		d := dialVerb{action: action, method: method(n.attrOr("method", "POST")), follow: !isFalse(n.attrOr("redirect", "true"))}
		for _, k := range n.kids {
			if t := dialTarget(k); t != "" {
				d.numbers = append(d.numbers, t)
			}
		}
		return d
	case "Record":
		action := n.attrOr("action", "")
		return recordVerb{
			action:      action,
			post:        action != "",
			method:      method(n.attrOr("method", "POST")),
			follow:      !isFalse(n.attrOr("redirect", "true")),
			finishOnKey: n.attrOr("finishOnKey", "1234567890*#"),
		}
	case "Redirect":
		return redirectVerb{url: n.text, method: method(n.attrOr("method", "POST"))}
	case "Hangup":
		return hangupVerb{reason: n.attrOr("reason", ""), schedule: atoi(n.attrOr("schedule", "0"), 0)}
	case "DTMF":
		return dtmfVerb{digits: n.text}
	}
	return unknownVerb{name: n.name}
}
