package auth

import (
	"net/url"
	"slices"
	"testing"

	twilioclient "github.com/twilio/twilio-go/client"
)

// TestPlivoV3String pins the string plivo-node builds for each shape of request.
func TestPlivoV3String(t *testing.T) {
	body := url.Values{"To": {"2"}, "From": {"1"}, "Digits": {"9", "3"}}
	tests := []struct {
		name, url, method string
		params            url.Values
		want              string
	}{
		{"POST no query", "https://h/p", "POST", body, "https://h/p?Digits3Digits9From1To2"},
		{"POST query and body", "https://h/p?b=2&a=%2B1&a=0", "POST", body, "https://h/p?a=+1&a=0&b=2.Digits3Digits9From1To2"},
		{"POST query only", "https://h/p?attempt=2", "POST", nil, "https://h/p?attempt=2"},
		{"POST nothing", "https://h/p", "POST", nil, "https://h/p"},
		{"GET query", "https://h/p?b=x+y&a=", "GET", nil, "https://h/p?a=&b=x y"},
		{"GET no query", "https://h:8443/p/", "GET", nil, "https://h:8443/p/"},
		{"GET params merged into query", "https://h/p?b=1", "GET", url.Values{"a": {"2"}, "b": {"0"}}, "https://h/p?a=2&b=0&b=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, raw := splitURL(tt.url)
			q, err := parseQuery(raw)
			if err != nil {
				t.Fatal(err)
			}
			if got := string(appendPlivoV3(nil, base, q, tt.method, tt.params)); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestTwilioString(t *testing.T) {
	params := url.Values{"b": {"2"}, "a": {"z", "y", "z"}, "c": {""}}
	if got, want := string(appendTwilioParams([]byte("U"), params)), "Uayazb2c"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestCompareUTF16: JavaScript order (UTF-16 code units), not byte order.
func TestCompareUTF16(t *testing.T) {
	in := []string{"\uE000", "\U0001F600", "b", "a", "ab", "", "\u00e9", "\uFFFD"}
	slices.SortFunc(in, compareUTF16)
	want := []string{"", "a", "ab", "b", "\u00e9", "\U0001F600", "\uE000", "\uFFFD"}
	if !slices.Equal(in, want) {
		t.Errorf("got %q, want %q", in, want)
	}
}

// TestSignTwilioAgreesWithTwilioGo: on single-valued parameters twilio-go accepts
// what SignTwilio produces, including the port variants.
func TestSignTwilioAgreesWithTwilioGo(t *testing.T) {
	cases := []struct {
		url    string
		params map[string]string
	}{
		{"https://ivr.example.com/twilio/voice", map[string]string{"From": "+14155550100", "CallerName": "José & Co", "Empty": ""}},
		{"https://ivr.example.com/twilio/voice/menu/main?attempt=2&x=%2B1", map[string]string{"Digits": "1#", "SpeechResult": "a+b=c"}},
		{"http://localhost/twilio/voice", nil},
		{"https://ivr.example.com:443/twilio/voice", map[string]string{"Z": "1", "a": "2"}},
	}
	rv := twilioclient.NewRequestValidator(testTwilioToken)
	for _, c := range cases {
		params := url.Values{}
		for k, v := range c.params {
			params.Set(k, v)
		}
		sig := SignTwilio(testTwilioToken, c.url, params)
		if !rv.Validate(c.url, c.params, sig) {
			t.Errorf("twilio-go refuses SignTwilio(%q, %v)", c.url, c.params)
		}
		if !VerifyTwilio(testTwilioToken, c.url, params, sig) {
			t.Errorf("VerifyTwilio refuses its own signature for %q", c.url)
		}
		if alt, ok := toggleStandardPort(c.url); ok && !VerifyTwilio(testTwilioToken, alt, params, sig) {
			t.Errorf("port variant %q refused", alt)
		}
	}
}

func TestVerifyHelpers(t *testing.T) {
	u := testBase + "/plivo/voice?attempt=1"
	params := url.Values{"Digits": {"1"}}
	sig := SignPlivoV3(testPlivoToken, u, "5", "post", params)
	if !VerifyPlivoV3(testPlivoToken, u, "5", "POST", params, "x,"+sig) || VerifyPlivoV3(testPlivoToken, u, "6", "POST", params, sig) {
		t.Errorf("VerifyPlivoV3")
	}
	if VerifyPlivoV3("", u, "5", "POST", params, sig) || VerifyTwilio("", u, nil, sig) || VerifyPlivoV2("", u, "5", sig) {
		t.Errorf("empty token accepted")
	}
	if !VerifyPlivoV2(testPlivoToken, u, "5", SignPlivoV2(testPlivoToken, testBase+"/plivo/voice", "5")) {
		t.Errorf("VerifyPlivoV2")
	}
	body := []byte(`{"a":1}`)
	su, ssig := SignTwilioJSON(testTwilioToken, testBase+"/twilio/status?x=1", body)
	if su != testBase+"/twilio/status?x=1&bodySHA256=015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862" {
		t.Errorf("SignTwilioJSON url %q", su)
	}
	if !VerifyTwilioJSON(testTwilioToken, su, body, ssig) || VerifyTwilioJSON(testTwilioToken, su, []byte("{}"), ssig) ||
		VerifyTwilioJSON(testTwilioToken, testBase+"/twilio/status", body, ssig) {
		t.Errorf("VerifyTwilioJSON")
	}
}
