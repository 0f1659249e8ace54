package auth

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestDiagnosisHints: each usual mistake is named in the diagnosis.
func TestDiagnosisHints(t *testing.T) {
	params := answerParams()
	twilioReq := func(signedURL, token, target string) *http.Request {
		return testReq{method: http.MethodPost, target: target, body: strings.NewReader(answerBody),
			headers: [][2]string{{"Content-Type", formCT}, {"X-Twilio-Signature", SignTwilio(token, signedURL, params)}}}.build()
	}
	plivoReq := func(header, signedURL, token, target string) *http.Request {
		return testReq{method: http.MethodPost, target: target, body: strings.NewReader(answerBody),
			headers: [][2]string{{"Content-Type", formCT}, {header, SignPlivoV3(token, signedURL, "77", "POST", params)},
				{"X-Plivo-Signature-V3-Nonce", "77"}}}.build()
	}
	onlyAccount := PlivoConfig{AuthToken: testPlivoToken, URL: URLResolver{PublicBase: testBase}, Nonces: NewMemoryNonces(10, 0)}
	tests := []struct {
		name string
		mw   func(func(http.ResponseWriter, *http.Request, *Failure)) func(http.Handler) http.Handler
		req  *http.Request
		want []string
	}{
		{"other scheme", twilioMW(twCfg), twilioReq("http://ivr.example.com/twilio/voice", testTwilioToken, "/twilio/voice"),
			[]string{`checked URL "https://ivr.example.com/twilio/voice"`, "http:// instead of https://", "the primary token"}},
		{"other scheme, secondary token", twilioMW(twCfg), twilioReq("http://ivr.example.com/twilio/voice", testTwilioToken2, "/twilio/voice"),
			[]string{"http:// instead of https://", "the secondary token"}},
		{"non-standard port", twilioMW(TwilioConfig{AuthToken: testTwilioToken, URL: URLResolver{PublicBase: "https://ivr.example.com:8443"}}),
			twilioReq("https://ivr.example.com/twilio/voice", testTwilioToken, "/twilio/voice"),
			[]string{`checked URL "https://ivr.example.com:8443/twilio/voice"`, "without the port :8443"}},
		{"port added (plivo)", plivoV3MW(plCfg()), plivoReq("X-Plivo-Signature-V3", "https://ivr.example.com:443/plivo/voice", testPlivoToken, "/plivo/voice"),
			[]string{"with the port :443", "the account token"}},
		{"trailing slash added", twilioMW(twCfg), twilioReq("https://ivr.example.com/twilio/voice/", testTwilioToken, "/twilio/voice"),
			[]string{"with a trailing slash"}},
		{"trailing slash removed", plivoV3MW(plCfg()), plivoReq("X-Plivo-Signature-V3", "https://ivr.example.com/plivo/voice", testPlivoToken, "/plivo/voice/"),
			[]string{"without the trailing slash"}},
		{"scheme and slash at once", twilioMW(twCfg), twilioReq("http://ivr.example.com/twilio/voice/", testTwilioToken, "/twilio/voice"),
			[]string{"http:// instead of https://, with a trailing slash"}},
		{"V3 header signed with the master token", plivoV3MW(plCfg()), plivoReq("X-Plivo-Signature-V3", testBase+"/plivo/voice", testPlivoMaster, "/plivo/voice"),
			[]string{"X-Plivo-Signature-V3 matches with the master token instead of the account token"}},
		{"Ma-V3 header signed with the account token", plivoV3MW(plCfg()), plivoReq("X-Plivo-Signature-Ma-V3", testBase+"/plivo/voice", testPlivoToken, "/plivo/voice"),
			[]string{"X-Plivo-Signature-Ma-V3 matches with the account token instead of the master token"}},
		{"Ma-V3 header with the account token, no master configured", plivoV3MW(onlyAccount),
			func() *http.Request {
				r := plivoReq("X-Plivo-Signature-Ma-V3", testBase+"/plivo/voice", testPlivoToken, "/plivo/voice")
				r.Header.Set("X-Plivo-Signature-V3", SignPlivoV3("someone-else", testBase+"/plivo/voice", "77", "POST", params))
				return r
			}(),
			[]string{"X-Plivo-Signature-Ma-V3 matches with the account token instead of no token"}},
		{"V2 other scheme", plivoV2MW(plCfg()), testReq{method: "POST", target: "/plivo/message", headers: [][2]string{
			{"X-Plivo-Signature-V2", SignPlivoV2(testPlivoToken, "http://ivr.example.com/plivo/message", "9")},
			{"X-Plivo-Signature-V2-Nonce", "9"}}}.build(),
			[]string{"http:// instead of https://"}},
		{"nothing matches", twilioMW(twCfg), twilioReq(testBase+"/twilio/voice", "unknown-token", "/twilio/voice"),
			[]string{"no variant matched"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, seen := serve(tt.mw, tt.req)
			if seen != nil || f == nil {
				t.Fatalf("not refused")
			}
			if f.Reason != ReasonBadSignature {
				t.Errorf("reason %s, want %s", f.Reason, ReasonBadSignature)
			}
			for _, w := range tt.want {
				if !strings.Contains(f.Diagnosis, w) {
					t.Errorf("diagnosis lacks %q:\n%s", w, f.Diagnosis)
				}
			}
			assertNoToken(t, f)
		})
	}
}

// TestDiagnosisNeverPrintsTokens: tokens chosen to look like URL parts and
// parameters still never show up in any message.
func TestDiagnosisNeverPrintsTokens(t *testing.T) {
	signers := []string{"https", "voice", "ivr.example.com", "14155550100"} // unknown tokens that look like URL parts
	params := url.Values{"From": {"+14155550100"}}
	cfg := TwilioConfig{AuthToken: "tok-A-SECRET", SecondaryAuthToken: "tok-B-SECRET", URL: URLResolver{PublicBase: testBase}}
	for _, tok := range signers {
		r := testReq{method: "POST", target: "/twilio/voice", body: strings.NewReader(params.Encode()), headers: [][2]string{
			{"Content-Type", formCT}, {"X-Twilio-Signature", SignTwilio(tok, "http://ivr.example.com/twilio/voice", params)}}}.build()
		f, _ := serve(twilioMW(cfg), r)
		if f == nil {
			t.Fatal("accepted")
		}
		for _, secret := range []string{"tok-A-SECRET", "tok-B-SECRET"} {
			if strings.Contains(f.Error(), secret) {
				t.Errorf("leak: %s", f.Error())
			}
		}
	}
}

func TestTruncateKeepsUTF8(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{
		{"GET", 20, "GET"},
		{"abcdef", 3, "abc..."},
		{"héllo", 2, "h..."}, // "é" is 2 bytes: not split
		{"日本語", 4, "日..."},
	} {
		if got := truncate(tc.s, tc.n); got != tc.want || !utf8.ValidString(got) {
			t.Errorf("truncate(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
}
