package voice

import (
	"net/url"
	"testing"
	"time"
)

func TestProviderTime(t *testing.T) {
	for _, tc := range []struct {
		in   url.Values
		want time.Time
	}{
		{url.Values{"Timestamp": {"Mon, 16 Aug 2010 03:45:01 +0000"}}, time.Date(2010, 8, 16, 3, 45, 1, 0, time.UTC)},
		{url.Values{"EndTime": {"2026-05-01 10:01:00"}}, time.Date(2026, 5, 1, 10, 1, 0, 0, time.UTC)},
		{url.Values{"Timestamp": {"yesterday"}}, time.Time{}},
		{url.Values{}, time.Time{}},
	} {
		if got := providerTime(tc.in.Get); !got.Equal(tc.want) {
			t.Errorf("providerTime(%v) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// FuzzProviderTime: any callback timestamp gives a UTC time or zero, never
// a panic.
func FuzzProviderTime(f *testing.F) {
	f.Add("Mon, 16 Aug 2010 03:45:01 +0000", "")
	f.Add("", "2026-05-01 10:01:00")
	f.Add("Mon, 16 Aug 2010 03:45:01 +1400", "2026-13-01 99:01:00")
	f.Fuzz(func(t *testing.T, ts, end string) {
		got := providerTime(url.Values{"Timestamp": {ts}, "EndTime": {end}}.Get)
		if !got.IsZero() && got.Location() != time.UTC {
			t.Fatalf("providerTime(%q, %q) = %s, not UTC", ts, end, got)
		}
	})
}

// TestVoiceBaseCache: the cached base of a public URL is what parsing that
// URL gives, whatever its query, for the first request and the next ones;
// URLs url.Parse refuses or would read differently are not cached.
func TestVoiceBaseCache(t *testing.T) {
	var c baseCache
	for _, tc := range []struct{ public, prefix, want string }{
		{"https://ivr.example.com/twilio/voice", "/twilio/voice", "https://ivr.example.com/twilio/voice/"},
		{"https://ivr.example.com/twilio/voice/menu/main?attempt=1&s=abc", "/twilio/voice", "https://ivr.example.com/twilio/voice/"},
		{"https://ivr.example.com/twilio/voice/menu/main?attempt=2&s=def", "/twilio/voice", "https://ivr.example.com/twilio/voice/"},
		{"HTTPS://ivr.example.com:8443//ivr//twilio/voice?x=1", "/twilio/voice", "https://ivr.example.com:8443/ivr/twilio/voice/"},
		{"https://ivr.example.com/ivr/plivo/voice", "/plivo/voice", "https://ivr.example.com/ivr/plivo/voice/"},
		{"https://ivr.example.com/ivr/plivo/voice", "/twilio/voice", "https://ivr.example.com/twilio/voice/"},
		{"https://ivr.example.com/twilio/voice?bad=\x01", "/twilio/voice", "/twilio/voice/"},
		{"https://ivr.example.com/twilio/voice#%zz", "/twilio/voice", "/twilio/voice/"},
		{"/twilio/voice", "/twilio/voice", "/twilio/voice/"},
		{"https://ivr.example.com/twilio/voice?bad=\x7f", "/twilio/voice", "/twilio/voice/"},
	} {
		for range 2 { // the second is served from the cache
			if got := c.get(tc.public, tc.prefix); got != tc.want || got != baseOf(tc.public, tc.prefix) {
				t.Errorf("get(%q, %q) = %q, want %q", tc.public, tc.prefix, got, tc.want)
			}
		}
	}
	if n := c.n.Load(); n != 6 {
		t.Errorf("%d URLs cached, want 6 (one per prefix and URL without its query)", n)
	}
	c.n.Store(maxBases)
	if got := c.get("https://other.example.com/twilio/voice", "/twilio/voice"); got != "https://other.example.com/twilio/voice/" {
		t.Errorf("past maxBases: %q", got)
	}
	if _, ok := c.m.Load(baseKey{"/twilio/voice", "https://other.example.com/twilio/voice"}); ok {
		t.Error("a URL was cached past maxBases")
	}
}
