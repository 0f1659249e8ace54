// Package ivr is the phone menu domain: the flow file format (YAML), its
// loading and checking, the pure engine that turns a call's request into
// provider-neutral Steps and the call state that rides in action URL queries.
// It does no I/O (reading and watching the flow file is publish.Source's job)
// and never imports net/http, the XML renderers, auth or the server.
//
// The flow format is described in FORMAT.md next to this file; Example returns
// a bundled flow that uses every feature.
package ivr

import (
	_ "embed"
	"net/url"
	"time"

	_ "time/tzdata" // business hours must find their time zone on a bare machine
)

//go:embed example.yaml
var exampleFlow []byte

// Example returns a copy of the bundled example flow (entry menu "main").
func Example() []byte {
	out := make([]byte, len(exampleFlow))
	copy(out, exampleFlow)
	return out
}

// Call describes the phone call a request belongs to.
type Call struct {
	Provider string // "twilio" | "plivo"
	ID       string // CallSid / CallUUID
	From     string // caller, E.164 as the provider reports it
	To       string // our number
	Now      time.Time
}

// Input is what the caller entered at a menu. Both empty = no input (timeout).
type Input struct {
	Digits string // keys pressed (Twilio Digits, Plivo Digits)
	Speech string // transcript (Twilio SpeechResult, Plivo Speech)
	// Confidence is the recognizer's confidence in Speech, 0 to 1 (Twilio
	// Confidence, Plivo SpeechConfidenceScore), when HasConfidence: an
	// answer without one is never judged by a menu's min_confidence.
	Confidence    float64
	HasConfidence bool
}

// Request is one webhook of a call, reduced to what the engine needs.
type Request struct {
	Call Call
	// Path is the route remainder after "/{provider}/voice/": "" = the answer
	// URL, "menu/{id}", "action/dial-done" or "action/voicemail-done".
	Path string
	// Query is the call state from the action URL's query (attempt, invalid,
	// timeouts, lang, trail, menu, ref). Parsed tolerantly.
	Query url.Values
	Input Input
	// DialStatus is the provider's outcome of a transfer, only read on
	// "action/dial-done": Twilio DialCallStatus, Plivo DialStatus (or
	// DialBLegStatus). "completed" and "answered" mean the transfer connected;
	// anything else (busy, no-answer, failed, canceled, timeout, "") runs the
	// transfer's no_answer actions.
	DialStatus string
	// Closure, when set, is the line's closure switch, on at Call.Now: a new
	// call (the answer URL) hears its message and its next step instead of
	// the flow. Other paths ignore it: calls already in a menu go on.
	Closure *Closure
	// RecordingURL is the provider's RecordingUrl on
	// "action/voicemail-done"; it only goes into the call's events.
	RecordingURL string
	// Lookups are the results of the lookups this step asked for (Result.Need),
	// in the order asked.
	Lookups []LookupResult
	// Secrets returns IVR_SECRET_<NAME> for {{secret.NAME}} in request URLs
	// and headers; nil = no secrets.
	Secrets func(name string) (string, bool)
	// Sealer seals the call's variables into the action URLs; the caller
	// owns its key. Required when the flow keeps variables (nil = an error).
	Sealer Sealer
	// DemoAPI is the base URL of the demo accounts API the server serves in
	// local mode, without a trailing slash (e.g. "http://127.0.0.1:8080/demo");
	// flows read it as the reserved variable {{demo_api}}. "" = none (then a
	// request URL built on it is not absolute and its fetch fails).
	DemoAPI string
}

// Result is the engine's answer to a Request: Steps to render, Events to record.
type Result struct {
	Steps  []Step
	Events []Event
	// Need, when non-nil, is a lookup the engine needs before it can answer:
	// Steps and Events are empty. The caller performs it, appends the result
	// to Request.Lookups and calls Step again with the same request; the
	// engine runs again deterministically and continues past it. At most
	// MaxLookupsPerStep per step.
	Need *Lookup
	// Callback is a callback the caller asked for in this step; the caller
	// of Step stores it.
	Callback *CallbackRequest
	// CallID, when set, is the call the Events belong to when it is not
	// the request's: the whisper route answers the agent's leg for the
	// caller's call.
	CallID string
}

// SMS is an inbound text message.
type SMS struct {
	From, To, Text string
	Now            time.Time
}

// Flow is a parsed, checked flow file. It is read-only after Parse and safe
// for concurrent use. Exported fields are a read-only model (e.g. for the
// admin flow map): do not modify them.
type Flow struct {
	File             string // name given to Parse
	Name             string
	Description      string
	Entry            string           // entry menu id
	Language         string           // default call language (BCP-47), "en-US" unless set
	Voice            string           // default voice ("" = provider default)
	Languages        []LanguageConfig // languages the flow speaks, Language first
	CallCenterNumber string           // call_center, E.164 or ""
	Hours            *Hours           // nil = always open
	Answer           []Action         // run on the answer URL before the entry menu
	SMS              SMSConfig
	Numbers          []Number       // per-number entry menus, file order
	Requests         []*HTTPRequest // requests:, file order
	Variables        []string       // every variable the flow names, sorted
	RepeatKey        string         // repeat_key: the key that replays a menu's prompt, "" = none
	// StepLimit is how many times one call may leave a menu because its
	// tries ran out (on_max_timeouts, on_max_failures); one more runs
	// OnStepLimit instead (empty: the call center when the flow has one,
	// else goodbye and hang up). A silent caller between two menus that
	// send each other on_max_timeouts would loop forever otherwise.
	StepLimit   int
	OnStepLimit []Action

	warnings Problems // see Warnings
	revision string   // see Revision
	text     []byte   // the text parsed

	numbers  map[string]*Number // by digits without "+"
	requests map[string]*HTTPRequest
	menus    map[string]*Menu
	order    []*Menu
	refs     map[string]*Action
	langs    map[string]*LanguageConfig
}

// LanguageConfig is a language the flow can speak.
type LanguageConfig struct {
	Tag   string // BCP-47, e.g. "es-ES"
	Voice string // voice for prompts in this language ("" = fall back)
	Name  string // human label, optional
}

// Menus returns the flow's menus in file order.
func (f *Flow) Menus() []*Menu { return append([]*Menu(nil), f.order...) }

// CallCenter returns the flow's call_center number, or "".
func (f *Flow) CallCenter() string { return f.CallCenterNumber }

// Menu is one phone menu.
type Menu struct {
	ID                string
	Label             string
	Line              int      // where the menu is defined in the file
	Greeting          []Action // say/play/pause only
	ShortGreeting     []Action // on repeats; empty = Greeting
	InvalidPrompt     []Action
	TimeoutPrompt     []Action
	Digits            int // keys to collect; 0 = any number, ended by FinishKey or a pause
	TimeoutSeconds    int
	InterDigitSeconds int
	FinishKey         string
	Speech            *Speech // nil = keys only
	Voice, Language   string
	Options           []Option
	MaxFailures       int
	MaxTimeouts       int
	OnMaxFailures     []Action
	OnMaxTimeouts     []Action
	Collect           *Collect // non-nil: the menu collects a value instead of offering options
	// RepeatKey replays the menu's prompt without counting a failure: the
	// menu's repeat_key, else the flow's ("" = none).
	RepeatKey string

	col  int
	path string // "menu/ID": its URL path, made once at load
}

// Speech enables speech input on a menu.
type Speech struct {
	Hints    []string // when the file gives none, every option's words (filled in by Parse)
	Language string   // "" = the call language
	// MinConfidence: an answer the recognizer is less sure of counts as a
	// wrong entry, and the menu asks again with KeypadPrompt, keys only.
	// 0 = every answer is taken.
	MinConfidence float64
	KeypadPrompt  []Action // default: DefaultKeypadPrompt
}

// DefaultKeypadPrompt is said when a spoken answer is below a menu's
// min_confidence and the flow gives no keypad_prompt.
const DefaultKeypadPrompt = "Sorry, I did not catch that. Please use your keypad."

// Option is one choice of a menu.
type Option struct {
	Key     string   // "1", "42", "9XX", "/^4\d\d$/"
	Words   []string // spoken words/phrases that choose it
	Label   string
	Actions []Action

	match     matcher
	line, col int
}

// Action kinds.
const (
	KindSay         = "say"
	KindPlay        = "play"
	KindPause       = "pause"
	KindGoto        = "goto"
	KindBack        = "back"
	KindTop         = "top"
	KindRedirect    = "redirect"
	KindTransfer    = "transfer"
	KindVoicemail   = "voicemail"
	KindHangup      = "hangup"
	KindSetLanguage = "set_language"
	KindSet         = "set"
	KindFetch       = "fetch"
	KindSwitch      = "switch"
	KindCallback    = "callback"
	KindSplit       = "split"
)

// Action is one thing a flow does. Kind says which fields matter.
type Action struct {
	Kind      string
	Text      Text       // say
	Voice     string     // say
	Language  string     // say: language of plain text
	Loop      int        // say, play
	URL       string     // play
	Seconds   int        // pause
	Menu      string     // goto, redirect: menu id
	Lang      string     // set_language
	Transfer  *Transfer  // transfer
	Voicemail *Voicemail // voicemail
	Set       []Assign   // set: in file order
	Request   string     // fetch: the request's name
	OnError   []Action   // fetch: run when the lookup fails
	Branches  []Branch   // switch: if branches in order, then else (If == ""); split: the variants
	Callback  *Callback  // callback
	Line, Col int

	ref string
	// setNames are a set action's names for its event: made once at load,
	// not on every step.
	setNames []string
}

// Control reports whether the action always ends its action list
// (everything but say, play, pause, set_language, set, fetch, switch and split).
func (a *Action) Control() bool {
	switch a.Kind {
	case KindSay, KindPlay, KindPause, KindSetLanguage, KindSet, KindFetch, KindSwitch, KindSplit:
		return false
	}
	return true
}

// Text is prompt text: one plain text, or one text per language.
type Text struct {
	Plain string     // used when Langs is empty
	Langs []LangText // per-language text in file order
}

// LangText is the text of one language.
type LangText struct{ Lang, Text string }

// Transfer dials one or more numbers or SIP URIs: all at once, or in turn.
type Transfer struct {
	To             []string // as written: "call_center", E.164 numbers or sip: URIs
	Numbers        []string // resolved: E.164 numbers and sip: URIs, no repeats
	CallerID       string
	TimeoutSeconds int  // how long each dial rings
	Sequential     bool // ring: sequential (one number after the other)
	// Whisper is spoken to the agent who answers before the caller is
	// connected (a template: {{account | digits}}); "" = none.
	Whisper string
	// AcceptKey is the key the agent presses to take the call; "" = the
	// call connects after the whisper.
	AcceptKey string
	Context   []ContextField // SIP headers on SIP targets; the transfer.started event's data
	NoAnswer  []Action
}

// ContextField is one named value handed to the agent: Value is a template.
type ContextField struct{ Name, Value string }

// Callback asks the call center to call the caller back instead of waiting.
type Callback struct {
	// Number is where to call back: "from" (the caller's number) or the
	// name of a variable holding a collected number.
	Number  string
	Confirm bool           // read the number back: 1 yes, 2 enter another
	Thanks  []Action       // prompt after the request is taken; then the call ends
	Context []ContextField // stored with the request; none = the call's variables
}

// Voicemail records a message, then thanks the caller and hangs up.
type Voicemail struct {
	Prompt           []Action
	MaxLengthSeconds int
	FinishKey        string
	TimeoutSeconds   int
	Beep             bool
	Thanks           []Action
	Transcribe       bool // ask the provider for a transcript (delivered to PathTranscription)
}

// SMSConfig holds keyword replies for text messages.
type SMSConfig struct {
	Keywords   []Keyword
	Default    string // reply to anything else; "" = no reply
	HasDefault bool
}

// Keyword is one SMS keyword and its reply ("" = no reply).
type Keyword struct {
	Word  string // upper case
	Reply string
}
