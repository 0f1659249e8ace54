package voice

import (
	"strconv"
	"testing"

	"github.com/ivr-project/ivr/internal/ivr"
	"github.com/ivr-project/ivr/internal/store"
)

func TestCallDuration(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
	}{{"0", 0}, {"604800", 604800}, {"604801", 0}, {"604799.6", 604800}, {"604800.4", 0}, {"+5", 5}, {"", 0}, {"Inf", 0}, {"-0", 0}, {"0x10", 0}} {
		if got, _ := callDuration(c.in); got != c.want {
			t.Errorf("callDuration(%q) = %d, want %d", c.in, got, c.want)
		}
	}
}

// FuzzCallDuration: whatever a callback's duration field holds, the result
// is a storable duration (0..MaxDurationSeconds), and a plain whole number
// in range is kept as is.
func FuzzCallDuration(f *testing.F) {
	for _, s := range []string{"42", " 5", "3.5", "-5", "9999999999", "NaN", "1e400", "", "0x10", "+7", "604800"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, note := callDuration(s)
		if n < 0 || n > store.MaxDurationSeconds {
			t.Fatalf("callDuration(%q) = %d: not storable", s, n)
		}
		if v, err := strconv.Atoi(s); err == nil && v >= 0 && v <= store.MaxDurationSeconds && (n != v || note != "") {
			t.Fatalf("callDuration(%q) = %d, %q: a plain value was changed", s, n, note)
		}
	})
}

// A recording's duration is read like a call's: cleaned up, or unknown.
func TestAttachRecordingOddDuration(t *testing.T) {
	for in, want := range map[string]int{"38": 38, " 38": 38, "37.6": 38, "-5": 0, "9999999999": 0, "x": 0} {
		evs := []store.Event{{Event: ivr.Event{Kind: ivr.EventVoicemailDone}}}
		attachRecording(evs, "https://api.twilio.com/rec/RE1", in)
		if evs[0].Recording == nil || evs[0].Recording.DurationSeconds != want {
			t.Errorf("RecordingDuration %q: recording %+v, want %d s", in, evs[0].Recording, want)
		}
	}
}
