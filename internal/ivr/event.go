package ivr

import (
	"strconv"
	"strings"
	"time"
)

// Event is one thing that happened during a call, for call records. Kind
// says what happened and which fields are set; the text people read (the
// call page, the calls API's "input" and "action", exports) is rendered
// from them by Input and Action. Readers switch on Kind and read the
// fields: they never parse the rendered text.
//
// The fields most events carry (the menu, what was heard, an option's key,
// a goto's target) are in Event itself; the rest, which a few kinds set
// (a fetch's lookup, a transfer's numbers and context, a fallback's
// reason, ...), are in More, nil when none is set, and read through the
// methods of the same names (Reason, Numbers, ...), which give the zero
// value without More. An enter or key event is then 120 bytes instead of
// 352: what it saves on every answer (BenchmarkEventSize), in the engine's
// event slice and the server's copy of it for the store, is 1.6 KB of 2.4.
//
// Slices and maps in an Event may be shared with the flow (a transfer's
// Numbers, a set's Vars), and More with copies of the event: treat them as
// read-only (build a new EventMore to change one).
type Event struct {
	At    time.Time
	Kind  EventKind
	Heard HeardKind // what the caller (or the provider) sent that led to the event

	Digits     int     // HeardDigits, HeardSpokenDigits: how many digits came (never which)
	Confidence float64 // HeardUnsureSpeech, HeardSpeech, HeardSpokenDigits: the recognizer's confidence (0-1; 0 = none reported)

	Menu   string // the menu it happened in ("" outside menus)
	Entry  string // HeardKeys: the keys; HeardSpeech: the transcript (cut); HeardDial: the dial status; HeardKeyword: the SMS keyword; HeardText: the input as stored
	Key    string // option: the option's key; sms: the keyword ("" = the default reply)
	Target string // goto, redirect, back: the menu gone to; set_language: the language

	More *EventMore // the fields few kinds set; nil = none of them
}

// EventMore holds the fields of an Event that only a few kinds set.
type EventMore struct {
	Var     string   // collected: the variable
	Vars    []string // set: the variables set, in file order
	Numbers []string // transfer, next_number: the numbers dialled; callback_requested: the number to call back

	// fetch: Request is the request's name. Outcome is the lookup's outcome
	// as the lookup package names it ("ok", "timeout", "status", ...), with
	// its HTTP Status (0 = none) and Duration; Outcome "" = no lookup was
	// sent (or its details were not recorded). Reason is why the flow
	// counted the fetch as failed ("lookup failed", "no x in the answer",
	// ...): "" = it succeeded; a failed fetch ran its on_error.
	Request  string
	Outcome  string
	Status   int
	Duration time.Duration
	Error    Failure // fetch: the kind of failure on_error sees as the variable error ("" = none)

	Reason string // fetch: see above; fallback: the reason; closure: what follows its message (voicemail, hangup, transfer); step_limit: what limit
	Branch int    // switch, switch_failed: the branch's position (1 = the first)
	Cond   string // switch: the branch's condition (cut to 60 characters)
	URL    string // voicemail_done: the recording's URL (cut to 200 characters)
	Label  string // variant: the split's variant
	Text   string // text: the action as stored; voicemail_transcribed: the transcript

	Context []ContextValue // transfer: the context handed to the agent; callback_requested: the callback's
}

// more is e.More, or a zero EventMore when nil (never to be changed).
func (e *Event) more() *EventMore {
	if e.More == nil {
		return &noMore
	}
	return e.More
}

var noMore EventMore

// Edit is e.More, made when nil, for code filling in an event's rare
// fields (a decoder, a lookup's outcome). A copy of e shares it.
func (e *Event) Edit() *EventMore {
	if e.More == nil {
		e.More = new(EventMore)
	}
	return e.More
}

// Var is More.Var ("" without More); the other methods below likewise.
func (e *Event) Var() string             { return e.more().Var }
func (e *Event) Vars() []string          { return e.more().Vars }
func (e *Event) Numbers() []string       { return e.more().Numbers }
func (e *Event) Request() string         { return e.more().Request }
func (e *Event) Outcome() string         { return e.more().Outcome }
func (e *Event) Status() int             { return e.more().Status }
func (e *Event) Duration() time.Duration { return e.more().Duration }
func (e *Event) Failure() Failure        { return e.more().Error }
func (e *Event) Reason() string          { return e.more().Reason }
func (e *Event) Branch() int             { return e.more().Branch }
func (e *Event) Cond() string            { return e.more().Cond }
func (e *Event) URL() string             { return e.more().URL }
func (e *Event) Label() string           { return e.more().Label }
func (e *Event) Text() string            { return e.more().Text }
func (e *Event) Context() []ContextValue { return e.more().Context }

// EventKind says what an event records and which of Event's fields are
// set. Kinds are stored by number (EncodeEvents): never renumber or reuse
// one; add a new kind at the end of the list, with its name in eventNames.
type EventKind uint8

// Event kinds. Each comment names the fields the kind sets (beside At,
// Menu and the Heard fields) and the action text it renders.
const (
	EventText          EventKind = iota // Text (and Heard = HeardText): a record older than typed events that could not be read; renders Text
	EventEnter                          // a menu was entered: "enter"
	EventOption                         // Key: the option chosen: "option KEY"
	EventCollected                      // Var: a collect menu's entry was saved: "collected VAR"
	EventInvalid                        // an entry that matched nothing: "invalid"
	EventTimeout                        // no entry before the timeout: "timeout"
	EventMaxTimeouts                    // the menu's timeouts ran out: "max_timeouts"
	EventMaxFailures                    // the menu's wrong entries ran out: "max_failures"
	EventRepeat                         // actions ended without a control action: the menu again: "repeat"
	EventSay                            // "say"
	EventPlay                           // "play"
	EventPause                          // "pause"
	EventSetLanguage                    // Target: the language: "set_language LANG"
	EventSet                            // Vars: "set a,b"
	EventFetch                          // Request, Outcome, Status, Duration, Reason, Error: "fetch NAME: ok, HTTP 200, 35ms"
	EventSwitch                         // Branch, Cond: the branch taken: "switch: 2 COND"
	EventSwitchElse                     // the else branch taken: "switch: else"
	EventSwitchFailed                   // Branch: its condition could not run, counted false: "switch: condition 2 failed, counted false"
	EventSwitchNone                     // no branch taken: "switch: no branch"
	EventGoto                           // Target: "goto MENU"
	EventRedirect                       // Target: "redirect MENU"
	EventBack                           // Target: "back MENU"
	EventTop                            // "top"
	EventTransfer                       // Numbers, Context: a transfer started: "transfer +1555,+1666"
	EventNoAnswer                       // Heard = HeardDial: the transfer was not answered: "no_answer"
	EventNextNumber                     // Numbers (Heard = HeardDial): a sequential transfer rings its next number: "next number"
	EventVoicemail                      // a voicemail recording started: "voicemail"
	EventVoicemailDone                  // URL (Heard = HeardRecording): a recording came back: "voicemail done"
	EventHangup                         // the flow hung up (Heard = HeardDial after a connected transfer): "hangup"
	EventClosed                         // a call outside business hours: "closed"
	EventFallback                       // Reason: the server answered the provider's fallback: "fallback REASON"
	EventSMS                            // Key (Heard = HeardKeyword): an SMS answered by keyword ("" = default): "sms KEY" / "sms default"
	EventSMSNoReply                     // Key: as sms, with no reply sent: "sms KEY (no reply)"

	EventRepeatKey         // (Heard: the key) the repeat key said the prompt again, no failure counted: "repeat_key"
	EventConfirm           // a collect's read-back was said: "confirm"
	EventConfirmed         // (Heard: the answer) the caller accepted the value read back: "confirmed"
	EventConfirmRejected   // (Heard: the answer, or silence twice) the entry is asked again: "confirm rejected"
	EventWhisper           // the whisper was said to the answering agent: "whisper"
	EventWhisperAccepted   // (Heard = HeardAgent) the agent took the call: "whisper accepted"
	EventWhisperDeclined   // (Heard = HeardAgent) the agent did not: "whisper declined"
	EventCallbackConfirm   // the number to call back was read back, 1 or 2 asked for: "callback confirm"
	EventCallbackEnter     // the caller was asked to enter a number: "callback enter"
	EventCallbackConfirmed // (Heard: the key) the caller confirmed the number: "callback confirmed"
	EventCallbackAnother   // (Heard: the key) the caller will enter another number: "callback another number"
	EventCallbackEntered   // (Heard = HeardDigits) the caller entered a number: "callback number entered"
	EventCallbackNotTaken  // (Heard) no usable number after the tries: "callback not taken"
	EventCallbackRequested // Numbers (one), Context: the callback is requested: "callback requested"

	// Kinds the features in progress record (issues 25, 27).
	EventVariant              // Label: the split variant the call takes: "variant LABEL"
	EventClosure              // Reason: the line's closure switch answered the call: "closure REASON"
	EventStepLimit            // Reason: the call's step limit was reached: "step_limit"
	EventVoicemailTranscribed // Text: the provider's transcript came back: "voicemail transcribed"

	eventKinds // the number of kinds; not a kind
)

var eventNames = [eventKinds]string{
	EventText: "text", EventEnter: "enter", EventOption: "option", EventCollected: "collected",
	EventInvalid: "invalid", EventTimeout: "timeout", EventMaxTimeouts: "max_timeouts",
	EventMaxFailures: "max_failures", EventRepeat: "repeat", EventSay: "say", EventPlay: "play",
	EventPause: "pause", EventSetLanguage: "set_language", EventSet: "set", EventFetch: "fetch",
	EventSwitch: "switch", EventSwitchElse: "switch_else", EventSwitchFailed: "switch_failed",
	EventSwitchNone: "switch_none", EventGoto: "goto", EventRedirect: "redirect", EventBack: "back",
	EventTop: "top", EventTransfer: "transfer", EventNoAnswer: "no_answer", EventVoicemail: "voicemail",
	EventVoicemailDone: "voicemail_done", EventHangup: "hangup", EventClosed: "closed",
	EventFallback: "fallback", EventSMS: "sms", EventSMSNoReply: "sms_no_reply",
	EventRepeatKey: "repeat_key", EventConfirm: "confirm", EventConfirmed: "confirmed",
	EventConfirmRejected: "confirm_rejected", EventNextNumber: "next_number", EventWhisper: "whisper",
	EventWhisperAccepted: "whisper_accepted", EventWhisperDeclined: "whisper_declined",
	EventCallbackConfirm: "callback_confirm", EventCallbackEnter: "callback_enter",
	EventCallbackConfirmed: "callback_confirmed", EventCallbackAnother: "callback_another",
	EventCallbackEntered: "callback_entered", EventCallbackNotTaken: "callback_not_taken",
	EventCallbackRequested: "callback_requested", EventVariant: "variant",
	EventClosure:   "closure",
	EventStepLimit: "step_limit", EventVoicemailTranscribed: "voicemail_transcribed",
}

// String is the kind's stable lower-case name ("enter", "option", ...);
// a kind this version does not know is "kind(N)".
func (k EventKind) String() string {
	if k < eventKinds {
		return eventNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// ParseEventKind is the kind named name (as String gives it).
func ParseEventKind(name string) (EventKind, bool) {
	for k, n := range eventNames {
		if n == name {
			return EventKind(k), true
		}
	}
	return 0, false
}

// HeardKind says what the caller (or the provider) sent that led to an
// event, and how Event.Input renders it. Stored by number: append only.
type HeardKind uint8

const (
	HeardNothing        HeardKind = iota // ""
	HeardKeys                            // Entry: the keys pressed: "42"
	HeardBadKeys                         // keys other than digits, * and #: "unreadable keys"
	HeardSpeech                          // Entry: the transcript, cut to 100 characters: "speech: TEXT"
	HeardDigits                          // Digits: a collect menu's keys, counted: "6 digits"
	HeardSpokenDigits                    // Digits: a collect menu's spoken digits, counted: "speech: 6 digits"
	HeardSpeechIgnored                   // speech in a collect menu that takes none: "speech"
	HeardSpeechNoDigits                  // speech without digits in a collect menu: "speech (no digits)"
	HeardSilence                         // nothing before the timeout: "timeout"
	HeardDial                            // Entry: how a transfer ended (lower case, cut to 20): "dial no-answer"
	HeardRecording                       // a voicemail recording (Event.URL): "recording URL"
	HeardKeyword                         // Entry: an SMS keyword: "HELP"
	HeardText                            // Entry: an input as stored by a version older than typed events
	HeardUnsureSpeech                    // Confidence: speech below the menu's min_confidence (no words): "speech (confidence 0.20)"
	HeardAgent                           // Entry: the agent's keys at a whisper (cut to 8), "" = none in time: "agent 1", "agent timeout"
)

// Input is the text people read for what the caller did ("2",
// "speech: billing", "timeout", "dial busy", ...): the calls API's "input".
func (e *Event) Input() string {
	switch e.Heard {
	case HeardKeys, HeardKeyword, HeardText:
		return e.Entry
	case HeardBadKeys:
		return "unreadable keys"
	case HeardSpeech:
		return "speech: " + e.Entry
	case HeardDigits:
		return strconv.Itoa(e.Digits) + " digits"
	case HeardSpokenDigits:
		return "speech: " + strconv.Itoa(e.Digits) + " digits"
	case HeardSpeechIgnored:
		return "speech"
	case HeardSpeechNoDigits:
		return "speech (no digits)"
	case HeardUnsureSpeech:
		return "speech (confidence " + strconv.FormatFloat(e.Confidence, 'f', 2, 64) + ")"
	case HeardAgent:
		if e.Entry == "" {
			return "agent timeout"
		}
		return "agent " + e.Entry
	case HeardSilence:
		return "timeout"
	case HeardDial:
		return "dial " + e.Entry
	case HeardRecording:
		if e.URL() == "" {
			return "recording"
		}
		return "recording " + e.URL()
	}
	return ""
}

// Action is the text people read for what the flow did ("enter",
// "option 2", "goto billing", "fetch account: ok, HTTP 200, 35ms", ...):
// the calls API's "action".
func (e *Event) Action() string {
	switch e.Kind {
	case EventText:
		return e.Text()
	case EventOption:
		return "option " + e.Key
	case EventCollected:
		return "collected " + e.Var()
	case EventSetLanguage:
		return "set_language " + e.Target
	case EventSet:
		return "set " + strings.Join(e.Vars(), ",")
	case EventFetch:
		return e.fetchAction()
	case EventSwitch:
		return "switch: " + strconv.Itoa(e.Branch()) + " " + e.Cond()
	case EventSwitchElse:
		return "switch: else"
	case EventSwitchFailed:
		return "switch: condition " + strconv.Itoa(e.Branch()) + " failed, counted false"
	case EventSwitchNone:
		return "switch: no branch"
	case EventGoto, EventRedirect, EventBack:
		return e.Kind.String() + " " + e.Target
	case EventTransfer:
		return "transfer " + strings.Join(e.Numbers(), ",")
	case EventVoicemailDone:
		return "voicemail done"
	case EventFallback:
		if e.Reason() == "" {
			return "fallback"
		}
		return "fallback " + e.Reason()
	case EventSMS, EventSMSNoReply:
		s := "sms default"
		if e.Key != "" {
			s = "sms " + e.Key
		}
		if e.Kind == EventSMSNoReply {
			s += " (no reply)"
		}
		return s
	}
	return e.newAction()
}

// newAction renders the kinds the features in progress record, and the
// kinds that are their own name.
func (e *Event) newAction() string {
	switch e.Kind {
	case EventNextNumber:
		return "next number"
	case EventWhisperAccepted:
		return "whisper accepted"
	case EventWhisperDeclined:
		return "whisper declined"
	case EventCallbackConfirm:
		return "callback confirm"
	case EventCallbackEnter:
		return "callback enter"
	case EventCallbackConfirmed:
		return "callback confirmed"
	case EventCallbackAnother:
		return "callback another number"
	case EventCallbackEntered:
		return "callback number entered"
	case EventCallbackNotTaken:
		return "callback not taken"
	case EventCallbackRequested:
		return "callback requested"
	case EventVariant:
		return "variant " + e.Label()
	case EventConfirmRejected:
		return "confirm rejected"
	case EventClosure:
		return "closure " + e.Reason()
	case EventVoicemailTranscribed:
		return "voicemail transcribed"
	}
	return e.Kind.String()
}

// fetchAction renders a fetch: the engine's own line when no lookup was
// sent ("fetch NAME: ok", "fetch NAME: failed (WHY), on_error"), else
// the lookup's outcome, status and duration, with what the flow did about
// it ("fetch NAME: timeout, 3000ms, on_error"; a lookup that answered but
// lacked a value: "fetch NAME: failed (WHY), HTTP 200, 35ms, on_error").
func (e *Event) fetchAction() string {
	s := "fetch " + e.Request() + ": "
	if e.Outcome() == "" {
		if e.Reason() == "" {
			return s + "ok"
		}
		return s + "failed (" + e.Reason() + "), on_error"
	}
	if e.Reason() != "" && e.Outcome() == "ok" {
		s += "failed (" + e.Reason() + ")"
	} else {
		s += e.Outcome()
	}
	if e.Status() != 0 {
		s += ", HTTP " + strconv.Itoa(e.Status())
	}
	s += ", " + strconv.FormatInt(e.Duration().Milliseconds(), 10) + "ms"
	if e.Reason() != "" {
		s += ", on_error"
	}
	return s
}

// FetchOK reports whether a fetch event's lookup succeeded as far as the
// flow is concerned (its values were saved; on_error did not run).
func (e *Event) FetchOK() bool {
	return e.Kind == EventFetch && e.Reason() == "" && (e.Outcome() == "" || e.Outcome() == "ok")
}

// Terminal reports whether the flow ended the call with this event: a
// hangup, a voicemail (started or done) or a fallback.
func (e *Event) Terminal() bool {
	switch e.Kind {
	case EventHangup, EventVoicemail, EventVoicemailDone, EventFallback:
		return true
	}
	return false
}
