package auth

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// checkFastQuery fails unless parseFormFast, when it takes raw on, gives
// exactly what url.ParseQuery gives.
func checkFastQuery(t *testing.T, raw string) {
	t.Helper()
	f, ok := parseFormFast(raw, nil)
	want, err := url.ParseQuery(raw)
	if !ok {
		return
	}
	if err != nil {
		t.Fatalf("parseFormFast(%q) took on an input url.ParseQuery refuses: %v", raw, err)
	}
	if got := f.Values(); !reflect.DeepEqual(got, want) {
		t.Fatalf("parseFormFast(%q) = %v, want %v", raw, got, want)
	}
}

func TestParseQueryFastMatchesURL(t *testing.T) {
	for _, raw := range []string{
		"", "&", "&&a=1&&", "a", "a=", "=1", "a=1&a=2&b=3&a=4", "a+b=c+d&%41=%42",
		"a=%zz", "a=%4", "a=%", "%=1", "a=%4g", "a%2=b", "a=%41%42+%2B&b=%20+x&c=%2", "a;b=1", "a=1;b=2", "x=%E2%82%AC&y=%ff", "a=1&b&c=&=d",
		strings.Repeat("k=v&", maxFastParams), strings.Repeat("k=v&", maxFastParams-1) + "k=v",
	} {
		checkFastQuery(t, raw)
	}
	// Appending to a value must never reach another name's value.
	f, ok := parseFormFast("a=1&b=2", nil)
	if !ok {
		t.Fatal("well-formed query not taken")
	}
	v := f.Values()
	v["a"] = append(v["a"], "x")
	if v.Get("b") != "2" {
		t.Fatalf("append to a changed b: %v", v)
	}
}

func FuzzParseFormFast(f *testing.F) {
	for _, s := range []string{"a=1&b=2", "a=1&a=2", "%41=%zz", "a;b", "&&=&"} {
		f.Add(s)
	}
	f.Fuzz(checkFastQuery)
}

// BenchmarkParseQuery is a Twilio voice webhook's form body (22 parameters)
// through url.ParseQuery and through parseForm, which the signature
// middleware uses on every request.
func BenchmarkParseQuery(b *testing.B) {
	raw := twilioBenchQuery()
	b.Run("url.ParseQuery", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := url.ParseQuery(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parseForm", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := parseForm(raw, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// twilioBenchQuery is a Twilio voice webhook's form body (22 parameters).
func twilioBenchQuery() string {
	return url.Values{
		"AccountSid": {"AC0123456789abcdef0123456789abcdef"}, "ApiVersion": {"2010-04-01"},
		"CallSid": {"CA0123456789abcdef0123456789abcdef"}, "CallStatus": {"in-progress"},
		"Called": {"+14155550199"}, "CalledCity": {"SAN FRANCISCO"}, "CalledCountry": {"US"},
		"CalledState": {"CA"}, "CalledZip": {"94105"}, "Caller": {"+14155550100"},
		"CallerCity": {"OAKLAND"}, "CallerCountry": {"US"}, "CallerState": {"CA"}, "CallerZip": {"94612"},
		"Digits": {"1"}, "Direction": {"inbound"}, "FinishedOnKey": {""}, "From": {"+14155550100"},
		"FromCity": {"OAKLAND"}, "FromCountry": {"US"}, "To": {"+14155550199"}, "msg": {"Gather End"},
	}.Encode()
}

// BenchmarkQueryUnescape is the names and values of a Twilio voice
// webhook's form body unescaped one string each (url.QueryUnescape) and
// into one buffer (unescapeInto, as parseFormFast does).
func BenchmarkQueryUnescape(b *testing.B) {
	raw := twilioBenchQuery()
	parts := strings.FieldsFunc(raw, func(r rune) bool { return r == '&' || r == '=' })
	b.Run("url.QueryUnescape", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, p := range parts {
				if _, err := url.QueryUnescape(p); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("unescapeInto", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var buf textBuf
			for _, p := range parts {
				if _, ok := unescapeInto(&buf, len(raw), p); !ok {
					b.Fatal("refused")
				}
			}
		}
	})
}
