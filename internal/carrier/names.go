package carrier

// Providers.
const (
	Twilio = "twilio"
	Plivo  = "plivo"
)

// Names are the request parameters and paths that differ between the
// providers.
type Names struct {
	Provider     string   // Twilio | Plivo; also the route prefix
	CallID       string   // the call's id
	Digits       string   // keys pressed at a gather
	Speech       string   // the transcript at a gather
	DialStatus   []string // a transfer's outcome: the first one present wins
	RecordingURL string   // the voicemail's recording
	// RecordingDuration is the voicemail's length in seconds.
	RecordingDuration string
	MessageID         string // an incoming SMS's id
	MessageText       string // an incoming SMS's text
	StatusPath        string // the end-of-call callback
	Duration          string // the call's length in seconds, on that callback
}

var (
	// TwilioNames are Twilio's.
	TwilioNames = Names{
		Provider:          Twilio,
		CallID:            "CallSid",
		Digits:            "Digits",
		Speech:            "SpeechResult",
		DialStatus:        []string{"DialCallStatus"},
		RecordingURL:      "RecordingUrl",
		RecordingDuration: "RecordingDuration",
		MessageID:         "MessageSid",
		MessageText:       "Body",
		StatusPath:        "/twilio/status",
		Duration:          "CallDuration",
	}
	// PlivoNames are Plivo's.
	PlivoNames = Names{
		Provider:          Plivo,
		CallID:            "CallUUID",
		Digits:            "Digits",
		Speech:            "Speech",
		DialStatus:        []string{"DialStatus", "DialBLegStatus"},
		RecordingURL:      "RecordUrl",
		RecordingDuration: "RecordingDuration",
		MessageID:         "MessageUUID",
		MessageText:       "Text",
		StatusPath:        "/plivo/hangup",
		Duration:          "Duration",
	}
)
