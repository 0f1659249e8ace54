package store

import (
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/ivr-project/ivr/internal/ivr"
)

// legacyEvent is the typed event of a row written before events were typed
// (its menu, input and action text only). It is the one place the store
// reads that text back: a one-time upgrade concern. The event it returns
// renders exactly the stored text (Input and Action); text it cannot read
// that way is kept as it is (ivr.EventText, ivr.HeardText).
func legacyEvent(at time.Time, menu, input, action string) ivr.Event {
	e := ivr.Event{At: at, Menu: menu}
	legacyHeard(&e, input)
	legacyAction(&e, action)
	if e.Action() != action {
		e.Kind, e.Key, e.Target = ivr.EventText, "", ""
		e.More = &ivr.EventMore{Text: action, URL: e.URL()} // the other rare fields were the action's
	}
	if e.Input() != input {
		e.Heard, e.Entry, e.Digits, e.Confidence = ivr.HeardText, input, 0, 0
		if e.Kind != ivr.EventVoicemailDone && e.More != nil {
			e.More.URL = "" // e.More is this function's own
		}
	}
	if e.More != nil && reflect.ValueOf(*e.More).IsZero() {
		e.More = nil // as the engine's events: no More without a rare field
	}
	return e
}

// legacyHeard reads a stored input ("2", "speech: billing", "6 digits",
// "timeout", "dial busy", "recording URL", ...).
func legacyHeard(e *ivr.Event, in string) {
	switch in {
	case "":
		return
	case "timeout":
		e.Heard = ivr.HeardSilence
		return
	case "unreadable keys":
		e.Heard = ivr.HeardBadKeys
		return
	case "speech":
		e.Heard = ivr.HeardSpeechIgnored
		return
	case "speech (no digits)":
		e.Heard = ivr.HeardSpeechNoDigits
		return
	case "recording":
		e.Heard = ivr.HeardRecording
		return
	}
	if d, ok := strings.CutPrefix(in, "agent "); ok {
		e.Heard, e.Entry = ivr.HeardAgent, d
		if d == "timeout" {
			e.Entry = ""
		}
		return
	}
	if c, ok := strings.CutPrefix(in, "speech (confidence "); ok {
		c, _ = strings.CutSuffix(c, ")")
		e.Heard = ivr.HeardUnsureSpeech
		e.Confidence, _ = strconv.ParseFloat(c, 64)
		return
	}
	if rest, ok := strings.CutPrefix(in, "speech: "); ok {
		if n, ok := legacyCount(rest); ok {
			e.Heard, e.Digits = ivr.HeardSpokenDigits, n
		} else {
			e.Heard, e.Entry = ivr.HeardSpeech, rest
		}
		return
	}
	if n, ok := legacyCount(in); ok {
		e.Heard, e.Digits = ivr.HeardDigits, n
		return
	}
	if rest, ok := strings.CutPrefix(in, "dial "); ok {
		e.Heard, e.Entry = ivr.HeardDial, rest
		return
	}
	if rest, ok := strings.CutPrefix(in, "recording "); ok {
		e.Heard, e.Edit().URL = ivr.HeardRecording, rest
		return
	}
	e.Heard, e.Entry = ivr.HeardKeys, in
	if strings.Trim(in, "0123456789*#") != "" {
		e.Heard = ivr.HeardText
	}
}

// legacyCount reads "N digits".
func legacyCount(s string) (int, bool) {
	num, ok := strings.CutSuffix(s, " digits")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(num)
	return n, err == nil && n >= 0
}

// legacyKinds are the actions that are their kind's whole text.
var legacyKinds = map[string]ivr.EventKind{
	"enter": ivr.EventEnter, "invalid": ivr.EventInvalid, "timeout": ivr.EventTimeout,
	"max_timeouts": ivr.EventMaxTimeouts, "max_failures": ivr.EventMaxFailures, "repeat": ivr.EventRepeat,
	"say": ivr.EventSay, "play": ivr.EventPlay, "pause": ivr.EventPause, "top": ivr.EventTop,
	"no_answer": ivr.EventNoAnswer, "voicemail": ivr.EventVoicemail, "voicemail done": ivr.EventVoicemailDone,
	"hangup": ivr.EventHangup, "closed": ivr.EventClosed, "switch: else": ivr.EventSwitchElse,
	"switch: no branch": ivr.EventSwitchNone, "fallback": ivr.EventFallback,
	"repeat_key": ivr.EventRepeatKey, "confirm": ivr.EventConfirm, "confirmed": ivr.EventConfirmed,
	"confirm rejected": ivr.EventConfirmRejected, "next number": ivr.EventNextNumber, "whisper": ivr.EventWhisper,
	"whisper accepted": ivr.EventWhisperAccepted, "whisper declined": ivr.EventWhisperDeclined,
	"callback confirm": ivr.EventCallbackConfirm, "callback enter": ivr.EventCallbackEnter,
	"callback confirmed": ivr.EventCallbackConfirmed, "callback another number": ivr.EventCallbackAnother,
	"callback number entered": ivr.EventCallbackEntered, "callback not taken": ivr.EventCallbackNotTaken,
	"callback requested": ivr.EventCallbackRequested, "step_limit": ivr.EventStepLimit,
}

// legacyAction reads a stored action ("option 2", "goto billing",
// "fetch account: ok, HTTP 200, 35ms", ...); legacyEvent checks the result.
func legacyAction(e *ivr.Event, a string) {
	if k, ok := legacyKinds[a]; ok {
		e.Kind = k
		return
	}
	verb, rest, _ := strings.Cut(a, " ")
	switch verb {
	case "option":
		e.Kind, e.Key = ivr.EventOption, rest
	case "collected":
		e.Kind, e.Edit().Var = ivr.EventCollected, rest
	case "set_language":
		e.Kind, e.Target = ivr.EventSetLanguage, rest
	case "set":
		e.Kind, e.Edit().Vars = ivr.EventSet, strings.Split(rest, ",")
	case "goto":
		e.Kind, e.Target = ivr.EventGoto, rest
	case "redirect":
		e.Kind, e.Target = ivr.EventRedirect, rest
	case "back":
		e.Kind, e.Target = ivr.EventBack, rest
	case "transfer":
		e.Kind, e.Edit().Numbers = ivr.EventTransfer, strings.Split(rest, ",")
	case "fallback":
		e.Kind, e.Edit().Reason = ivr.EventFallback, rest
	case "closure":
		e.Kind, e.Edit().Reason = ivr.EventClosure, rest
	case "variant":
		e.Kind, e.Edit().Label = ivr.EventVariant, rest
	case "switch:":
		legacySwitch(e, rest)
	case "fetch":
		legacyFetch(e, rest)
	default:
		e.Kind, e.Edit().Text = ivr.EventText, a
	}
}

// legacySwitch reads "N COND" and "condition N failed, counted false".
func legacySwitch(e *ivr.Event, rest string) {
	if num, ok := strings.CutPrefix(rest, "condition "); ok {
		num, _ = strings.CutSuffix(num, " failed, counted false")
		e.Kind = ivr.EventSwitchFailed
		e.Edit().Branch, _ = strconv.Atoi(num)
		return
	}
	num, cond, _ := strings.Cut(rest, " ")
	e.Kind, e.Edit().Cond = ivr.EventSwitch, cond
	e.Edit().Branch, _ = strconv.Atoi(num)
}

// legacyFetch reads "NAME: ok", "NAME: failed (WHY), on_error" (the
// engine's, no lookup sent) and "NAME: OUTCOME[, HTTP N], Dms[, on_error]"
// (with "failed (WHY)" for OUTCOME when the answer lacked a value).
func legacyFetch(e *ivr.Event, rest string) {
	e.Kind = ivr.EventFetch
	e.Edit().Request, rest, _ = strings.Cut(rest, ": ")
	rest, onError := strings.CutSuffix(rest, ", on_error")
	if why, ok := strings.CutPrefix(rest, "failed ("); ok {
		if r, ok := strings.CutSuffix(why, ")"); ok { // the engine's line
			e.Edit().Reason = r
			return
		}
		// The lookup answered without a value: the details follow the reason.
		i := strings.LastIndex(why, "), ")
		if i < 0 {
			return
		}
		e.Edit().Reason, rest = why[:i], "ok, "+why[i+3:]
	}
	head, details, _ := strings.Cut(rest, ", ")
	if details == "" {
		return
	}
	e.Edit().Outcome = head
	if status, ms, ok := strings.Cut(details, ", "); ok {
		s, _ := strings.CutPrefix(status, "HTTP ")
		e.Edit().Status, _ = strconv.Atoi(s)
		details = ms
	}
	ms, _ := strings.CutSuffix(details, "ms")
	n, _ := strconv.ParseInt(ms, 10, 64)
	e.Edit().Duration = time.Duration(n) * time.Millisecond
	if onError && e.Reason() == "" {
		e.Edit().Reason = "lookup failed" // the engine's reason for a lookup that failed
	}
}
