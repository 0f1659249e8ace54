package simulate

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/ivr-project/ivr/internal/carrier"
	"github.com/ivr-project/ivr/internal/xml"
)

// maxDocument caps a webhook answer read by the simulator.
const maxDocument = 1 << 20

// Outcomes: how a simulated call ended, as --expect names them. A completed
// dial or a recording outranks the hang-up that follows it.
const (
	outcomeHangup       = "hangup"        // the server hung up (<Hangup>, <Reject>, end of the document)
	outcomeCallerHangup = "caller-hangup" // the caller hung up at a gather (end of script or input)
	outcomeTransfer     = "transfer"      // a <Dial> completed
	outcomeVoicemail    = "voicemail"     // a <Record> took a message
)

// finishKey is the key the simulated caller ends a recording with.
func finishKey(keys string) string {
	if strings.Contains(keys, "#") {
		return "#"
	}
	if keys != "" {
		return keys[:1]
	}
	return ""
}

// request is one webhook the simulated provider makes.
type request struct {
	method string
	url    string        // absolute; for GET the parameters are added to its query
	extra  url.Values    // parameters beyond the call's own (Digits, DialCallStatus, ...)
	as     *carrier.Call // the leg it is about (the agent's at a whisper); nil = the caller's
}

// runner plays one call.
type runner struct {
	call       carrier.Call
	signer     carrier.Signer
	client     *http.Client
	out        io.Writer
	caller     caller
	agent      caller // answers a whisper's accept key as the agent (nil: silence)
	dialStatus string
	maxSteps   int

	steps   int
	reached bool     // the server answered at least once (a provider then reports the call's end)
	heard   []string // what was said, for --expect-say
	outcome string
	dialed  []string // parties of the completed dial
	byUs    bool     // the server (not the caller) ended the call

	// fallback is the reason of the first answer that was the server's
	// fallback (carrier.HeaderFallback), and fallbackAt its request; refused
	// is the same for a refused callback (carrier.HeaderRefused).
	fallback, fallbackAt string
	refused, refusedAt   string
}

// run plays the call from the answer URL until it ends.
func (r *runner) run(ctx context.Context, answer request) error {
	for req := &answer; req != nil; {
		verbs, err := r.fetch(ctx, *req)
		if err != nil {
			return err
		}
		if req, err = r.play(ctx, verbs, req.url); err != nil {
			return err
		}
	}
	return nil
}

// fetch requests a document and parses it.
func (r *runner) fetch(ctx context.Context, req request) ([]xml.Verb, error) {
	body, err := r.send(ctx, req)
	if err != nil {
		return nil, err
	}
	verbs, err := xml.Parse(r.call.Provider, body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: answer is not valid %s: %w", req.method, req.url, xmlName(r.call.Provider), err)
	}
	return verbs, nil
}

func xmlName(provider string) string {
	if provider == carrier.Twilio {
		return "TwiML"
	}
	return "Plivo XML"
}

// send makes one signed webhook request, counted against maxSteps, and
// returns the answer's body.
func (r *runner) send(ctx context.Context, req request) ([]byte, error) {
	if r.steps >= r.maxSteps {
		return nil, fmt.Errorf("call did not end after %d steps", r.maxSteps)
	}
	r.steps++
	leg := &r.call
	if req.as != nil {
		leg = req.as
	}
	params := leg.Params()
	leg.Answered = true
	for k, v := range req.extra {
		params[k] = v
	}
	fmt.Fprintf(r.out, "> %s %s%s\n", req.method, req.url, describe(req.extra))
	body, ctype, err := r.do(ctx, req.method, req.url, params)
	if err != nil {
		return nil, err
	}
	if want := contentType(r.call.Provider); ctype != want {
		fmt.Fprintf(r.out, "  [warning: Content-Type %q, want %s]\n", ctype, want)
	}
	return body, nil
}

// contentType is the media type the server answers provider with.
func contentType(provider string) string {
	ct := xml.ContentTypeTwilio
	if provider == carrier.Plivo {
		ct = xml.ContentTypePlivo
	}
	mediaType, _, _ := mime.ParseMediaType(ct)
	return mediaType
}

// do signs and sends one request; a non-200 answer is an error, as the
// providers treat it (Twilio and Plivo play an error and hang up).
func (r *runner) do(ctx context.Context, method, target string, params url.Values) (body []byte, mediaType string, err error) {
	s, err := r.signer.Sign(method, target, params)
	if err != nil {
		return nil, "", err
	}
	hr, err := s.HTTP(ctx)
	if err != nil {
		return nil, "", err
	}
	hr.Header.Set("User-Agent", "ivr-simulate ("+r.call.Provider+")")
	resp, err := r.client.Do(hr)
	if err != nil {
		return nil, "", fmt.Errorf("%s %s: %w", method, target, err)
	}
	defer resp.Body.Close()
	r.reached = true
	body, err = io.ReadAll(io.LimitReader(resp.Body, maxDocument+1))
	if err != nil {
		return nil, "", fmt.Errorf("%s %s: read answer: %w", method, target, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("%s %s: HTTP %s (a provider plays an application error and hangs up)", method, target, resp.Status)
	}
	if reason := resp.Header.Get(carrier.HeaderFallback); reason != "" {
		fmt.Fprintf(r.out, "  [the server answered with its fallback: %s]\n", shortReason(reason))
		if r.fallback == "" {
			r.fallback, r.fallbackAt = shortReason(reason), method+" "+target
		}
	}
	if reason := resp.Header.Get(carrier.HeaderRefused); reason != "" {
		fmt.Fprintf(r.out, "  [the server refused this request: %s]\n", shortReason(reason))
		if r.refused == "" {
			r.refused, r.refusedAt = shortReason(reason), method+" "+target
		}
	}
	if len(body) > maxDocument {
		return nil, "", fmt.Errorf("%s %s: answer larger than %d bytes", method, target, maxDocument)
	}
	mediaType, _, _ = mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return body, mediaType, nil
}

// describe prints request parameters beyond the call's own, but for the
// generated IDs.
func describe(v url.Values) string {
	keys := make([]string, 0, len(v))
	for k := range v {
		switch k {
		case "DialCallSid", "DialALegUUID", "DialBLegUUID", "RecordingSid", "RecordingID", "RecordingDurationMs":
			continue
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return ""
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(" ")
	for _, k := range keys {
		for _, val := range v[k] {
			if val == "" || strings.ContainsFunc(val, func(c rune) bool { return c == '"' || !unicode.IsGraphic(c) || unicode.IsSpace(c) }) {
				val = strconv.Quote(val)
			}
			fmt.Fprintf(&b, " %s=%s", k, val)
		}
	}
	return b.String()
}

// resolve resolves a URL from a document against the URL of the request
// that fetched it, as the providers do; "" is the document's own URL.
func resolve(docURL, ref string) (string, error) {
	base, err := url.Parse(docURL)
	if err != nil {
		return "", fmt.Errorf("parse %q: %w", docURL, err)
	}
	rel, err := url.Parse(strings.TrimSpace(ref))
	if err != nil {
		return "", fmt.Errorf("URL %q in the answer of %s: %w", ref, docURL, err)
	}
	u := base.ResolveReference(rel)
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("URL %q in the answer of %s is not http(s)", ref, docURL)
	}
	return u.String(), nil
}

// play runs the verbs of one document fetched from docURL, a turn at a
// time (xml.NextTurn). It returns the next request, or nil when the call
// has ended.
func (r *runner) play(ctx context.Context, verbs []xml.Verb, docURL string) (*request, error) {
	for t := xml.NextTurn(verbs); ; t = xml.NextTurn(t.Rest) {
		for _, v := range t.Heard {
			r.hear(v)
		}
		var next *request
		var done bool
		var err error
		switch v := t.Stop.(type) {
		case nil:
			fmt.Fprintln(r.out, "  [end of document: hangup]")
			r.end(outcomeHangup, true)
			return nil, nil
		case xml.Gather:
			next, done, err = r.gather(ctx, v, docURL)
		case xml.Dial:
			next, done, err = r.dial(ctx, v, docURL)
		case xml.Record:
			next, done, err = r.record(ctx, v, docURL)
		case xml.Redirect:
			if v.URL == "" {
				return nil, fmt.Errorf("empty <Redirect> in the answer of %s", docURL)
			}
			req, _ := xml.Next(v)
			return r.next(ctx, docURL, req, nil)
		case xml.Hangup:
			done = r.hangup(v)
		}
		if next != nil || done || err != nil {
			return next, err
		}
	}
}

// next builds the request req (its URL resolved against docURL) and either
// returns it (req.Follow) or sends it now, ignoring the answer, and returns
// nil so the document carries on (Plivo redirect="false").
func (r *runner) next(ctx context.Context, docURL string, req xml.Request, extra url.Values) (*request, error) {
	u, err := resolve(docURL, req.URL)
	if err != nil {
		return nil, err
	}
	out := &request{method: req.Method, url: u, extra: extra}
	if req.Follow {
		return out, nil
	}
	_, err = r.send(ctx, *out)
	return nil, err
}

// gather plays the caller's answer to a gather whose prompts were heard.
// It returns the request the input goes to; done when the caller hung up;
// neither when the document carries on (no input, or nowhere to send it).
func (r *runner) gather(ctx context.Context, v xml.Gather, docURL string) (next *request, done bool, err error) {
	rep, err := r.caller.respond(ctx, v)
	if err != nil {
		return nil, false, err
	}
	if rep.hangup {
		fmt.Fprintf(r.out, "  [caller hangs up: %s]\n", rep.why)
		r.end(outcomeCallerHangup, false)
		return nil, true, nil
	}
	digits, finished := v.Press(rep.keys)
	switch {
	case rep.speech != "" && rep.confidence != "":
		fmt.Fprintf(r.out, "  caller says %q (confidence %s)\n", rep.speech, rep.confidence)
	case rep.speech != "":
		fmt.Fprintf(r.out, "  caller says %q\n", rep.speech)
	case rep.keys != "":
		fmt.Fprintf(r.out, "  caller presses %s\n", rep.keys)
	default:
		fmt.Fprintln(r.out, "  (caller stays silent)")
	}
	if !v.Valid(digits) {
		fmt.Fprintf(r.out, "  [invalid keys %s: treated as no input]\n", digits)
		digits, finished = "", ""
	}
	if digits == "" && rep.speech == "" && !v.OnEmpty {
		return nil, false, nil // no input: the next verb plays
	}
	req, ok := xml.Next(v)
	if !ok {
		fmt.Fprintf(r.out, "  [<%s> has no action: the input goes nowhere]\n", v.Element)
		return nil, false, nil
	}
	next, err = r.next(ctx, docURL, req, r.call.Input(v.Element, digits, finished, rep.speech, rep.confidence))
	return next, false, err
}

// dial plays a transfer with the --dial-status outcome. A completed dial
// without an action URL ends the call when the caller hangs up.
func (r *runner) dial(ctx context.Context, v xml.Dial, docURL string) (next *request, done bool, err error) {
	who := clean(strings.Join(v.Numbers, ", "))
	if who == "" {
		who = "nobody"
	}
	fmt.Fprintf(r.out, "  [transfer to %s]\n", who)
	status := r.dialStatus
	if v.Whisper != "" && status == "completed" {
		accepted, err := r.whisper(ctx, v, docURL)
		if err != nil {
			return nil, false, err
		}
		if !accepted {
			status = "no-answer"
		}
	}
	fmt.Fprintf(r.out, "  [dial %s]\n", status)
	completed := status == "completed"
	if completed {
		r.outcome, r.dialed = outcomeTransfer, v.Numbers
	}
	if req, ok := xml.Next(v); ok {
		next, err = r.next(ctx, docURL, req, r.call.DialResult(status))
		return next, false, err
	}
	if completed {
		// The conversation is over when the caller hangs up.
		r.end(outcomeCallerHangup, false)
		return nil, true, nil
	}
	return nil, false, nil
}

// SimulatedTranscript is the text of a simulated voicemail's transcript.
const SimulatedTranscript = "This is a simulated voicemail from ivr simulate."

// record takes a voicemail and posts it to the record's action URL, and its
// transcript to the transcription URL when the record asks for one.
func (r *runner) record(ctx context.Context, v xml.Record, docURL string) (next *request, done bool, err error) {
	fmt.Fprintln(r.out, "  [records voicemail]")
	r.outcome = outcomeVoicemail
	if v.Transcription != "" {
		// The provider posts the transcript later; here, at once.
		fmt.Fprintln(r.out, "  [the provider sends its transcript]")
		if _, err := r.next(ctx, docURL, xml.Request{URL: v.Transcription, Method: "POST"}, r.call.Transcript(SimulatedTranscript)); err != nil {
			return nil, false, err
		}
	}
	req, ok := xml.Next(v)
	if !ok {
		return nil, false, nil
	}
	next, err = r.next(ctx, docURL, req, r.call.Recording(finishKey(v.FinishOnKey)))
	return next, false, err
}

// hangup ends the call, unless the hang-up is scheduled for later.
func (r *runner) hangup(v xml.Hangup) (done bool) {
	if v.Schedule > 0 {
		fmt.Fprintf(r.out, "  [hangup scheduled in %ds]\n", v.Schedule)
		return false
	}
	if v.Reason != "" {
		fmt.Fprintf(r.out, "  [hangup: %s]\n", clean(v.Reason))
	} else {
		fmt.Fprintln(r.out, "  [hangup]")
	}
	r.end(outcomeHangup, true)
	return true
}

// hear prints what the caller hears (or, for unknown elements, what was skipped).
func (r *runner) hear(v xml.Verb) {
	switch v := v.(type) {
	case xml.Say:
		r.heard = append(r.heard, v.Text)
		fmt.Fprintf(r.out, "  %s%s\n", clean(v.Text), loops(v.Loop))
	case xml.Play:
		fmt.Fprintf(r.out, "  [plays %s]%s\n", clean(v.URL), loops(v.Loop))
	case xml.Pause:
		fmt.Fprintf(r.out, "  [pause %ds]\n", v.Seconds)
	case xml.DTMF:
		fmt.Fprintf(r.out, "  [sends keys %s]\n", clean(v.Digits))
	case xml.Unknown:
		fmt.Fprintf(r.out, "  [unknown <%s>]\n", clean(v.Name))
	default:
		fmt.Fprintf(r.out, "  [unknown %T]\n", v)
	}
}

// clean keeps text from the network from driving the terminal: control
// characters (C0, C1, DEL) become "?".
func clean(s string) string {
	return strings.Map(func(c rune) rune {
		if unicode.IsControl(c) {
			return '?'
		}
		return c
	}, s)
}

func loops(n int) string {
	switch n {
	case 0:
		return " (loops until input)"
	case 1:
		return ""
	}
	return fmt.Sprintf(" (x%d)", n)
}

// end records how the call ended; a transfer or voicemail already seen wins.
func (r *runner) end(how string, byServer bool) {
	r.byUs = byServer
	if r.outcome == "" {
		r.outcome = how
	}
}

// statusCallback sends the provider's end-of-call callback to target ("" =
// derived from the answer URL).
func (r *runner) statusCallback(ctx context.Context, answerURL, target string, seconds int) error {
	path, params := r.call.Hangup(seconds, r.byUs)
	if target == "" {
		target = callbackURL(answerURL, r.call.Provider, path)
	}
	shown := url.Values{}
	for _, k := range []string{"CallStatus", "CallDuration", "Duration", "HangupCause"} {
		if v, ok := params[k]; ok {
			shown[k] = v
		}
	}
	fmt.Fprintf(r.out, "> POST %s%s\n", target, describe(shown))
	if _, _, err := r.do(ctx, "POST", target, params); err != nil {
		return fmt.Errorf("status callback: %w", err)
	}
	return nil
}

// callbackURL is the status/hangup URL next to the answer URL: its
// "/{provider}/voice" suffix replaced by path, else path on the same host.
func callbackURL(answerURL, provider, path string) string {
	u, err := url.Parse(answerURL)
	if err != nil {
		return answerURL
	}
	u.RawQuery, u.Fragment, u.RawPath = "", "", ""
	if prefix, ok := strings.CutSuffix(strings.TrimRight(u.Path, "/"), "/"+provider+"/voice"); ok {
		u.Path = prefix + path
	} else {
		u.Path = path
	}
	return u.String()
}
