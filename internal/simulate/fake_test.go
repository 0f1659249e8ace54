package simulate

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/ivr-project/ivr/internal/auth"
)

const (
	testTwilioToken = "twilio-test-token"
	testPlivoToken  = "plivo-test-token"
)

func testEnv(extra ...string) func(string) string {
	env := map[string]string{
		"TWILIO_AUTH_TOKEN": testTwilioToken,
		"PLIVO_AUTH_TOKEN":  testPlivoToken,
	}
	for i := 0; i+1 < len(extra); i += 2 {
		env[extra[i]] = extra[i+1]
	}
	return func(k string) string { return env[k] }
}

// seen is one request that passed the signature check.
type seen struct {
	Method string
	Path   string
	Query  url.Values
	Params url.Values // verified form body (POST) or query (GET)
}

// String is "METHOD /path?query" plus the interesting parameters.
func (s seen) String() string {
	line := s.Method + " " + s.Path
	if len(s.Query) > 0 {
		line += "?" + s.Query.Encode()
	}
	var keys []string
	for _, k := range []string{"Digits", "SpeechResult", "InputType", "Speech", "DialCallStatus", "DialStatus", "CallStatus", "HangupCause"} {
		if v, ok := s.Params[k]; ok && (k != "CallStatus" || strings.HasSuffix(s.Path, "/status") || strings.HasSuffix(s.Path, "/hangup")) {
			keys = append(keys, k+"="+v[0])
		}
	}
	if _, ok := s.Params["RecordingUrl"]; ok {
		keys = append(keys, "RecordingUrl")
	}
	if _, ok := s.Params["RecordUrl"]; ok {
		keys = append(keys, "RecordUrl")
	}
	for _, k := range []string{"TranscriptionText", "transcription"} {
		if v, ok := s.Params[k]; ok {
			keys = append(keys, k+"="+v[0])
		}
	}
	sort.Strings(keys)
	if len(keys) > 0 {
		line += " " + strings.Join(keys, " ")
	}
	return line
}

// fakeServer serves a canned two-level menu for both providers behind
// internal/auth's middlewares, and records every verified request.
type fakeServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests []seen
	failures []string
}

func newFakeServer(t *testing.T) *fakeServer {
	t.Helper()
	fs := &fakeServer{}
	onFail := func(w http.ResponseWriter, r *http.Request, f *auth.Failure) {
		fs.mu.Lock()
		fs.failures = append(fs.failures, r.Method+" "+r.URL.String()+": "+f.Error())
		fs.mu.Unlock()
		http.Error(w, "forbidden: "+f.Reason, http.StatusForbidden)
	}
	twilio := auth.TwilioMiddleware(auth.TwilioConfig{AuthToken: testTwilioToken}, onFail)
	plivo := auth.PlivoV3Middleware(auth.PlivoConfig{AuthToken: testPlivoToken}, onFail)
	mux := http.NewServeMux()
	mux.Handle("/twilio/", twilio(fs.handler("text/xml", twilioDoc)))
	mux.Handle("/plivo/", plivo(fs.handler("application/xml", plivoDoc)))
	fs.Server = httptest.NewServer(mux)
	t.Cleanup(fs.Close)
	return fs
}

func (fs *fakeServer) handler(ctype string, doc func(path string, q, p url.Values) (string, int)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := auth.Params(r.Context())
		fs.mu.Lock()
		fs.requests = append(fs.requests, seen{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Params: p})
		fs.mu.Unlock()
		body, code := doc(r.URL.Path, r.URL.Query(), p)
		w.Header().Set("Content-Type", ctype)
		w.WriteHeader(code)
		fmt.Fprint(w, body)
	})
}

// lines returns the recorded requests as strings, with the server's own query
// parameters only (a GET's call parameters are left out).
func (fs *fakeServer) lines() []string {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	out := make([]string, len(fs.requests))
	for i, s := range fs.requests {
		if s.Method == "GET" {
			q := url.Values{}
			for k, v := range s.Query {
				if k == "attempt" || k == "menu" {
					q[k] = v
				}
			}
			s.Query = q
		}
		out[i] = s.String()
	}
	return out
}

func (fs *fakeServer) all() []seen {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return append([]seen(nil), fs.requests...)
}

func response(inner string) (string, int) {
	return `<?xml version="1.0" encoding="UTF-8"?>` + "\n<Response>" + inner + "</Response>\n", http.StatusOK
}

// twilioDoc is the canned TwiML app. Its URLs are relative on purpose: they
// resolve against the URL of the request that fetched them.
func twilioDoc(path string, q, p url.Values) (string, int) {
	digits, attempt := p.Get("Digits"), q.Get("attempt")
	switch path {
	case "/twilio/voice":
		return response(`<Gather action="voice/menu/main" numDigits="1"><Say>Welcome to Acme.</Say>` +
			`<Say>Press 1 for billing, 2 for sales, 3 to leave a message.</Say></Gather>` +
			`<Redirect>voice/menu/main?attempt=1</Redirect>`)
	case "/twilio/voice/menu/main":
		switch {
		case digits == "1":
			return response(`<Gather action="billing" numDigits="1" finishOnKey=""><Say>Billing. Press 1 for an agent, # to go back.</Say></Gather>` +
				`<Redirect>billing?attempt=1</Redirect>`)
		case digits == "2":
			return response(`<Say>Connecting you to sales.</Say><Dial action="../action/dial-done?menu=sales" timeout="20"><Number>+15005550006</Number></Dial>`)
		case digits == "3":
			return response(`<Say>Leave a message after the beep.</Say><Record action="/twilio/voice/action/voicemail-done" maxLength="60"/>`)
		case digits == "4":
			return response(`<Record action="../action/voicemail-done" transcribe="true" transcribeCallback="../action/transcription?menu=main"/>`)
		case digits != "":
			return response(`<Say>That is not an option.</Say><Redirect>main</Redirect>`)
		case attempt == "":
			return response(`<Gather action="main" numDigits="1"><Say>Main menu. Press 1 for billing, 2 for sales, 3 to leave a message.</Say></Gather>` +
				`<Redirect>main?attempt=1</Redirect>`)
		case attempt == "1":
			return response(`<Say>Sorry, I did not get that.</Say><Gather action="main?attempt=2" numDigits="1"><Say>Main menu.</Say></Gather>` +
				`<Redirect>main?attempt=2</Redirect>`)
		}
		return response(`<Say>Goodbye.</Say><Hangup/>`)
	case "/twilio/voice/menu/billing":
		switch digits {
		case "1":
			return response(`<Say>Transferring to billing.</Say><Dial><Number>+15005550007</Number><Number>+15005550008</Number></Dial>` +
				`<Say>Nobody is available.</Say><Hangup/>`)
		case "#":
			return response(`<Redirect method="GET">/twilio/voice/menu/main</Redirect>`)
		}
		return response(`<Hangup/>`)
	case "/twilio/voice/action/dial-done":
		if p.Get("DialCallStatus") == "completed" {
			return response(`<Say>Thanks for calling.</Say><Hangup/>`)
		}
		return response(`<Say>Sales is busy. Leave a message.</Say><Record action="voicemail-done"/>`)
	case "/twilio/voice/action/voicemail-done":
		if p.Get("RecordingUrl") == "" {
			return "no recording", http.StatusBadRequest
		}
		return response(`<Say>Thank you, goodbye.</Say><Hangup/>`)
	case "/twilio/voice/speech":
		return response(`<Gather input="speech" action="speech-done"><Say>Say billing or sales.</Say></Gather><Say>No speech.</Say><Hangup/>`)
	case "/twilio/voice/speech-done":
		return response(`<Say>You said ` + p.Get("SpeechResult") + `.</Say><Hangup/>`)
	case "/twilio/voice/loop":
		return response(`<Pause length="1"/><Redirect>loop</Redirect>`)
	case "/twilio/voice/odd":
		return response(`<Say>Hello <emphasis>brave</emphasis> world</Say><Play>https://example.com/a.mp3</Play>` +
			`<Play digits="ww12"/><Pause length="2"/><Enqueue>support</Enqueue>`)
	case "/twilio/voice/broken":
		return "<Response><Say>unclosed", http.StatusOK
	case "/twilio/voice/error":
		return "boom", http.StatusInternalServerError
	case "/twilio/voice/action/transcription":
		return response("")
	case "/twilio/status":
		return response("")
	}
	return "not found", http.StatusNotFound
}

// plivoDoc is the canned Plivo XML app.
func plivoDoc(path string, q, p url.Values) (string, int) {
	digits, attempt := p.Get("Digits"), q.Get("attempt")
	switch path {
	case "/plivo/voice":
		return response(`<GetDigits action="voice/menu/main" numDigits="1" timeout="5"><Speak>Welcome. Press 1 for billing, 2 for sales.</Speak></GetDigits>` +
			`<Redirect>voice/menu/main?attempt=1</Redirect>`)
	case "/plivo/voice/menu/main":
		switch {
		case digits == "1":
			return response(`<GetInput action="billing" method="GET" inputType="dtmf speech" numDigits="1"><Speak>Billing. Say agent or press 1.</Speak></GetInput>` +
				`<Redirect>billing?attempt=1</Redirect>`)
		case digits == "2":
			return response(`<Dial action="/plivo/voice/action/dial-done"><Number>15005550006</Number></Dial>`)
		case digits == "4":
			return response(`<Record action="../action/voicemail-done" transcriptionType="auto" transcriptionUrl="../action/transcription?menu=main"/>`)
		case attempt != "":
			return response(`<Speak>Goodbye.</Speak><Hangup/>`)
		}
		return response(`<Speak>That is not an option.</Speak><Redirect>main</Redirect>`)
	case "/plivo/voice/menu/billing":
		if p.Get("Speech") == "agent" || (p.Get("InputType") == "dtmf" && digits == "1") {
			return response(`<Speak>Connecting.</Speak><Dial><Number>15005550007</Number></Dial>`)
		}
		return response(`<Speak>Leave a message.</Speak><Record action="../action/voicemail-done" maxLength="30"/>`)
	case "/plivo/voice/action/dial-done":
		if p.Get("DialStatus") == "completed" {
			return response(`<Hangup/>`)
		}
		return response(`<Wait length="1"/><Speak>Sales is busy. Leave a message.</Speak><Record action="voicemail-done"/>`)
	case "/plivo/voice/action/voicemail-done":
		if p.Get("RecordUrl") == "" {
			return "no recording", http.StatusBadRequest
		}
		return response(`<Speak>Thanks.</Speak><Hangup/>`)
	case "/plivo/hangup", "/plivo/voice/action/transcription":
		return response("")
	}
	return "not found", http.StatusNotFound
}

// production is an environment in production mode with no token set: no
// development token applies.
func production(k string) string {
	if k == "IVR_MODE" {
		return "production"
	}
	return ""
}
