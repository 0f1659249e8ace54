package auth

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

const (
	testTwilioToken  = "tw-primary-SECRET-0001"
	testTwilioToken2 = "tw-secondary-SECRET-0002"
	testPlivoToken   = "plivo-account-SECRET-0003"
	testPlivoMaster  = "plivo-master-SECRET-0004"
	testBase         = "https://ivr.example.com"
)

var allTestTokens = []string{testTwilioToken, testTwilioToken2, testPlivoToken, testPlivoMaster}

const answerBody = "CallSid=CA1&From=%2B14155550100&To=%2B14155550199"

func answerParams() url.Values { v, _ := url.ParseQuery(answerBody); return v }

type testReq struct {
	method  string
	target  string
	body    io.Reader
	headers [][2]string // added in order (repeats allowed)
	length  int64       // ContentLength override; 0 = leave as httptest sets it
}

func (tr testReq) build() *http.Request {
	r := httptest.NewRequest(tr.method, tr.target, tr.body)
	r.Host = "localhost:8080"
	for _, h := range tr.headers {
		r.Header.Add(h[0], h[1])
	}
	if tr.length != 0 {
		r.ContentLength = tr.length
	}
	return r
}

const formCT = "application/x-www-form-urlencoded"

type failCapture struct{ f *Failure }

func (c *failCapture) onFail(w http.ResponseWriter, _ *http.Request, f *Failure) {
	c.f = f
	w.WriteHeader(http.StatusForbidden)
}

// serve sends r through the middleware mk builds and reports the failure, or the
// request the handler saw.
func serve(mk func(onFail func(http.ResponseWriter, *http.Request, *Failure)) func(http.Handler) http.Handler, r *http.Request) (*Failure, *http.Request) {
	var c failCapture
	var seen *http.Request
	h := mk(c.onFail)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = r }))
	h.ServeHTTP(httptest.NewRecorder(), r)
	return c.f, seen
}

func twilioMW(cfg TwilioConfig) func(func(http.ResponseWriter, *http.Request, *Failure)) func(http.Handler) http.Handler {
	return func(onFail func(http.ResponseWriter, *http.Request, *Failure)) func(http.Handler) http.Handler {
		return TwilioMiddleware(cfg, onFail)
	}
}

func plivoV3MW(cfg PlivoConfig) func(func(http.ResponseWriter, *http.Request, *Failure)) func(http.Handler) http.Handler {
	return func(onFail func(http.ResponseWriter, *http.Request, *Failure)) func(http.Handler) http.Handler {
		return PlivoV3Middleware(cfg, onFail)
	}
}

func plivoV2MW(cfg PlivoConfig) func(func(http.ResponseWriter, *http.Request, *Failure)) func(http.Handler) http.Handler {
	return func(onFail func(http.ResponseWriter, *http.Request, *Failure)) func(http.Handler) http.Handler {
		return PlivoV2Middleware(cfg, onFail)
	}
}

var (
	twCfg = TwilioConfig{AuthToken: testTwilioToken, SecondaryAuthToken: testTwilioToken2, URL: URLResolver{PublicBase: testBase}}
)

func plCfg() PlivoConfig {
	return PlivoConfig{AuthToken: testPlivoToken, MasterAuthToken: testPlivoMaster, URL: URLResolver{PublicBase: testBase}, Nonces: NewMemoryNonces(100, 0)}
}

func twilioSigned(path string, body string) testReq {
	params, _ := url.ParseQuery(body)
	return testReq{method: http.MethodPost, target: path, body: strings.NewReader(body),
		headers: [][2]string{{"Content-Type", formCT}, {"X-Twilio-Signature", SignTwilio(testTwilioToken, testBase+path, params)}}}
}

func plivoV3Signed(path, body, nonce string) testReq {
	params, _ := url.ParseQuery(body)
	return testReq{method: http.MethodPost, target: path, body: strings.NewReader(body),
		headers: [][2]string{{"Content-Type", formCT}, {"X-Plivo-Signature-V3", SignPlivoV3(testPlivoToken, testBase+path, nonce, "POST", params)},
			{"X-Plivo-Signature-V3-Nonce", nonce}}}
}

type errStore struct{}

func (errStore) Claim(context.Context, string, time.Time) (bool, error) {
	return false, errors.New("database is down")
}

func TestMiddlewareAccepts(t *testing.T) {
	t.Run("twilio form POST, params from body only, PostForm filled", func(t *testing.T) {
		tr := twilioSigned("/twilio/voice/menu/main?attempt=2", answerBody+"&Digits=1")
		f, seen := serve(twilioMW(twCfg), tr.build())
		if f != nil {
			t.Fatalf("refused: %v", f)
		}
		p := Params(seen.Context())
		if p.Get("Digits") != "1" || p.Has("attempt") {
			t.Errorf("Params = %v; want body only", p)
		}
		if seen.PostFormValue("From") != "+14155550100" || seen.FormValue("attempt") != "2" {
			t.Errorf("PostForm/Form not usable: %q %q", seen.PostFormValue("From"), seen.FormValue("attempt"))
		}
		b, _ := io.ReadAll(seen.Body)
		if string(b) != answerBody+"&Digits=1" || string(Body(seen.Context())) != string(b) {
			t.Errorf("body not re-readable: %q", b)
		}
		if got, want := URL(seen.Context()), testBase+"/twilio/voice/menu/main?attempt=2"; got != want {
			t.Errorf("URL = %q, want the public URL checked, %q", got, want)
		}
		if URL(context.Background()) != "" {
			t.Error("URL without the middleware is not empty")
		}
	})
	t.Run("twilio GET, params from query", func(t *testing.T) {
		target := "/twilio/voice?" + answerBody
		r := testReq{method: http.MethodGet, target: target,
			headers: [][2]string{{"X-Twilio-Signature", SignTwilio(testTwilioToken2, testBase+target, nil)}}}.build()
		f, seen := serve(twilioMW(twCfg), r)
		if f != nil {
			t.Fatalf("refused: %v", f)
		}
		if got := Params(seen.Context()).Get("From"); got != "+14155550100" {
			t.Errorf("From = %q", got)
		}
	})
	t.Run("twilio JSON", func(t *testing.T) {
		body := []byte(`{"CallSid":"CA1"}`)
		u, sig := SignTwilioJSON(testTwilioToken, testBase+"/twilio/status?x=1", body)
		r := testReq{method: http.MethodPost, target: strings.TrimPrefix(u, testBase), body: strings.NewReader(string(body)),
			headers: [][2]string{{"Content-Type", "application/json; charset=utf-8"}, {"X-Twilio-Signature", sig}}}.build()
		f, seen := serve(twilioMW(twCfg), r)
		if f != nil {
			t.Fatalf("refused: %v", f)
		}
		if p := Params(seen.Context()); p == nil || len(p) != 0 {
			t.Errorf("Params = %v, want empty", p)
		}
		if string(Body(seen.Context())) != string(body) {
			t.Errorf("Body = %q", Body(seen.Context()))
		}
	})
	t.Run("twilio signed with :443", func(t *testing.T) {
		params := answerParams()
		r := testReq{method: http.MethodPost, target: "/twilio/voice", body: strings.NewReader(answerBody),
			headers: [][2]string{{"Content-Type", formCT}, {"X-Twilio-Signature", SignTwilio(testTwilioToken, "https://ivr.example.com:443/twilio/voice", params)}}}.build()
		if f, _ := serve(twilioMW(twCfg), r); f != nil {
			t.Fatalf("refused: %v", f)
		}
	})
	t.Run("twilio checked at :443, signed without", func(t *testing.T) {
		cfg := twCfg
		cfg.URL = URLResolver{PublicBase: "https://ivr.example.com:443"}
		if f, _ := serve(twilioMW(cfg), twilioSigned("/twilio/voice", answerBody).build()); f != nil {
			t.Fatalf("refused: %v", f)
		}
	})
	t.Run("twilio repeated identical values are signed once", func(t *testing.T) {
		body := "A=1&A=1&B=2"
		params, _ := url.ParseQuery(body)
		if SignTwilio(testTwilioToken, "u", params) != SignTwilio(testTwilioToken, "u", url.Values{"A": {"1"}, "B": {"2"}}) {
			t.Errorf("duplicate values not collapsed")
		}
		if f, _ := serve(twilioMW(twCfg), twilioSigned("/twilio/voice", body).build()); f != nil {
			t.Fatalf("refused: %v", f)
		}
	})
	t.Run("plivo V3 POST with query", func(t *testing.T) {
		f, seen := serve(plivoV3MW(plCfg()), plivoV3Signed("/plivo/voice/menu/main?attempt=2&lang=es", answerBody, "123").build())
		if f != nil {
			t.Fatalf("refused: %v", f)
		}
		if Params(seen.Context()).Has("attempt") {
			t.Errorf("query merged into Params")
		}
	})
	t.Run("plivo V3 empty POST with query", func(t *testing.T) {
		tr := testReq{method: http.MethodPost, target: "/plivo/voice?attempt=2", headers: [][2]string{
			{"X-Plivo-Signature-V3", SignPlivoV3(testPlivoToken, testBase+"/plivo/voice?attempt=2", "n1", "POST", nil)},
			{"X-Plivo-Signature-V3-Nonce", "n1"}}}
		if f, _ := serve(plivoV3MW(plCfg()), tr.build()); f != nil {
			t.Fatalf("refused: %v", f)
		}
	})
	t.Run("plivo Ma-V3 alone with the master token", func(t *testing.T) {
		params := answerParams()
		tr := testReq{method: http.MethodPost, target: "/plivo/voice", body: strings.NewReader(answerBody), headers: [][2]string{
			{"Content-Type", formCT},
			{"X-Plivo-Signature-Ma-V3", "bm9wZQ==," + SignPlivoV3(testPlivoMaster, testBase+"/plivo/voice", "n2", "POST", params)},
			{"X-Plivo-Signature-V3-Nonce", "n2"}}}
		if f, _ := serve(plivoV3MW(plCfg()), tr.build()); f != nil {
			t.Fatalf("refused: %v", f)
		}
	})
	t.Run("plivo V2 with a port: signed without it (plivo-node)", func(t *testing.T) {
		cfg := plCfg()
		cfg.URL = URLResolver{PublicBase: "https://ivr.example.com:8443"}
		tr := testReq{method: http.MethodPost, target: "/plivo/message?lang=es", body: strings.NewReader("Text=HI"), headers: [][2]string{
			{"Content-Type", formCT},
			{"X-Plivo-Signature-V2", SignPlivoV2(testPlivoToken, "https://ivr.example.com/plivo/message", "n3")},
			{"X-Plivo-Signature-V2-Nonce", "n3"}}}
		f, seen := serve(plivoV2MW(cfg), tr.build())
		if f != nil {
			t.Fatalf("refused: %v", f)
		}
		if Params(seen.Context()).Get("Text") != "HI" {
			t.Errorf("Params = %v", Params(seen.Context()))
		}
	})
}

func TestMiddlewareRefuses(t *testing.T) {
	big := strings.Repeat("a", MaxBody+1)
	tests := []struct {
		name   string
		mw     func(func(http.ResponseWriter, *http.Request, *Failure)) func(http.Handler) http.Handler
		req    func() *http.Request
		reason string
	}{
		{"twilio no token", twilioMW(TwilioConfig{URL: twCfg.URL}), twilioSigned("/twilio/voice", answerBody).build, ReasonNoToken},
		{"twilio only secondary token is no token", twilioMW(TwilioConfig{SecondaryAuthToken: "x", URL: twCfg.URL}), twilioSigned("/twilio/voice", answerBody).build, ReasonNoToken},
		{"plivo V3 no token", plivoV3MW(PlivoConfig{MasterAuthToken: "m"}), plivoV3Signed("/plivo/voice", answerBody, "1").build, ReasonNoToken},
		{"plivo V2 no token", plivoV2MW(PlivoConfig{}), plivoV3Signed("/plivo/message", answerBody, "1").build, ReasonNoToken},
		{"twilio PUT", twilioMW(twCfg), func() *http.Request {
			r := twilioSigned("/twilio/voice", answerBody).build()
			r.Method = http.MethodPut
			return r
		}, ReasonBadMethod},
		{"plivo DELETE", plivoV3MW(plCfg()), func() *http.Request {
			r := plivoV3Signed("/plivo/voice", answerBody, "1").build()
			r.Method = http.MethodDelete
			return r
		}, ReasonBadMethod},
		{"twilio missing signature", twilioMW(twCfg), testReq{method: "POST", target: "/twilio/voice", body: strings.NewReader(answerBody),
			headers: [][2]string{{"Content-Type", formCT}}}.build, ReasonMissingSignature},
		{"twilio duplicate signature header", twilioMW(twCfg), func() *http.Request {
			r := twilioSigned("/twilio/voice", answerBody).build()
			r.Header.Add("X-Twilio-Signature", "other")
			return r
		}, ReasonDuplicateHeader},
		{"twilio non-base64 signature", twilioMW(twCfg), func() *http.Request {
			r := twilioSigned("/twilio/voice", answerBody).build()
			r.Header.Set("X-Twilio-Signature", "not base64 at all!\x00")
			return r
		}, ReasonMalformedSignature},
		{"twilio wrong-length signature", twilioMW(twCfg), func() *http.Request {
			r := twilioSigned("/twilio/voice", answerBody).build()
			r.Header.Set("X-Twilio-Signature", "AAAA")
			return r
		}, ReasonMalformedSignature},
		{"twilio malformed percent-encoding in body", twilioMW(twCfg), twilioSigned("/twilio/voice", "From=%zz").build, ReasonBadBody},
		{"twilio semicolon in body", twilioMW(twCfg), twilioSigned("/twilio/voice", "a=1;b=2").build, ReasonBadBody},
		{"twilio non-UTF-8 value", twilioMW(twCfg), twilioSigned("/twilio/voice", "From=%ff%fe").build, ReasonBadBody},
		{"twilio non-UTF-8 name", twilioMW(twCfg), twilioSigned("/twilio/voice", "%c3=1").build, ReasonBadBody},
		{"twilio malformed query on GET", twilioMW(twCfg), testReq{method: "GET", target: "/twilio/voice?a=%zz",
			headers: [][2]string{{"X-Twilio-Signature", "kmqkAGGuUhsr0zmY3f/RiizY+aQ="}}}.build, ReasonBadURL},
		{"twilio GET with a body", twilioMW(twCfg), testReq{method: "GET", target: "/twilio/voice", body: strings.NewReader("a=1"),
			headers: [][2]string{{"X-Twilio-Signature", "kmqkAGGuUhsr0zmY3f/RiizY+aQ="}}}.build, ReasonBadBody},
		{"twilio wrong content type", twilioMW(twCfg), func() *http.Request {
			r := twilioSigned("/twilio/voice", answerBody).build()
			r.Header.Set("Content-Type", "text/plain")
			return r
		}, ReasonBadContentType},
		{"twilio body without content type", twilioMW(twCfg), func() *http.Request {
			r := twilioSigned("/twilio/voice", answerBody).build()
			r.Header.Del("Content-Type")
			return r
		}, ReasonBadContentType},
		{"twilio body too large (Content-Length)", twilioMW(twCfg), twilioSigned("/twilio/voice", big).build, ReasonBodyTooLarge},
		{"twilio body too large (chunked)", twilioMW(twCfg), func() *http.Request {
			r := twilioSigned("/twilio/voice", big).build()
			r.ContentLength = -1
			return r
		}, ReasonBodyTooLarge},
		{"twilio body lies about its length", twilioMW(twCfg), func() *http.Request {
			r := twilioSigned("/twilio/voice", big).build()
			r.ContentLength = 10
			return r
		}, ReasonBodyTooLarge},
		{"twilio body read error (slow client timed out)", twilioMW(twCfg), func() *http.Request {
			r := twilioSigned("/twilio/voice", answerBody).build()
			r.Body = io.NopCloser(io.MultiReader(strings.NewReader("CallSid=CA"), iotest.ErrReader(errors.New("i/o timeout"))))
			return r
		}, ReasonBadBody},
		{"twilio tampered", twilioMW(twCfg), func() *http.Request {
			r := twilioSigned("/twilio/voice", answerBody).build()
			r.Body = io.NopCloser(strings.NewReader(answerBody + "&x=1"))
			r.ContentLength = -1
			return r
		}, ReasonBadSignature},
		{"twilio JSON body hash mismatch", twilioMW(twCfg), func() *http.Request {
			u, sig := SignTwilioJSON(testTwilioToken, testBase+"/twilio/status", []byte(`{}`))
			return testReq{method: "POST", target: strings.TrimPrefix(u, testBase), body: strings.NewReader(`{"a":1}`),
				headers: [][2]string{{"Content-Type", "application/json"}, {"X-Twilio-Signature", sig}}}.build()
		}, ReasonBadBodyHash},
		{"plivo missing signature", plivoV3MW(plCfg()), testReq{method: "POST", target: "/plivo/voice", body: strings.NewReader(answerBody),
			headers: [][2]string{{"Content-Type", formCT}, {"X-Plivo-Signature-V3-Nonce", "1"}}}.build, ReasonMissingSignature},
		{"plivo only Ma-V3 without master token", plivoV3MW(PlivoConfig{AuthToken: testPlivoToken}), testReq{method: "POST", target: "/plivo/voice",
			headers: [][2]string{{"X-Plivo-Signature-Ma-V3", "x"}, {"X-Plivo-Signature-V3-Nonce", "1"}}}.build, ReasonMissingSignature},
		{"plivo missing nonce", plivoV3MW(plCfg()), func() *http.Request {
			r := plivoV3Signed("/plivo/voice", answerBody, "1").build()
			r.Header.Del("X-Plivo-Signature-V3-Nonce")
			return r
		}, ReasonMissingNonce},
		{"plivo garbled nonce", plivoV3MW(plCfg()), plivoV3Signed("/plivo/voice", answerBody, "12 34\n").build, ReasonBadNonce},
		{"plivo huge nonce", plivoV3MW(plCfg()), plivoV3Signed("/plivo/voice", answerBody, strings.Repeat("1", 300)).build, ReasonBadNonce},
		{"plivo duplicate nonce header", plivoV3MW(plCfg()), func() *http.Request {
			r := plivoV3Signed("/plivo/voice", answerBody, "1").build()
			r.Header.Add("X-Plivo-Signature-V3-Nonce", "2")
			return r
		}, ReasonDuplicateHeader},
		{"plivo comma list of garbage", plivoV3MW(plCfg()), func() *http.Request {
			r := plivoV3Signed("/plivo/voice", answerBody, "1").build()
			r.Header.Set("X-Plivo-Signature-V3", ",,%%%,")
			return r
		}, ReasonMalformedSignature},
		{"plivo nonce store down", plivoV3MW(PlivoConfig{AuthToken: testPlivoToken, URL: URLResolver{PublicBase: testBase}, Nonces: errStore{}}),
			plivoV3Signed("/plivo/voice", answerBody, "1").build, ReasonNonceStore},
		{"plivo malformed query", plivoV3MW(plCfg()), plivoV3Signed("/plivo/voice?a=%zz", answerBody, "1").build, ReasonBadURL},
		{"plivo V2 wrong nonce", plivoV2MW(plCfg()), testReq{method: "POST", target: "/plivo/message", body: strings.NewReader("Text=x"), headers: [][2]string{
			{"Content-Type", formCT}, {"X-Plivo-Signature-V2", SignPlivoV2(testPlivoToken, testBase+"/plivo/message", "1")},
			{"X-Plivo-Signature-V2-Nonce", "2"}}}.build, ReasonBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, seen := serve(tt.mw, tt.req())
			if seen != nil {
				t.Fatalf("handler ran")
			}
			if f == nil || f.Reason != tt.reason {
				t.Fatalf("failure = %v, want reason %s", f, tt.reason)
			}
			if f.Scheme == "" {
				t.Errorf("Scheme not set")
			}
			assertNoToken(t, f)
		})
	}
}

func TestDefaultOnFail(t *testing.T) {
	h := TwilioMiddleware(TwilioConfig{}, nil)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		t.Fatal("handler ran")
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, twilioSigned("/twilio/voice", answerBody).build())
	if w.Code != http.StatusForbidden {
		t.Errorf("code %d, want 403", w.Code)
	}
}

func TestParamsOutsideMiddleware(t *testing.T) {
	if Params(context.Background()) != nil || Body(context.Background()) != nil {
		t.Errorf("Params/Body outside the middleware should be nil")
	}
}

func TestFailureError(t *testing.T) {
	inner := errors.New("inner")
	f := &Failure{Reason: ReasonBadBody, Diagnosis: "d", Err: inner}
	if f.Error() != "bad_body: d" || !errors.Is(f, inner) {
		t.Errorf("Error() = %q, Is = %v", f.Error(), errors.Is(f, inner))
	}
	if (&Failure{Reason: ReasonNoToken}).Error() != "no_token" {
		t.Errorf("bare reason")
	}
}

// assertNoToken fails if any configured token appears anywhere in the failure.
func assertNoToken(t *testing.T, f *Failure) {
	t.Helper()
	text := f.Error() + " " + f.URL
	if f.Err != nil {
		text += " " + f.Err.Error()
	}
	for _, tok := range allTestTokens {
		if strings.Contains(text, tok) {
			t.Fatalf("failure text leaks a token: %s", text)
		}
	}
}
