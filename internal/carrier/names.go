package carrier

import (
	"strconv"
	"strings"
)

// Providers.
const (
	Twilio = "twilio"
	Plivo  = "plivo"
)

// Names are the request parameters and paths that differ between the
// providers.
type Names struct {
	Provider string // Twilio | Plivo; also the route prefix
	CallID   string // the call's id
	Digits   string // keys pressed at a gather
	Speech   string // the transcript at a gather
	// Confidence is the recognizer's confidence in Speech, 0.0 to 1.0
	// (Twilio Confidence; Plivo's GetInput SpeechConfidenceScore).
	Confidence   string
	DialStatus   []string // a transfer's outcome: the first one present wins
	RecordingURL string   // the voicemail's recording
	// RecordingDuration is the voicemail's length in seconds.
	RecordingDuration string
	MessageID         string // an incoming SMS's id
	MessageText       string // an incoming SMS's text
	StatusPath        string // the end-of-call callback
	Duration          string // the call's length in seconds, on that callback
	// A voicemail transcript's callback (Twilio transcribeCallback, Plivo
	// transcriptionUrl): the call's id there, the text, and the field that
	// says it failed (Twilio TranscriptionStatus "failed", Plivo a
	// non-empty error).
	TranscriptCallID, Transcript, TranscriptFailed string
}

var (
	// TwilioNames are Twilio's.
	TwilioNames = Names{
		Provider:          Twilio,
		CallID:            "CallSid",
		Digits:            "Digits",
		Speech:            "SpeechResult",
		Confidence:        "Confidence",
		DialStatus:        []string{"DialCallStatus"},
		RecordingURL:      "RecordingUrl",
		RecordingDuration: "RecordingDuration",
		MessageID:         "MessageSid",
		MessageText:       "Body",
		StatusPath:        "/twilio/status",
		Duration:          "CallDuration",
		TranscriptCallID:  "CallSid",
		Transcript:        "TranscriptionText",
		TranscriptFailed:  "TranscriptionStatus",
	}
	// PlivoNames are Plivo's.
	PlivoNames = Names{
		Provider:          Plivo,
		CallID:            "CallUUID",
		Digits:            "Digits",
		Speech:            "Speech",
		Confidence:        "SpeechConfidenceScore",
		DialStatus:        []string{"DialStatus", "DialBLegStatus"},
		RecordingURL:      "RecordUrl",
		RecordingDuration: "RecordingDuration",
		MessageID:         "MessageUUID",
		MessageText:       "Text",
		StatusPath:        "/plivo/hangup",
		Duration:          "Duration",
		TranscriptCallID:  "call_uuid",
		Transcript:        "transcription",
		TranscriptFailed:  "error",
	}
)

// SpeechConfidence reads the recognizer's confidence in a gather's
// transcript with get (a request parameter by name): false when the
// provider sent none, or something that is not a number from 0 to 1.
func (n Names) SpeechConfidence(get func(string) string) (float64, bool) {
	s := strings.TrimSpace(get(n.Confidence))
	if s == "" || len(s) > 32 || strings.Trim(s, "0123456789.") != "" {
		return 0, false // plain decimals only: no sign, exponent, hex, NaN
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !(v >= 0 && v <= 1) {
		return 0, false
	}
	return v, true
}

// TranscriptOK reports whether a transcript callback's failure field value
// says the transcription worked.
func (n Names) TranscriptOK(v string) bool {
	v = strings.TrimSpace(v)
	if n.Provider == Twilio {
		return v == "" || strings.EqualFold(v, "completed")
	}
	return v == ""
}
