package carrier

import (
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Call is the provider's view of one call: the parameters on every request
// it sends about it.
type Call struct {
	Provider string // Twilio | Plivo
	ID       string // CallSid / CallUUID
	Account  string // Twilio's AccountSid
	From, To string
	Answered bool // after the first request CallStatus is in-progress
}

// NewCall is a new inbound call with fresh ids, not yet answered. account
// is Twilio's AccountSid ("" = a made-up one).
func NewCall(provider, account, from, to string) Call {
	c := Call{Provider: provider, ID: NewCallID(provider), From: from, To: to}
	if provider == Twilio {
		c.Account = account
		if c.Account == "" {
			c.Account = NewAccountSid()
		}
	}
	return c
}

// Names are the names of the call's provider.
func (c Call) Names() Names {
	if c.Provider == Twilio {
		return TwilioNames
	}
	return PlivoNames
}

// Params are the parameters every voice request of the call carries.
func (c Call) Params() url.Values {
	status := "in-progress"
	if !c.Answered {
		status = "ringing"
	}
	v := url.Values{c.Names().CallID: {c.ID}, "From": {c.From}, "To": {c.To}, "CallStatus": {status}, "Direction": {"inbound"}}
	if c.Provider == Twilio {
		v.Set("AccountSid", c.Account)
		v.Set("ApiVersion", "2010-04-01")
	} else if !c.Answered {
		v.Set("Event", "StartApp")
	}
	return v
}

// DefaultConfidence is the recognizer's confidence Input reports when the
// caller's speech gives none.
const DefaultConfidence = "0.92"

// Input is a gather's answer: keys pressed (digits, and the finish key
// that ended them) or speech, with the recognizer's confidence in it
// ("" = DefaultConfidence). element is the gather's XML element; Plivo's
// GetInput says which kind of input it got.
func (c Call) Input(element, digits, finished, speech, confidence string) url.Values {
	n := c.Names()
	v := url.Values{}
	if confidence == "" {
		confidence = DefaultConfidence
	}
	switch {
	case c.Provider == Twilio && speech != "":
		v.Set(n.Speech, speech)
		v.Set(n.Confidence, confidence)
	case c.Provider == Twilio:
		if digits != "" {
			v.Set(n.Digits, digits)
		}
		v.Set("FinishedOnKey", finished)
	case element == "GetInput" && speech != "":
		v.Set("InputType", "speech")
		v.Set(n.Speech, speech)
		v.Set(n.Confidence, confidence)
	case element == "GetInput":
		if digits != "" {
			v.Set("InputType", "dtmf")
			v.Set(n.Digits, digits)
		}
	default:
		if digits != "" {
			v.Set(n.Digits, digits)
		}
	}
	return v
}

// DialResult is the outcome of a transfer ("completed", "no-answer", ...),
// sent to the dial's action URL.
func (c Call) DialResult(status string) url.Values {
	n := c.Names()
	if c.Provider == Twilio {
		dur := "0"
		if status == "completed" {
			dur = "42"
		}
		return url.Values{n.DialStatus[0]: {status}, "DialCallSid": {NewCallID(Twilio)}, "DialCallDuration": {dur}}
	}
	return url.Values{n.DialStatus[0]: {status}, "DialALegUUID": {c.ID}, "DialBLegUUID": {NewUUID()}}
}

// Recording is a voicemail left on the call, sent to the record's action
// URL; finishKey is the key that ended it ("" = none).
func (c Call) Recording(finishKey string) url.Values {
	n := c.Names()
	if c.Provider == Twilio {
		sid := "RE" + RandomHex(16)
		v := url.Values{
			n.RecordingURL:      {"https://api.twilio.com/2010-04-01/Accounts/" + c.Account + "/Recordings/" + sid},
			n.RecordingDuration: {"7"}, "RecordingSid": {sid},
		}
		if finishKey != "" {
			v.Set(n.Digits, finishKey)
		}
		return v
	}
	id := NewUUID()
	return url.Values{
		n.RecordingURL:      {"https://media.plivo.com/v1/Account/MA" + strings.ToUpper(RandomHex(9)) + "/Recording/" + id + ".mp3"},
		n.RecordingDuration: {"7"}, "RecordingDurationMs": {"7000"}, "RecordingID": {id},
	}
}

// Transcript is the provider's callback with a voicemail's transcript
// (Twilio transcribeCallback, Plivo transcriptionUrl).
func (c Call) Transcript(text string) url.Values {
	n := c.Names()
	if c.Provider == Twilio {
		return url.Values{n.TranscriptCallID: {c.ID}, "AccountSid": {c.Account}, n.Transcript: {text}, n.TranscriptFailed: {"completed"},
			"TranscriptionSid": {"TR" + RandomHex(16)}, "RecordingSid": {"RE" + RandomHex(16)}}
	}
	return url.Values{n.TranscriptCallID: {c.ID}, n.Transcript: {text}, n.TranscriptFailed: {""}, "recording_id": {NewUUID()},
		"duration": {"7"}, "transcription_charge": {"0.05"}, "transcription_rate": {"0.05"}}
}

// Hangup is the provider's end-of-call callback: its path and parameters.
// byServer tells who hung up (Plivo says so).
func (c Call) Hangup(seconds int, byServer bool) (path string, v url.Values) {
	n := c.Names()
	dur := strconv.Itoa(seconds)
	if c.Provider == Twilio {
		v = c.Params()
		v.Set("CallStatus", "completed")
		v.Set(n.Duration, dur)
		v.Set("Timestamp", time.Now().UTC().Format(time.RFC1123Z))
		v.Set("CallbackSource", "call-progress-events")
		v.Set("SequenceNumber", "0")
		return n.StatusPath, v
	}
	source := "Caller"
	if byServer {
		source = "Answer XML"
	}
	v = url.Values{
		n.CallID: {c.ID}, "From": {c.From}, "To": {c.To}, "Direction": {"inbound"},
		"CallStatus": {"completed"}, "Event": {"Hangup"}, n.Duration: {dur}, "BillDuration": {dur},
		"HangupCause": {"NORMAL_CLEARING"}, "HangupCauseName": {"Normal Hangup"}, "HangupSource": {source},
	}
	return n.StatusPath, v
}
