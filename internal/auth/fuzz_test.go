package auth

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// fuzzRequest builds a request with an arbitrary raw target, as a server would
// hand it to the middleware.
func fuzzRequest(method, path, rawQuery, body string, headers map[string]string) *http.Request {
	target := path
	if rawQuery != "" {
		target += "?" + rawQuery
	}
	r := &http.Request{Method: method, URL: &url.URL{Path: path, RawQuery: rawQuery}, RequestURI: target,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Host: "localhost:8080", Header: http.Header{},
		Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body))}
	for k, v := range headers {
		if v != "" {
			r.Header.Set(k, v)
		}
	}
	return r
}

func method(post bool) string {
	if post {
		return http.MethodPost
	}
	return http.MethodGet
}

// checkFuzzFailure: a refusal always has a reason and never shows a token.
func checkFuzzFailure(t *testing.T, f *Failure) {
	t.Helper()
	if f == nil {
		return
	}
	if f.Reason == "" {
		t.Fatalf("failure without a reason: %+v", f)
	}
	assertNoToken(t, f)
}

// FuzzTwilioValidate: arbitrary query, body, content type and signature never
// panic; with sign set, a correctly signed form POST or GET is always accepted.
func FuzzTwilioValidate(f *testing.F) {
	f.Add(true, "attempt=2", answerBody, formCT, "kmqkAGGuUhsr0zmY3f/RiizY+aQ=", true)
	f.Add(true, "", "A=b&A=a&A=a&%C3%A9=%F0%9F%98%80&%EF%BF%BD=x", formCT, "", true)
	f.Add(false, "From=%2B1&Say=a+b", "", "", "", true)
	f.Add(true, "bodySHA256=abc", `{"a":1}`, "application/json", "H0CJvfcULWRIqMTYCluSSYKf2vc=", false)
	f.Add(true, "a=%zz", "b=%", formCT, "!!!", false)
	f.Add(true, "", "a=1;b=2", "text/plain; charset=utf-8", "AAAA,BBBB", false)
	f.Fuzz(func(t *testing.T, post bool, rawQuery, body, contentType, sig string, sign bool) {
		m := method(post)
		signedURL := testBase + "/twilio/voice"
		if rawQuery != "" {
			signedURL += "?" + rawQuery
		}
		expectOK := false
		if sign {
			switch {
			case !post:
				if _, err := parseQuery(strings.SplitN(rawQuery, "#", 2)[0]); err == nil && body == "" {
					sig, expectOK = SignTwilio(testTwilioToken, signedURL, nil), true
				}
			case !strings.Contains(rawQuery, "bodySHA256"):
				if params, err := parseQuery(body); err == nil {
					sig, expectOK = SignTwilio(testTwilioToken2, signedURL, params), true
					contentType = formCT
				}
			}
		}
		r := fuzzRequest(m, "/twilio/voice", rawQuery, body, map[string]string{"Content-Type": contentType, "X-Twilio-Signature": sig})
		fail, seen := serve(twilioMW(twCfg), r)
		checkFuzzFailure(t, fail)
		if expectOK && seen == nil {
			t.Fatalf("correctly signed request refused: %v", fail)
		}
	})
}

// FuzzPlivoV3Validate: arbitrary input never panics; with sign set, a correctly
// signed request is accepted once and its replay refused.
func FuzzPlivoV3Validate(f *testing.F) {
	f.Add(true, "", "CallUUID=a1&From=14155550100&To=14155550199", "00243193031921767447", "pJyYVGLUBpzsNy/gUVucQhu0VlY0/PLBhSJU8bthrsE=", "", true)
	f.Add(true, "attempt=2&b=%2B1&b=%201", "Digits=2&Digits=1", "01018907773421627019", "", "", true)
	f.Add(false, "CallUUID=a1&From=14155550100", "", "01140769679572379985", "", "", true)
	f.Add(true, "attempt=2", "", "1", "", "", true)
	f.Add(true, "", "", "1", "c29tZS1vdGhlci1zaWduYXR1cmU=,,", "x", false)
	f.Add(true, "a=%zz", "From=%ff", "12 3", "%%%", "", false)
	f.Fuzz(func(t *testing.T, post bool, rawQuery, body, nonce, sig, ma string, sign bool) {
		m := method(post)
		signedURL := testBase + "/plivo/voice"
		if rawQuery != "" {
			signedURL += "?" + rawQuery
		}
		expectOK := false
		if sign && nonce != "" && validNonce(nonce) {
			_, rq := splitURL(signedURL)
			if _, err := parseQuery(rq); err == nil {
				if !post && body == "" {
					sig, expectOK = SignPlivoV3(testPlivoToken, signedURL, nonce, m, nil), true
				}
				if params, err := parseQuery(body); post && err == nil {
					sig, expectOK = SignPlivoV3(testPlivoToken, signedURL, nonce, m, params), true
				}
			}
		}
		headers := map[string]string{"Content-Type": formCT, "X-Plivo-Signature-V3": sig, "X-Plivo-Signature-Ma-V3": ma, "X-Plivo-Signature-V3-Nonce": nonce}
		mw := plivoV3MW(plCfg())
		fail, seen := serve(mw, fuzzRequest(m, "/plivo/voice", rawQuery, body, headers))
		checkFuzzFailure(t, fail)
		if !expectOK {
			return
		}
		if seen == nil {
			t.Fatalf("correctly signed request refused: %v", fail)
		}
		fail, seen = serve(mw, fuzzRequest(m, "/plivo/voice", rawQuery, body, headers))
		if seen != nil || fail == nil || fail.Reason != ReasonReplayedNonce {
			t.Fatalf("replay not refused: %v", fail)
		}
	})
}

// FuzzPlivoV2Validate: arbitrary input never panics; a signed request is accepted.
func FuzzPlivoV2Validate(f *testing.F) {
	f.Add("/plivo/message", "lang=es", "From=1&Text=HELP", "05429567804466091622", "8QWDJQ55KTCc8RyNMXB6M55Y4XPoy+0UJ9YuGnct27Q=", true)
	f.Add("/plivo/message/", "", "Text=%ff", "1", "", false)
	f.Fuzz(func(t *testing.T, path, rawQuery, body, nonce, sig string, sign bool) {
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		expectOK := false
		if sign && nonce != "" && validNonce(nonce) {
			if _, err := parseQuery(body); err == nil {
				sig, expectOK = SignPlivoV2(testPlivoToken, testBase+path+"?"+rawQuery, nonce), true
			}
		}
		headers := map[string]string{"Content-Type": formCT, "X-Plivo-Signature-V2": sig, "X-Plivo-Signature-V2-Nonce": nonce}
		fail, seen := serve(plivoV2MW(plCfg()), fuzzRequest(http.MethodPost, path, rawQuery, body, headers))
		checkFuzzFailure(t, fail)
		if expectOK && seen == nil {
			t.Fatalf("correctly signed request refused: %v", fail)
		}
	})
}

// FuzzResolveURL: Resolve never panics; with a valid public base and an
// origin-form target the result is the base's origin + prefix + the raw target.
func FuzzResolveURL(f *testing.F) {
	f.Add("https://abc.ngrok.app", "/twilio/voice?a=%2B1", "localhost:8080", "https", "x.example", false, false)
	f.Add("https://example.com/ivr/", "/ivr/twilio/voice", "backend", "", "", true, true)
	f.Add("", "http://backend:8080?x", "", "https, http", "a.example, b", false, true)
	f.Add("://", "*", "[::1]:80", "HTTP", "", true, false)
	f.Fuzz(func(t *testing.T, base, target, host, xfProto, xfHost string, isTLS, trust bool) {
		r := &http.Request{Method: http.MethodGet, RequestURI: target, Host: host, Header: http.Header{}, URL: &url.URL{Path: "/"}}
		if isTLS {
			r.TLS = &tls.ConnectionState{}
		}
		r.Header.Set("X-Forwarded-Proto", xfProto)
		r.Header.Set("X-Forwarded-Host", xfHost)
		res := URLResolver{PublicBase: base, TrustProxy: trust}
		got := res.Resolve(r)
		for _, v := range urlVariants(got) {
			_ = v
		}
		_, _ = toggleStandardPort(got)
		if base == "" || res.Validate() != nil || !strings.HasPrefix(target, "/") {
			return
		}
		origin, prefix := splitBase(base)
		if !strings.HasPrefix(got, origin+prefix) || !strings.HasSuffix(got, target) {
			t.Fatalf("Resolve(%q, %q) = %q", base, target, got)
		}
	})
}
