package xml

import (
	"bytes"
	stdxml "encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Reading: the inverse direction of rendering, for the places that look at
// a provider document from the outside: the `ivr simulate` client, which
// plays the server's answers like a phone, the admin "Try it" page, which
// shows what an answer does, and flow replay (next.go interprets what is
// read for all three). Documents come over the network, so the reader is
// tolerant and bounded:
//
//   - An element it does not know becomes Unknown, never an error; so does a
//     verb where only prompts are allowed (inside Gather/GetDigits/GetInput
//     and Plivo's PreAnswer).
//   - A bad count (loop, length, numDigits...) reads as the provider's default.
//   - Only a document that is not well-formed XML, or whose single root is not
//     <Response>, is refused, as Twilio and Plivo refuse it.
//   - Elements nested deeper than maxDepth are skipped whole, text included,
//     so hostile nesting costs no more than the input's size.
//
// TwiML and Plivo XML are read into one provider-neutral set of verbs, with
// the provider's defaults applied (Twilio's finishOnKey "#", Plivo's
// GetDigits numDigits 99 ...), except where a field says otherwise.

// Verb is one element of a <Response>, as read by ParseTwiML or ParsePlivo:
// Say, Play, Pause, DTMF, Gather, Dial, Record, Redirect, Hangup or Unknown.
type Verb interface{ isVerb() }

// Say is Twilio <Say> or Plivo <Speak>.
type Say struct {
	Text     string // the element's text, children's (SSML) included, whitespace collapsed
	Voice    string
	Language string
	Loop     int // 0 = until input
}

// Play is <Play>: an audio URL.
type Play struct {
	URL  string
	Loop int // 0 = until input
}

// Pause is Twilio <Pause> or Plivo <Wait>.
type Pause struct{ Seconds int }

// DTMF is the caller's phone sending keys: Twilio <Play digits>, Plivo <DTMF>.
type DTMF struct{ Digits string }

// Gather waits for the caller's keys or speech: Twilio <Gather>, Plivo
// <GetDigits> or <GetInput>.
type Gather struct {
	Element     string // "Gather", "GetDigits" or "GetInput"
	Action      string // as written; "" = the current document's URL (Twilio)
	Post        bool   // the input is sent to Action (false: Plivo without an action)
	Method      string // "GET" or "POST"
	Follow      bool   // the action's answer is played (false: Plivo redirect="false")
	DTMF        bool
	Speech      bool
	NumDigits   int    // input ends after this many keys; 0 = no limit
	FinishOnKey string // input ends on any of these keys; "" = none (also Plivo's "none")
	ValidDigits string // keys accepted; "" = any (Plivo GetDigits)
	OnEmpty     bool   // the action is requested on silence too (Twilio actionOnEmptyResult)
	Language    string // speech recognition language
	// Timeout is how many seconds the provider waits for input, as
	// written (Twilio and Plivo GetDigits timeout, Plivo GetInput
	// executionTimeout); 0 = not written: the provider's default (5, and
	// 15 for GetInput).
	Timeout int
	// NumDigitsSet and FinishOnKeySet tell whether the document wrote
	// numDigits (as a valid count) and finishOnKey; when not, the fields
	// hold the provider's default.
	NumDigitsSet   bool
	FinishOnKeySet bool
	Prompts        []Verb // Say, Play, Pause, DTMF or Unknown
}

// Dial transfers the call: Twilio and Plivo <Dial>.
type Dial struct {
	Numbers []string // "+1555...", "client bob", "conference room", "queue q", a SIP URI
	Action  string   // requested when the dial ends; "" = none
	Method  string   // "GET" or "POST"
	Follow  bool     // the action's answer is played (false: Plivo redirect="false")
	// Whisper is the URL the answering party's leg requests before it is
	// connected (Twilio: the first <Number url>/<Sip url>; Plivo:
	// confirmSound); "" = none.
	Whisper string
	// AcceptKey is the key the answering party must press (Plivo
	// confirmKey); "" = none (Twilio asks for it in the whisper's document).
	AcceptKey string
}

// Record records a message: Twilio and Plivo <Record>.
type Record struct {
	Action      string // as written; "" = the current document's URL (Twilio)
	Post        bool   // the recording is sent to Action (false: Plivo without an action)
	Method      string // "GET" or "POST"
	Follow      bool   // the action's answer is played (false: Plivo redirect="false")
	FinishOnKey string
	// Transcription is where the provider posts the recording's transcript
	// ("" = none asked): Twilio transcribeCallback with transcribe="true",
	// Plivo transcriptionUrl.
	Transcription string
}

// Redirect continues the call with the document at URL.
type Redirect struct {
	URL    string
	Method string // "GET" or "POST"
}

// Hangup ends the call: <Hangup>, or Twilio <Reject>.
type Hangup struct {
	Reason   string
	Schedule int  // Plivo: hang up after this many seconds, and carry on meanwhile
	Reject   bool // Twilio <Reject>: the call is refused before it is answered
}

// Unknown is an element the reader does not play: unknown to it, or not
// allowed where it stands. Nothing below it is read but its text.
type Unknown struct {
	Name string // the element's local name
	Text string // as Say.Text
}

func (Say) isVerb()      {}
func (Play) isVerb()     {}
func (Pause) isVerb()    {}
func (DTMF) isVerb()     {}
func (Gather) isVerb()   {}
func (Dial) isVerb()     {}
func (Record) isVerb()   {}
func (Redirect) isVerb() {}
func (Hangup) isVerb()   {}
func (Unknown) isVerb()  {}

// Parse reads a provider's voice document: TwiML for ProviderTwilio, Plivo
// XML for ProviderPlivo.
func Parse(provider string, data []byte) ([]Verb, error) {
	switch provider {
	case ProviderTwilio:
		return ParseTwiML(data)
	case ProviderPlivo:
		return ParsePlivo(data)
	}
	return nil, fmt.Errorf("read: unknown provider %q", provider)
}

// ParseTwiML reads a TwiML voice document.
func ParseTwiML(data []byte) ([]Verb, error) {
	root, err := readTree(data)
	if err != nil {
		return nil, err
	}
	verbs := make([]Verb, 0, len(root.kids))
	for _, e := range root.kids {
		verbs = append(verbs, twilioVerb(e, false))
	}
	return verbs, nil
}

// ParsePlivo reads a Plivo XML voice document. <PreAnswer>'s prompts (early
// media) come first, as heard.
func ParsePlivo(data []byte) ([]Verb, error) {
	root, err := readTree(data)
	if err != nil {
		return nil, err
	}
	var verbs []Verb
	for _, e := range root.kids {
		if e.name == "PreAnswer" {
			for _, k := range e.kids {
				verbs = append(verbs, plivoVerb(k, true))
			}
			continue
		}
		verbs = append(verbs, plivoVerb(e, false))
	}
	return verbs, nil
}

// element is one XML element: its attributes by local name, the text of all
// its descendants (whitespace collapsed, so SSML inside <Say> still reads),
// and its child elements.
type element struct {
	name  string
	attrs map[string]string
	text  string
	kids  []*element
	buf   strings.Builder
}

func (e *element) attr(name string) (string, bool) {
	v, ok := e.attrs[name]
	return strings.TrimSpace(v), ok
}

func (e *element) attrOr(name, def string) string {
	if v, ok := e.attr(name); ok {
		return v
	}
	return def
}

// maxDepth bounds the element tree kept; deeper elements are skipped whole.
const maxDepth = 8

// readTree reads a well-formed XML document whose root is <Response>.
func readTree(data []byte) (*element, error) {
	d := stdxml.NewDecoder(bytes.NewReader(data))
	var root *element
	var stack []*element
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
		case stdxml.StartElement:
			switch {
			case root == nil && t.Name.Local != "Response":
				return nil, fmt.Errorf("root element is <%s>, want <Response>", t.Name.Local)
			case root != nil && len(stack) == 0:
				return nil, errors.New("more than one root element")
			case len(stack) == maxDepth || skipped > 0:
				skipped++
				continue
			}
			e := &element{name: t.Name.Local, attrs: make(map[string]string, len(t.Attr))}
			for _, a := range t.Attr {
				if _, dup := e.attrs[a.Name.Local]; !dup {
					e.attrs[a.Name.Local] = a.Value
				}
			}
			if root == nil {
				root = e
			} else {
				parent := stack[len(stack)-1]
				parent.kids = append(parent.kids, e)
			}
			stack = append(stack, e)
		case stdxml.EndElement:
			if skipped > 0 {
				skipped--
				continue
			}
			e := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			e.text = strings.Join(strings.Fields(e.buf.String()), " ")
			e.buf.Reset()
			if len(stack) > 0 {
				// SSML and the like: a parent's text includes its children's.
				p := stack[len(stack)-1]
				p.buf.WriteByte(' ')
				p.buf.WriteString(e.text)
			}
		case stdxml.CharData:
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

// httpMethod reads a method attribute: GET, else POST.
func httpMethod(s string) string {
	if strings.EqualFold(s, "GET") {
		return "GET"
	}
	return "POST"
}

func isFalse(s string) bool { return strings.EqualFold(s, "false") }

// numDigits reads e's numDigits attribute; def when it is absent or not a
// count, and then set is false.
func numDigits(e *element, def int) (n int, set bool) {
	v, _ := e.attr("numDigits")
	n = atoi(v, -1)
	if n < 0 {
		return def, false
	}
	return n, true
}

// readPrompt reads the prompts both dialects have (speech, Play, silence),
// spelled as d spells them (see spellings); nil for any other element.
func readPrompt(e *element, d dialect) Verb {
	switch e.name {
	case spellings[d].say:
		return Say{Text: e.text, Voice: e.attrOr("voice", ""), Language: e.attrOr("language", ""), Loop: atoi(e.attrOr("loop", "1"), 1)}
	case "Play":
		return Play{URL: e.text, Loop: atoi(e.attrOr("loop", "1"), 1)}
	case spellings[d].pause:
		return Pause{Seconds: atoi(e.attrOr("length", "1"), 1)}
	}
	return nil
}

// twilioVerb reads one TwiML element; nested: inside <Gather>, where only
// prompts are played.
func twilioVerb(e *element, nested bool) Verb {
	if d, ok := e.attr("digits"); ok && d != "" && e.name == "Play" {
		return DTMF{Digits: d}
	}
	if v := readPrompt(e, dialectTwilio); v != nil {
		return v
	}
	if nested {
		return Unknown{Name: e.name, Text: e.text}
	}
	switch e.name {
	case "Gather":
		input := strings.Fields(strings.ToLower(e.attrOr("input", "dtmf")))
		finish, finishSet := e.attr("finishOnKey")
		if !finishSet {
			finish = "#"
		}
		g := Gather{
			Element:        e.name,
			Action:         e.attrOr("action", ""),
			Post:           true,
			Method:         httpMethod(e.attrOr("method", "POST")),
			Follow:         true,
			DTMF:           slices.Contains(input, "dtmf"),
			Speech:         slices.Contains(input, "speech"),
			FinishOnKey:    finish,
			FinishOnKeySet: finishSet,
			OnEmpty:        strings.EqualFold(e.attrOr("actionOnEmptyResult", "false"), "true"),
			Language:       e.attrOr("language", ""),
			Timeout:        atoi(e.attrOr("timeout", ""), 0),
		}
		g.NumDigits, g.NumDigitsSet = numDigits(e, 0)
		for _, k := range e.kids {
			g.Prompts = append(g.Prompts, twilioVerb(k, true))
		}
		return g
	case "Dial":
		d := Dial{Action: e.attrOr("action", ""), Method: httpMethod(e.attrOr("method", "POST")), Follow: true}
		for _, k := range e.kids {
			if t := dialTarget(k); t != "" {
				d.Numbers = append(d.Numbers, t)
			}
			if u := k.attrOr("url", ""); u != "" && d.Whisper == "" && (k.name == "Number" || k.name == "Sip") {
				d.Whisper = u
			}
		}
		if len(e.kids) == 0 && e.text != "" {
			d.Numbers = []string{e.text}
		}
		return d
	case "Record":
		// Without an action Twilio requests the current document again.
		r := Record{
			Action:      e.attrOr("action", ""),
			Post:        true,
			Method:      httpMethod(e.attrOr("method", "POST")),
			Follow:      true,
			FinishOnKey: e.attrOr("finishOnKey", "1234567890*#"),
		}
		if !isFalse(e.attrOr("transcribe", "false")) {
			r.Transcription = e.attrOr("transcribeCallback", "")
		}
		return r
	case "Redirect":
		return Redirect{URL: e.text, Method: httpMethod(e.attrOr("method", "POST"))}
	case "Hangup":
		return Hangup{}
	case "Reject":
		return Hangup{Reason: e.attrOr("reason", "rejected"), Reject: true}
	}
	return Unknown{Name: e.name, Text: e.text}
}

// dialTarget names one party of a <Dial>: a number, or what else it rings.
func dialTarget(e *element) string {
	switch e.name {
	case "Number", "Sip":
		return e.text
	case "Client", "User":
		return "client " + e.text
	case "Conference":
		return "conference " + e.text
	case "Queue":
		return "queue " + e.text
	}
	return ""
}

// plivoVerb reads one Plivo XML element; nested: inside <GetDigits>,
// <GetInput> or <PreAnswer>, where only prompts are played.
func plivoVerb(e *element, nested bool) Verb {
	if v := readPrompt(e, dialectPlivo); v != nil {
		return v
	}
	if nested {
		return Unknown{Name: e.name, Text: e.text}
	}
	switch e.name {
	case "GetDigits", "GetInput":
		action := e.attrOr("action", "")
		finish, finishSet := e.attr("finishOnKey")
		switch {
		case !finishSet:
			finish = "#"
		case strings.EqualFold(finish, "none"):
			finish = ""
		}
		g := Gather{
			Element:        e.name,
			Action:         action,
			Post:           action != "",
			Method:         httpMethod(e.attrOr("method", "POST")),
			Follow:         !isFalse(e.attrOr("redirect", "true")),
			DTMF:           true,
			FinishOnKey:    finish,
			FinishOnKeySet: finishSet,
			Language:       e.attrOr("language", ""),
		}
		if e.name == "GetDigits" {
			g.Timeout = atoi(e.attrOr("timeout", ""), 0)
			g.NumDigits, g.NumDigitsSet = numDigits(e, 99)
			g.ValidDigits = e.attrOr("validDigits", "1234567890*#")
		} else {
			input := strings.Fields(strings.ToLower(e.attrOr("inputType", "dtmf")))
			g.DTMF = slices.Contains(input, "dtmf")
			g.Speech = slices.Contains(input, "speech")
			g.Timeout = atoi(e.attrOr("executionTimeout", ""), 0)
			g.NumDigits, g.NumDigitsSet = numDigits(e, 0)
		}
		for _, k := range e.kids {
			g.Prompts = append(g.Prompts, plivoVerb(k, true))
		}
		return g
	case "Dial":
		d := Dial{Action: e.attrOr("action", ""), Method: httpMethod(e.attrOr("method", "POST")), Follow: !isFalse(e.attrOr("redirect", "true")),
			Whisper: e.attrOr("confirmSound", ""), AcceptKey: e.attrOr("confirmKey", "")}
		for _, k := range e.kids {
			if t := dialTarget(k); t != "" {
				d.Numbers = append(d.Numbers, t)
			}
		}
		return d
	case "Record":
		action := e.attrOr("action", "")
		return Record{
			Action:        action,
			Post:          action != "",
			Method:        httpMethod(e.attrOr("method", "POST")),
			Follow:        !isFalse(e.attrOr("redirect", "true")),
			FinishOnKey:   e.attrOr("finishOnKey", "1234567890*#"),
			Transcription: e.attrOr("transcriptionUrl", ""),
		}
	case "Redirect":
		return Redirect{URL: e.text, Method: httpMethod(e.attrOr("method", "POST"))}
	case "Hangup":
		return Hangup{Reason: e.attrOr("reason", ""), Schedule: atoi(e.attrOr("schedule", "0"), 0)}
	case "DTMF":
		return DTMF{Digits: e.text}
	}
	return Unknown{Name: e.name, Text: e.text}
}
