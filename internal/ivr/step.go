package ivr

// Step is one provider-neutral instruction to the caller's phone: what the
// engine decided, before any XML. internal/xml renders a []Step as TwiML or
// Plivo XML. The set of step types is closed: Say, Play, Pause, Gather, Dial,
// Record, Redirect, Hangup and Message.
type Step interface{ isStep() }

// Say speaks Text with text-to-speech.
type Say struct {
	Text     string
	Voice    string // provider voice name, e.g. "alice", "Polly.Joanna", "WOMAN"; "" = provider default
	Language string // BCP-47 such as "en-US", "es-ES"; "" = provider default
	Loop     int    // 0 or 1 = once
}

// Play plays an audio file at URL.
type Play struct {
	URL  string
	Loop int
}

// Pause is silence.
type Pause struct {
	Seconds int
}

// Gather collects keys and/or speech while its prompts play, then the provider
// requests Action (a URL relative to the provider's voice base, see Target).
type Gather struct {
	Action            Target
	Prompts           []Step // only Say, Play and Pause
	NumDigits         int    // 0 = no fixed length
	TimeoutSeconds    int    // wait for first input after the prompts
	InterDigitSeconds int    // wait between keys (Twilio: timeout; Plivo: digitTimeout)
	FinishOnKey       string // e.g. "#"; "" = none
	DTMF              bool   // keys accepted
	Speech            bool   // speech accepted
	SpeechHints       []string
	Language          string // speech recognition language
}

// Dial connects the caller to one or more numbers or SIP URIs (rung at
// once; first to answer wins). After the dial ends the provider requests
// Action when set.
type Dial struct {
	Numbers        []string // E.164 numbers and "sip:" / "sips:" URIs
	CallerID       string   // "" = the caller's number / provider default
	TimeoutSeconds int
	Action         *Target // where to go after the dial ends; nil = continue with next steps
	// Whisper is the URL the answering agent's leg requests before the
	// caller is connected (Twilio <Number url>, Plivo confirmSound); nil = none.
	Whisper *Target
	// AcceptKey is the key the agent presses to take the call (Plivo
	// confirmKey; on Twilio the whisper's own Gather asks for it); "" = none.
	AcceptKey string
	// Context is sent as SIP headers X-IVR-<Name> to the SIP targets.
	Context []ContextValue
}

// ContextValue is a context field with its value filled in.
type ContextValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Record records a voicemail.
type Record struct {
	Action           Target
	MaxLengthSeconds int
	FinishOnKey      string
	TimeoutSeconds   int // silence that ends the recording
	PlayBeep         bool
	// Transcription, when set, asks the provider to transcribe the
	// recording and deliver the text to this URL (Twilio transcribe +
	// transcribeCallback, Plivo transcriptionType=auto + transcriptionUrl).
	Transcription *Target
}

// Redirect sends the call to another of our URLs.
type Redirect struct {
	Target Target
}

// Hangup ends the call.
type Hangup struct{}

// Message is an SMS reply (message routes only).
type Message struct {
	Text string
	To   string // the sender of the inbound message
	From string // our number the message was sent to
}

func (Say) isStep()      {}
func (Play) isStep()     {}
func (Pause) isStep()    {}
func (Gather) isStep()   {}
func (Dial) isStep()     {}
func (Record) isStep()   {}
func (Redirect) isStep() {}
func (Hangup) isStep()   {}
func (Message) isStep()  {}

// Target is one of our own URLs, relative to a provider's voice base
// ("/twilio/voice/" or "/plivo/voice/"): Path like "menu/billing" and the call
// state in Query. The renderer joins it to the public base URL, so the provider
// signs the state along with the URL and any instance can serve the next step.
type Target struct {
	Path  string // e.g. "menu/main", "action/voicemail-done"
	Query string // already encoded, stable order, e.g. "attempt=2&lang=es"
}

// String is Path?Query.
func (t Target) String() string {
	if t.Query == "" {
		return t.Path
	}
	return t.Path + "?" + t.Query
}
