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
		if got := providerTime(tc.in); !got.Equal(tc.want) {
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
		got := providerTime(url.Values{"Timestamp": {ts}, "EndTime": {end}})
		if !got.IsZero() && got.Location() != time.UTC {
			t.Fatalf("providerTime(%q, %q) = %s, not UTC", ts, end, got)
		}
	})
}
