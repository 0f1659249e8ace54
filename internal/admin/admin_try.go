package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/ivr-project/ivr/internal/auth"
	"github.com/ivr-project/ivr/internal/carrier"
	"github.com/ivr-project/ivr/internal/config"
	"github.com/ivr-project/ivr/internal/voice"
	"github.com/ivr-project/ivr/internal/xml"
)

// "Try it": the admin plays a call through the real webhook handlers, in
// process. Each step is a request built exactly as the provider would send
// it (form body, call id, From, To, Digits/SpeechResult...), signed with
// Deps.Tokens, and served by Deps.Voice (the provider routes, middleware
// and all). The XML answer goes back to the page with a neutral reading of it:
// what the caller hears, what input is awaited and where the call goes next.

// TryRequest is POST /admin/api/try's body.
type TryRequest struct {
	Provider string `json:"provider"` // "twilio" | "plivo"
	CallID   string `json:"call_id"`  // "" = a new call (the server makes an id)
	From     string `json:"from"`     // caller
	To       string `json:"to"`       // our number
	URL      string `json:"url"`      // "" = the answer URL; else a URL from the last answer
	Digits   string `json:"digits"`   // keys pressed
	Speech   string `json:"speech"`   // what the caller said
	// Confidence is the recognizer's confidence in Speech the provider
	// reports (Twilio Confidence, Plivo SpeechConfidenceScore), 0 to 1;
	// nil = 0.9.
	Confidence   *float64 `json:"confidence,omitempty"`
	DialStatus   string   `json:"dial_status"`   // the transfer's outcome, on a dial action URL
	RecordingURL string   `json:"recording_url"` // the recording, on a record action URL
	// Hangup sends the provider's end-of-call callback (Twilio status,
	// Plivo hangup) with status completed instead of a voice request.
	Hangup   bool `json:"hangup"`
	Duration int  `json:"duration"` // seconds, with Hangup
	// Draft, when set, is a flow's text to play instead of the live flow
	// (the editor's "Try the draft"); such calls are not recorded.
	Draft string `json:"draft,omitempty"`
}

// TryResponse is what the page shows of one step.
type TryResponse struct {
	Provider    string         `json:"provider"`
	CallID      string         `json:"call_id"`
	Request     tryRequestView `json:"request"`
	Status      int            `json:"status"`
	ContentType string         `json:"content_type"`
	XML         string         `json:"xml"`
	Steps       []xmlStep      `json:"steps"`
	Prompts     []TryPrompt    `json:"prompts"`
	Gather      *TryGather     `json:"gather"` // the call waits for keys/speech
	Next        *TryNext       `json:"next"`   // where the call goes without input
	End         *tryEnd        `json:"end"`    // the call ends here (transfer, voicemail, hangup)
	Fallback    bool           `json:"fallback"`
	Error       string         `json:"error,omitempty"`
}

type tryRequestView struct {
	Method string            `json:"method"`
	URL    string            `json:"url"`
	Params map[string]string `json:"params"`
	Signed string            `json:"signed"` // which signature header was added
}

// TryPrompt is one thing the caller hears.
type TryPrompt struct {
	Kind     string `json:"kind"` // say, play, pause
	Text     string `json:"text"`
	Language string `json:"language,omitempty"`
	URL      string `json:"url,omitempty"`
}

type TryGather struct {
	Action    string `json:"action"`
	Keys      bool   `json:"keys"`
	Speech    bool   `json:"speech"`
	NumDigits int    `json:"num_digits"`
	FinishKey string `json:"finish_key"`
	Language  string `json:"language,omitempty"`
}

type TryNext struct {
	URL string `json:"url"`
	Why string `json:"why"` // "redirect" (follow now) | "timeout" (if the caller stays silent)
}

type tryEnd struct {
	Kind    string   `json:"kind"` // transfer, voicemail, hangup, end
	Numbers []string `json:"numbers,omitempty"`
	After   string   `json:"after,omitempty"` // the action URL the provider calls when the dial/recording ends
	Text    string   `json:"text"`
	// Whisper is the URL the answering agent's leg requests before the
	// caller is connected, AcceptKey the key Plivo's confirmKey waits for
	// (the page plays the agent's side with them).
	Whisper   string `json:"whisper,omitempty"`
	AcceptKey string `json:"accept_key,omitempty"`
}

// xmlStep is the neutral reading of one TwiML / Plivo XML element.
type xmlStep struct {
	Verb      string    `json:"verb"` // the element's own name
	Kind      string    `json:"kind"` // say, play, pause, gather, dial, record, redirect, hangup, message, other
	Text      string    `json:"text,omitempty"`
	Language  string    `json:"language,omitempty"`
	URL       string    `json:"url,omitempty"`
	Seconds   int       `json:"seconds,omitempty"`
	Numbers   []string  `json:"numbers,omitempty"`
	Action    string    `json:"action,omitempty"`
	Keys      bool      `json:"keys,omitempty"`
	Speech    bool      `json:"speech,omitempty"`
	NumDigits int       `json:"num_digits,omitempty"`
	FinishKey string    `json:"finish_key,omitempty"`
	Whisper   string    `json:"whisper,omitempty"`    // dial: the agent's whisper URL
	AcceptKey string    `json:"accept_key,omitempty"` // dial: Plivo's confirmKey
	Children  []xmlStep `json:"children,omitempty"`
}

// HandleTryPage serves GET /admin/try: the keypad.
func HandleTryPage(a *Admin) http.Handler {
	tmpl := a.page("try.html")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		twilio, plivo := a.providers["twilio"] != nil, a.providers["plivo"] != nil
		a.render(w, r, tmpl, "try", struct{ Enabled, Twilio, Plivo bool }{twilio || plivo, twilio, plivo})
	})
}

// HandleTry serves POST /admin/api/try: one step of a call, through the
// provider routes' handler passed in Deps.Voice.
func HandleTry(a *Admin) http.Handler {
	cfg := a.d.Config
	urls := auth.URLResolver{PublicBase: cfg.PublicURL, TrustProxy: cfg.TrustProxy, Live: a.d.LivePublicURL}
	signers := map[string]carrier.Signer{
		carrier.Twilio: {Provider: carrier.Twilio, Token: a.tokens.Twilio},
		carrier.Plivo:  {Provider: carrier.Plivo, Token: a.tokens.Plivo},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tr, p, target, err := decodeTry(w, r, a.providers)
		if err != nil {
			apiFail(w, failure(kindBadRequest, err.Error()))
			return
		}
		voiceRoutes := a.d.Voice
		if voiceRoutes == nil {
			apiFail(w, failure(kindInternal, "try: no handler for the provider routes"))
			return
		}
		params := tryParams(&tr)
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		if tr.Draft != "" {
			var done bool
			if ctx, done = a.tryDraft(ctx, w, tr); done {
				return
			}
		}
		inner, err := innerRequest(ctx, r, cfg, tr.Provider, target, params)
		if err != nil {
			apiFail(w, failure(kindBadRequest, "try: "+err.Error()))
			return
		}
		view, err := signInner(inner, urls.Resolve(inner), signers[tr.Provider], params)
		if err != nil {
			apiFail(w, failure(kindInternal, "try: "+err.Error()))
			return
		}
		ans := &answer{header: http.Header{}}
		voiceRoutes.ServeHTTP(ans, inner)
		res := readAnswer(tr, p, view, ans)
		writeJSONLine(w, http.StatusOK, res)
	})
}

// decodeTry reads and checks the page's request: the provider, and the
// path and query it is sent to (the provider's end-of-call callback for a
// hang-up).
func decodeTry(w http.ResponseWriter, r *http.Request, providers map[string]*voice.Provider) (TryRequest, *voice.Provider, string, error) {
	var tr TryRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFlowBody)) // a draft flow may ride along
	dec.DisallowUnknownFields()
	if err := dec.Decode(&tr); err != nil {
		return tr, nil, "", errors.New("try: bad JSON body: " + err.Error())
	}
	p := providers[tr.Provider]
	if p == nil {
		return tr, nil, "", errors.New(`try: provider must be "twilio" or "plivo", and enabled in IVR_PROVIDERS`)
	}
	if c := tr.Confidence; c != nil && !(*c >= 0 && *c <= 1) {
		return tr, nil, "", errors.New("try: confidence is the recognizer's confidence in the speech, from 0 to 1")
	}
	target, err := tryTarget(tr.Provider, tr.URL)
	if err != nil {
		return tr, nil, "", err
	}
	if tr.Hangup {
		target = p.StatusPath
	}
	return tr, p, target, nil
}

// tryParams fills the call's defaults into tr (a new call id, made-up
// numbers) and returns the parameters the provider would send for this step.
func tryParams(tr *TryRequest) url.Values {
	if tr.CallID == "" {
		tr.CallID = carrier.NewCallID(tr.Provider)
	}
	if tr.From == "" {
		tr.From = "+15551230000"
	}
	if tr.To == "" {
		tr.To = "+15559870000"
	}
	c := carrier.Call{Provider: tr.Provider, ID: tr.CallID, From: tr.From, To: tr.To, Answered: true}
	if tr.Hangup {
		_, params := c.Hangup(max(tr.Duration, 0), false)
		return params
	}
	params := c.Params()
	n := c.Names()
	for name, v := range map[string]string{n.Digits: tr.Digits, n.Speech: tr.Speech, n.DialStatus[0]: tr.DialStatus, n.RecordingURL: tr.RecordingURL} {
		if v != "" {
			params.Set(name, v)
		}
	}
	if tr.Speech != "" {
		conf := "0.9"
		if tr.Confidence != nil {
			conf = strconv.FormatFloat(*tr.Confidence, 'f', -1, 64)
		}
		params.Set(n.Confidence, conf)
	}
	return params
}

// innerRequest is the webhook request for target as it reaches the router
// from the provider: through the same host, scheme and (when trusted)
// forwarding headers as the page's request, with the provider's basic auth.
func innerRequest(ctx context.Context, outer *http.Request, cfg config.Config, provider, target string, params url.Values) (*http.Request, error) {
	inner, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(params.Encode()))
	if err != nil {
		return nil, err
	}
	inner.RequestURI = target
	inner.Host = outer.Host
	inner.TLS = outer.TLS
	inner.RemoteAddr = "127.0.0.1:0" // in process
	inner.Header.Set("Content-Type", carrier.FormType)
	inner.Header.Set("User-Agent", "ivr-admin-try/1")
	if cfg.TrustProxy {
		for _, h := range []string{"X-Forwarded-Proto", "X-Forwarded-Host"} {
			if v := outer.Header.Get(h); v != "" {
				inner.Header.Set(h, v)
			}
		}
	}
	user, pass := cfg.TwilioBasicUser, cfg.TwilioBasicPass
	if provider == carrier.Plivo {
		user, pass = cfg.PlivoBasicUser, cfg.PlivoBasicPass
	}
	if user != "" {
		inner.SetBasicAuth(user, pass)
	}
	return inner, nil
}

// signInner signs inner for signedURL (the URL the server will rebuild)
// as the provider would, and returns what the page shows of the request.
func signInner(inner *http.Request, signedURL string, s carrier.Signer, params url.Values) (tryRequestView, error) {
	signed, err := s.Sign(http.MethodPost, signedURL, params)
	if err != nil {
		return tryRequestView{}, err
	}
	view := tryRequestView{Method: http.MethodPost, URL: signedURL, Params: map[string]string{}, Signed: signed.Headers[0].Name}
	for k := range params {
		view.Params[k] = params.Get(k)
	}
	for _, h := range signed.Headers {
		inner.Header.Set(h.Name, h.Value)
	}
	return view, nil
}

// maxAnswer caps the answer kept from the inner request.
const maxAnswer = 1 << 20

// answer is the http.ResponseWriter the inner request is served to: it
// keeps the status, the headers and the first maxAnswer bytes of the body.
type answer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (a *answer) Header() http.Header { return a.header }

func (a *answer) WriteHeader(status int) {
	if a.status == 0 {
		a.status = status
	}
}

func (a *answer) Write(p []byte) (int, error) {
	a.WriteHeader(http.StatusOK)
	if room := maxAnswer - a.body.Len(); room > 0 {
		a.body.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// Flush is a no-op: the answer is read whole once the handler returns.
func (a *answer) Flush() {}

func (a *answer) code() int {
	if a.status == 0 {
		return http.StatusOK
	}
	return a.status
}

// readAnswer is what the page shows of the webhook's answer: its XML read
// as a phone would play it, and whether it was the fallback.
func readAnswer(tr TryRequest, p *voice.Provider, view tryRequestView, ans *answer) TryResponse {
	body := ans.body.Bytes()
	res := TryResponse{
		Provider: tr.Provider, CallID: tr.CallID, Request: view,
		Status: ans.code(), ContentType: ans.header.Get("Content-Type"), XML: string(body),
	}
	reason := ans.header.Get(carrier.HeaderFallback)
	res.Fallback = reason != "" || (len(p.Fallback()) > 0 && bytes.Equal(bytes.TrimSpace(body), bytes.TrimSpace(p.Fallback())))
	if res.Status != http.StatusOK {
		res.Error = fmt.Sprintf("the webhook answered HTTP %d", res.Status)
	}
	verbs, err := readDocument(tr.Provider, body)
	if err != nil {
		if res.Error == "" {
			res.Error = err.Error()
		}
	} else {
		res.Steps = stepsOf(tr.Provider, verbs)
		res.Prompts, res.Gather, res.Next, res.End = readTurn(verbs)
	}
	if res.Fallback {
		res.Error = "the server answered with its fallback (apology + call center): see the server log for the reason"
		if reason != "" {
			res.Error = "the server answered with its fallback (apology + call center), reason " + reason + ": see the server log for details"
		}
	}
	return res
}

// tryTarget turns the page's URL (absolute, as the XML named it, or "" for
// the answer URL) into a path and query under /{provider}/voice.
func tryTarget(provider, raw string) (string, error) {
	prefix := "/" + provider + "/voice"
	if raw == "" {
		return prefix, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("try: url %q: %w", raw, err)
	}
	p := u.Path
	// A public path prefix (IVR_PUBLIC_URL=https://host/ivr) comes before ours.
	if i := strings.Index(p, prefix); i > 0 {
		p = p[i:]
	}
	clean := path.Clean(p)
	if strings.HasSuffix(p, "/") {
		clean += "/"
	}
	if clean != p || (p != prefix && !strings.HasPrefix(p, prefix+"/")) {
		return "", fmt.Errorf("try: url %q is not under %s/", raw, prefix)
	}
	if u.RawQuery != "" {
		p += "?" + u.RawQuery
	}
	return p, nil
}

// readDocument reads the webhook's answer with the provider's XML reader
// (the simulator's: internal/xml).
func readDocument(provider string, body []byte) ([]xml.Verb, error) {
	verbs, err := xml.Parse(provider, body)
	if err != nil {
		return nil, fmt.Errorf("read the answer: %w", err)
	}
	return verbs, nil
}

func stepsOf(provider string, verbs []xml.Verb) []xmlStep {
	var out []xmlStep
	for _, v := range verbs {
		out = append(out, stepOf(provider, v))
	}
	return out
}

// stepOf is one verb as the page shows it. A gather's finish keys and digit
// count are shown as the document wrote them (left out: none), not with the
// provider's defaults.
func stepOf(provider string, v xml.Verb) xmlStep {
	name := xml.ElementName(provider, v)
	switch v := v.(type) {
	case xml.Say:
		return xmlStep{Verb: name, Kind: "say", Text: v.Text, Language: v.Language}
	case xml.Play:
		return xmlStep{Verb: name, Kind: "play", URL: v.URL}
	case xml.Pause:
		return xmlStep{Verb: name, Kind: "pause", Seconds: v.Seconds}
	case xml.DTMF:
		return xmlStep{Verb: name, Kind: "other", Text: v.Digits}
	case xml.Gather:
		s := xmlStep{Verb: name, Kind: "gather", Action: v.Action, Keys: v.DTMF, Speech: v.Speech,
			Language: v.Language, Children: stepsOf(provider, v.Prompts)}
		if v.NumDigitsSet {
			s.NumDigits = v.NumDigits
		}
		if v.FinishOnKeySet {
			s.FinishKey = v.FinishOnKey
		}
		return s
	case xml.Dial:
		return xmlStep{Verb: name, Kind: "dial", Numbers: v.Numbers, Action: v.Action, Whisper: v.Whisper, AcceptKey: v.AcceptKey}
	case xml.Record:
		return xmlStep{Verb: name, Kind: "record", Action: v.Action}
	case xml.Redirect:
		return xmlStep{Verb: name, Kind: "redirect", URL: v.URL}
	case xml.Hangup:
		return xmlStep{Verb: name, Kind: "hangup"}
	case xml.Unknown:
		if v.Name == "Message" {
			return xmlStep{Verb: name, Kind: "message", Text: v.Text}
		}
		return xmlStep{Verb: name, Kind: "other", Text: v.Text}
	}
	return xmlStep{Verb: name, Kind: "other"}
}

// readTurn is what the page shows of the document's first turn
// (xml.NextTurn): the prompts until the first verb that waits for the
// caller or leaves the document, and that verb. A gather's finish keys and
// digit count are shown as the document wrote them (left out: none).
func readTurn(verbs []xml.Verb) (prompts []TryPrompt, gather *TryGather, next *TryNext, end *tryEnd) {
	t := xml.NextTurn(verbs)
	for _, v := range t.Heard {
		if p, ok := promptOf(v); ok {
			prompts = append(prompts, p)
		}
	}
	switch s := t.Stop.(type) {
	case xml.Gather:
		gather = &TryGather{Action: s.Action, Keys: s.DTMF, Speech: s.Speech, Language: s.Language}
		if s.NumDigitsSet {
			gather.NumDigits = s.NumDigits
		}
		if s.FinishOnKeySet {
			gather.FinishKey = s.FinishOnKey
		}
		if req, ok := t.Silence(); ok {
			next = &TryNext{URL: req.URL, Why: "timeout"}
		}
	case xml.Redirect:
		next = &TryNext{URL: s.URL, Why: "redirect"}
	case xml.Dial:
		end = &tryEnd{Kind: "transfer", Numbers: s.Numbers, After: s.Action,
			Text: "Transferred to " + strings.Join(s.Numbers, ", "), Whisper: s.Whisper, AcceptKey: s.AcceptKey}
	case xml.Record:
		end = &tryEnd{Kind: "voicemail", After: s.Action, Text: "Voicemail: the caller leaves a message"}
	case xml.Hangup:
		end = &tryEnd{Kind: "hangup", Text: "The call was hung up"}
	default:
		end = &tryEnd{Kind: "end", Text: "The document ended: the call is over"}
	}
	return prompts, gather, next, end
}

// promptOf is what the page shows of a prompt the caller hears; false for
// what it does not show (keys sent, unknown elements).
func promptOf(v xml.Verb) (TryPrompt, bool) {
	switch v := v.(type) {
	case xml.Say:
		return TryPrompt{Kind: "say", Text: v.Text, Language: v.Language}, true
	case xml.Play:
		return TryPrompt{Kind: "play", Text: "[audio " + v.URL + "]", URL: v.URL}, true
	case xml.Pause:
		return TryPrompt{Kind: "pause", Text: fmt.Sprintf("[pause %d s]", v.Seconds)}, true
	}
	return TryPrompt{}, false
}
