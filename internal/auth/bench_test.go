package auth

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	twilioclient "github.com/twilio/twilio-go/client"
)

// A realistic Twilio gather callback body.
const benchTwilioBody = "AccountSid=ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa&ApiVersion=2010-04-01&CallSid=CAbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" +
	"&CallStatus=in-progress&Called=%2B14155550199&Caller=%2B14155550100&Digits=1&Direction=inbound&FinishedOnKey=" +
	"&From=%2B14155550100&FromCountry=US&To=%2B14155550199&ToCountry=US"

const benchPlivoBody = "CallUUID=a1b2c3d4-e5f6-4a5b-8c7d-9e0f1a2b3c4d&From=14155550100&To=14155550199" +
	"&CallStatus=in-progress&Direction=inbound&Event=Redirect&Digits=2&BillRate=0.0085"

func BenchmarkTwilioValidate(b *testing.B) {
	v := newTwilioVerifier(twCfg)
	u := testBase + "/twilio/voice/menu/main?attempt=1"
	params, _ := url.ParseQuery(benchTwilioBody)
	sig := SignTwilio(testTwilioToken, u, params)
	form := formOf(params)
	b.ReportAllocs()
	for b.Loop() {
		if !v.check(u, &form, sig) {
			b.Fatal("refused")
		}
	}
}

// BenchmarkTwilioValidateSecondaryPort is the slowest accepted path: the
// secondary token on the URL with :443.
func BenchmarkTwilioValidateSecondaryPort(b *testing.B) {
	v := newTwilioVerifier(twCfg)
	u := testBase + "/twilio/voice/menu/main?attempt=1"
	params, _ := url.ParseQuery(benchTwilioBody)
	sig := SignTwilio(testTwilioToken2, "https://ivr.example.com:443/twilio/voice/menu/main?attempt=1", params)
	form := formOf(params)
	b.ReportAllocs()
	for b.Loop() {
		if !v.check(u, &form, sig) {
			b.Fatal("refused")
		}
	}
}

// BenchmarkTwilioGoValidateBody is twilio-go's validator on the same input, for comparison.
func BenchmarkTwilioGoValidateBody(b *testing.B) {
	u := testBase + "/twilio/voice/menu/main?attempt=1"
	params, _ := url.ParseQuery(benchTwilioBody)
	sig := SignTwilio(testTwilioToken, u, params)
	rv := twilioclient.NewRequestValidator(testTwilioToken)
	body := []byte(benchTwilioBody)
	b.ReportAllocs()
	for b.Loop() {
		if !rv.ValidateBody(u, body, sig) {
			b.Fatal("refused")
		}
	}
}

func BenchmarkPlivoV3Validate(b *testing.B) {
	v := newPlivoVerifier(plCfg())
	u := testBase + "/plivo/voice/menu/main?attempt=1"
	params, _ := url.ParseQuery(benchPlivoBody)
	sig := SignPlivoV3(testPlivoToken, u, "01018907773421627019", "POST", params)
	base, raw := splitURL(u)
	query, _ := parseForm(raw, nil)
	form := formOf(params)
	b.ReportAllocs()
	for b.Loop() {
		if !v.checkV3(base, &query, "POST", &form, "01018907773421627019", sig, "") {
			b.Fatal("refused")
		}
	}
}

func BenchmarkPlivoV2Validate(b *testing.B) {
	v := newPlivoVerifier(plCfg())
	u := testBase + "/plivo/message"
	sig := SignPlivoV2(testPlivoToken, u, "05429567804466091622")
	b.ReportAllocs()
	for b.Loop() {
		if !v.checkV2(u, "05429567804466091622", sig, "") {
			b.Fatal("refused")
		}
	}
}

// freshNonces accepts every nonce, so one signed request can be replayed in a benchmark.
type freshNonces struct{}

func (freshNonces) Claim(context.Context, string, time.Time) (bool, error) { return true, nil }

type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}

// benchRouter serves one signed request repeatedly through a chi router.
func benchRouter(b *testing.B, mw func(http.Handler) http.Handler, method, target, body string, headers map[string]string) {
	r := chi.NewRouter()
	ran := 0
	r.With(mw).HandleFunc("/*", func(w http.ResponseWriter, r *http.Request) {
		if FormOf(r.Context()) != nil {
			ran++
		}
	})
	u, _ := url.Parse(target)
	req := &http.Request{Method: method, URL: u, RequestURI: target, Host: "localhost:8080",
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: http.Header{}, ContentLength: int64(len(body))}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rd := bytes.NewReader(nil)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset([]byte(body))
		req.Body = io.NopCloser(rd)
		r.ServeHTTP(w, req)
	}
	if ran != b.N {
		b.Fatalf("handler ran %d of %d times", ran, b.N)
	}
}

func BenchmarkTwilioMiddleware(b *testing.B) {
	target := "/twilio/voice/menu/main?attempt=1"
	params, _ := url.ParseQuery(benchTwilioBody)
	benchRouter(b, TwilioMiddleware(twCfg, nil), "POST", target, benchTwilioBody, map[string]string{
		"Content-Type": formCT, "X-Twilio-Signature": SignTwilio(testTwilioToken, testBase+target, params)})
}

func BenchmarkPlivoV3Middleware(b *testing.B) {
	target := "/plivo/voice/menu/main?attempt=1"
	params, _ := url.ParseQuery(benchPlivoBody)
	cfg := plCfg()
	cfg.Nonces = freshNonces{}
	benchRouter(b, PlivoV3Middleware(cfg, nil), "POST", target, benchPlivoBody, map[string]string{
		"Content-Type": formCT, "X-Plivo-Signature-V3-Nonce": "01018907773421627019",
		"X-Plivo-Signature-V3": SignPlivoV3(testPlivoToken, testBase+target, "01018907773421627019", "POST", params)})
}

func BenchmarkPlivoV2Middleware(b *testing.B) {
	target := "/plivo/message"
	cfg := plCfg()
	cfg.Nonces = freshNonces{}
	benchRouter(b, PlivoV2Middleware(cfg, nil), "POST", target, "From=14155550100&To=14155550199&Text=HELP&Type=sms", map[string]string{
		"Content-Type": formCT, "X-Plivo-Signature-V2-Nonce": "05429567804466091622",
		"X-Plivo-Signature-V2": SignPlivoV2(testPlivoToken, testBase+target, "05429567804466091622")})
}

// BenchmarkTwilioForged: the failure path with its diagnosis (what a flood of
// forged requests costs).
func BenchmarkTwilioForged(b *testing.B) {
	target := "/twilio/voice/menu/main?attempt=1"
	benchRouterFail(b, TwilioMiddleware(twCfg, func(http.ResponseWriter, *http.Request, *Failure) {}), "POST", target, benchTwilioBody,
		map[string]string{"Content-Type": formCT, "X-Twilio-Signature": "kmqkAGGuUhsr0zmY3f/RiizY+aQ="})
}

func benchRouterFail(b *testing.B, mw func(http.Handler) http.Handler, method, target, body string, headers map[string]string) {
	h := mw(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { b.Fatal("forged request accepted") }))
	u, _ := url.Parse(target)
	req := &http.Request{Method: method, URL: u, RequestURI: target, Host: "localhost:8080", Header: http.Header{}, ContentLength: int64(len(body))}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rd := bytes.NewReader(nil)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset([]byte(body))
		req.Body = io.NopCloser(rd)
		h.ServeHTTP(w, req)
	}
}
