package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/ivr-project/ivr/internal/auth"
	"github.com/ivr-project/ivr/internal/xml"
)

// "Try it": the admin plays a call through the real webhook handlers, in
// process. Each step is a request built exactly as the provider would send
// it (form body, call id, From, To, Digits/SpeechResult...), signed with
// Deps.TryToken, and served by the whole application router, middleware and
// all. The XML answer goes back to the page with a neutral reading of it:
// what the caller hears, what input is awaited and where the call goes next.

// tryRequest is POST /admin/api/try's body.
type tryRequest struct {
	Provider     string `json:"provider"`      // "twilio" | "plivo"
	CallID       string `json:"call_id"`       // "" = a new call (the server makes an id)
	From         string `json:"from"`          // caller
	To           string `json:"to"`            // our number
	URL          string `json:"url"`           // "" = the answer URL; else a URL from the last answer
	Digits       string `json:"digits"`        // keys pressed
	Speech       string `json:"speech"`        // what the caller said
	DialStatus   string `json:"dial_status"`   // the transfer's outcome, on a dial action URL
	RecordingURL string `json:"recording_url"` // the recording, on a record action URL
	// Hangup sends the provider's end-of-call callback (Twilio status,
	// Plivo hangup) with status completed instead of a voice request.
	Hangup   bool `json:"hangup"`
	Duration int  `json:"duration"` // seconds, with Hangup
}

// tryResponse is what the page shows of one step.
type tryResponse struct {
	Provider    string         `json:"provider"`
	CallID      string         `json:"call_id"`
	Request     tryRequestView `json:"request"`
	Status      int            `json:"status"`
	ContentType string         `json:"content_type"`
	XML         string         `json:"xml"`
	Steps       []xmlStep      `json:"steps"`
	Prompts     []tryPrompt    `json:"prompts"`
	Gather      *tryGather     `json:"gather"` // the call waits for keys/speech
	Next        *tryNext       `json:"next"`   // where the call goes without input
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

// tryPrompt is one thing the caller hears.
type tryPrompt struct {
	Kind     string `json:"kind"` // say, play, pause
	Text     string `json:"text"`
	Language string `json:"language,omitempty"`
	URL      string `json:"url,omitempty"`
}

type tryGather struct {
	Action    string `json:"action"`
	Keys      bool   `json:"keys"`
	Speech    bool   `json:"speech"`
	NumDigits int    `json:"num_digits"`
	FinishKey string `json:"finish_key"`
	Language  string `json:"language,omitempty"`
}

type tryNext struct {
	URL string `json:"url"`
	Why string `json:"why"` // "redirect" (follow now) | "timeout" (if the caller stays silent)
}

type tryEnd struct {
	Kind    string   `json:"kind"` // transfer, voicemail, hangup, end
	Numbers []string `json:"numbers,omitempty"`
	After   string   `json:"after,omitempty"` // the action URL the provider calls when the dial/recording ends
	Text    string   `json:"text"`
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
	Children  []xmlStep `json:"children,omitempty"`
}

// handleTryPage serves GET /admin/try: the keypad.
func handleTryPage(a *admin) http.Handler {
	tmpl := a.page("try.html")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		twilio, plivo := a.providers["twilio"] != nil, a.providers["plivo"] != nil
		a.render(w, r, tmpl, "try", struct{ Enabled, Twilio, Plivo bool }{twilio || plivo, twilio, plivo})
	})
}

// handleTry serves POST /admin/api/try: one step of a call, through the
// application's own router (the chi mux serving this very request).
func handleTry(a *admin) http.Handler {
	cfg := a.d.Config
	urls := auth.URLResolver{PublicBase: cfg.PublicURL, TrustProxy: cfg.TrustProxy}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var tr tryRequest
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&tr); err != nil {
			writeJSONError(w, http.StatusBadRequest, "try: bad JSON body: "+err.Error())
			return
		}
		p := a.providers[tr.Provider]
		if p == nil {
			writeJSONError(w, http.StatusBadRequest, `try: provider must be "twilio" or "plivo", and enabled in IVR_PROVIDERS`)
			return
		}
		target, err := tryTarget(tr.Provider, tr.URL)
		if err != nil {
			writeJSONError(w, http.StatusBadRequest, err.Error())
			return
		}
		if tr.Hangup {
			target = p.statusPath
		}
		var root http.Handler
		if rc := chi.RouteContext(r.Context()); rc != nil {
			root, _ = rc.Routes.(http.Handler)
		}
		if root == nil {
			writeJSONError(w, http.StatusInternalServerError, "try: no application router")
			return
		}
		if tr.CallID == "" {
			tr.CallID = newTryCallID(tr.Provider)
		}
		if tr.From == "" {
			tr.From = "+15551230000"
		}
		if tr.To == "" {
			tr.To = "+15559870000"
		}
		params := url.Values{}
		params.Set(p.callID, tr.CallID)
		params.Set("From", tr.From)
		params.Set("To", tr.To)
		params.Set("Direction", "inbound")
		params.Set("CallStatus", "in-progress")
		for name, v := range map[string]string{p.digits: tr.Digits, p.speech: tr.Speech, p.dialStatus[0]: tr.DialStatus, p.recordingURL: tr.RecordingURL} {
			if v != "" {
				params.Set(name, v)
			}
		}
		if tr.Hangup {
			params.Set("CallStatus", "completed")
			params.Set(p.duration, strconv.Itoa(max(tr.Duration, 0)))
			if tr.Provider == "plivo" {
				params.Set("HangupCause", "NORMAL_CLEARING")
			}
		}
		if tr.Speech != "" && tr.Provider == "twilio" {
			params.Set("Confidence", "0.9")
		}

		// A fresh context without this request's routing state, so the
		// router serves the inner request from its root.
		ctx, cancel := context.WithTimeout(context.WithValue(r.Context(), chi.RouteCtxKey, nil), 10*time.Second)
		defer cancel()
		inner, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(params.Encode()))
		if err != nil {
			writeJSONError(w, http.StatusBadRequest, "try: "+err.Error())
			return
		}
		inner.RequestURI = target
		inner.Host = r.Host
		inner.TLS = r.TLS
		inner.RemoteAddr = "127.0.0.1:0" // in process
		inner.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		inner.Header.Set("User-Agent", "ivr-admin-try/1")
		if cfg.TrustProxy {
			for _, h := range []string{"X-Forwarded-Proto", "X-Forwarded-Host"} {
				if v := r.Header.Get(h); v != "" {
					inner.Header.Set(h, v)
				}
			}
		}
		switch tr.Provider {
		case "twilio":
			if cfg.TwilioBasicUser != "" {
				inner.SetBasicAuth(cfg.TwilioBasicUser, cfg.TwilioBasicPass)
			}
		case "plivo":
			if cfg.PlivoBasicUser != "" {
				inner.SetBasicAuth(cfg.PlivoBasicUser, cfg.PlivoBasicPass)
			}
		}
		signedURL := urls.Resolve(inner)
		view := tryRequestView{Method: http.MethodPost, URL: signedURL, Params: map[string]string{}}
		for k := range params {
			view.Params[k] = params.Get(k)
		}
		if tr.Provider == "twilio" {
			inner.Header.Set("X-Twilio-Signature", auth.SignTwilio(a.tokens.twilio, signedURL, params))
			view.Signed = "X-Twilio-Signature"
		} else {
			nonce := randomDigits(20)
			inner.Header.Set("X-Plivo-Signature-V3", auth.SignPlivoV3(a.tokens.plivo, signedURL, nonce, http.MethodPost, params))
			inner.Header.Set("X-Plivo-Signature-V3-Nonce", nonce)
			view.Signed = "X-Plivo-Signature-V3"
		}

		rec := httptest.NewRecorder()
		root.ServeHTTP(rec, inner)
		body, _ := io.ReadAll(io.LimitReader(rec.Body, 1<<20))

		res := tryResponse{
			Provider: tr.Provider, CallID: tr.CallID, Request: view,
			Status: rec.Code, ContentType: rec.Header().Get("Content-Type"), XML: string(body),
		}
		res.Fallback = len(p.fallback) > 0 && bytes.Equal(bytes.TrimSpace(body), bytes.TrimSpace(p.fallback))
		if rec.Code != http.StatusOK {
			res.Error = fmt.Sprintf("the webhook answered HTTP %d", rec.Code)
		}
		steps, err := trySteps(tr.Provider, body)
		if err != nil {
			if res.Error == "" {
				res.Error = err.Error()
			}
		} else {
			res.Steps = steps
			res.Prompts, res.Gather, res.Next, res.End = readSteps(steps)
		}
		if res.Fallback {
			res.Error = "the server answered with its fallback (apology + call center): see the server log for the reason"
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(res)
	})
}

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(struct {
		Error string `json:"error"`
	}{msg})
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

func newTryCallID(provider string) string {
	b := make([]byte, 16)
	rand.Read(b)
	if provider == "twilio" {
		return "CA" + hex.EncodeToString(b)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func randomDigits(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	return string(b)
}

// trySteps reads the webhook's answer with the provider's XML reader (the
// simulator's: internal/xml) into the page's neutral steps.
func trySteps(provider string, body []byte) ([]xmlStep, error) {
	verbs, err := xml.Parse(provider, body)
	if err != nil {
		return nil, fmt.Errorf("read the answer: %w", err)
	}
	return stepsOf(provider, verbs), nil
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
	plivo := provider == xml.ProviderPlivo
	switch v := v.(type) {
	case xml.Say:
		return xmlStep{Verb: elementName(plivo, "Speak", "Say"), Kind: "say", Text: v.Text, Language: v.Language}
	case xml.Play:
		return xmlStep{Verb: "Play", Kind: "play", URL: v.URL}
	case xml.Pause:
		return xmlStep{Verb: elementName(plivo, "Wait", "Pause"), Kind: "pause", Seconds: v.Seconds}
	case xml.DTMF:
		return xmlStep{Verb: elementName(plivo, "DTMF", "Play"), Kind: "other", Text: v.Digits}
	case xml.Gather:
		s := xmlStep{Verb: v.Element, Kind: "gather", Action: v.Action, Keys: v.DTMF, Speech: v.Speech,
			Language: v.Language, Children: stepsOf(provider, v.Prompts)}
		if v.NumDigitsSet {
			s.NumDigits = v.NumDigits
		}
		if v.FinishOnKeySet {
			s.FinishKey = v.FinishOnKey
		}
		return s
	case xml.Dial:
		return xmlStep{Verb: "Dial", Kind: "dial", Numbers: v.Numbers, Action: v.Action}
	case xml.Record:
		return xmlStep{Verb: "Record", Kind: "record", Action: v.Action}
	case xml.Redirect:
		return xmlStep{Verb: "Redirect", Kind: "redirect", URL: v.URL}
	case xml.Hangup:
		return xmlStep{Verb: elementName(v.Reject, "Reject", "Hangup"), Kind: "hangup"}
	case xml.Unknown:
		if v.Name == "Message" {
			return xmlStep{Verb: v.Name, Kind: "message", Text: v.Text}
		}
		return xmlStep{Verb: v.Name, Kind: "other", Text: v.Text}
	}
	return xmlStep{Verb: fmt.Sprintf("%T", v), Kind: "other"}
}

func elementName(cond bool, yes, no string) string {
	if cond {
		return yes
	}
	return no
}

// readSteps plays the document as a phone would: prompts until the first
// verb that waits for the caller or leaves the document.
func readSteps(steps []xmlStep) (prompts []tryPrompt, gather *tryGather, next *tryNext, end *tryEnd) {
	for i, s := range steps {
		switch s.Kind {
		case "say", "play", "pause":
			prompts = append(prompts, promptOf(s))
		case "gather":
			for _, c := range s.Children {
				if c.Kind == "say" || c.Kind == "play" || c.Kind == "pause" {
					prompts = append(prompts, promptOf(c))
				}
			}
			gather = &tryGather{Action: s.Action, Keys: s.Keys, Speech: s.Speech, NumDigits: s.NumDigits, FinishKey: s.FinishKey, Language: s.Language}
			for _, after := range steps[i+1:] {
				if after.Kind == "redirect" {
					return prompts, gather, &tryNext{URL: after.URL, Why: "timeout"}, nil
				}
			}
			return prompts, gather, nil, nil
		case "redirect":
			return prompts, nil, &tryNext{URL: s.URL, Why: "redirect"}, nil
		case "dial":
			return prompts, nil, nil, &tryEnd{Kind: "transfer", Numbers: s.Numbers, After: s.Action,
				Text: "Transferred to " + strings.Join(s.Numbers, ", ")}
		case "record":
			return prompts, nil, nil, &tryEnd{Kind: "voicemail", After: s.Action, Text: "Voicemail: the caller leaves a message"}
		case "hangup":
			return prompts, nil, nil, &tryEnd{Kind: "hangup", Text: "The call was hung up"}
		}
	}
	return prompts, nil, nil, &tryEnd{Kind: "end", Text: "The document ended: the call is over"}
}

func promptOf(s xmlStep) tryPrompt {
	switch s.Kind {
	case "play":
		return tryPrompt{Kind: "play", Text: "[audio " + s.URL + "]", URL: s.URL}
	case "pause":
		return tryPrompt{Kind: "pause", Text: fmt.Sprintf("[pause %d s]", s.Seconds)}
	}
	return tryPrompt{Kind: "say", Text: s.Text, Language: s.Language}
}
