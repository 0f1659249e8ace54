package store

import (
	"fmt"
	"testing"
	"time"
)

// A duration that cannot be a call's length is stored as unknown, the same
// way on SQLite and PostgreSQL (whose INTEGER column holds 32 bits): the
// status is stored, never refused, and the start time stays sane.
func TestUpdateStatusOddDuration(t *testing.T) {
	forEachStore(t, func(t *testing.T, newDSN newDSN) {
		d := openT(t, newDSN(t))
		ctx := ctxT(t)
		for _, c := range []struct {
			id   string
			dur  int
			want int
		}{
			{"ok", 90, 90},
			{"max", MaxDurationSeconds, MaxDurationSeconds},
			{"int32", 1 << 31, 0},
			{"huge", 9999999999, 0},
			{"negative", -5, 0},
		} {
			u := StatusUpdate{Provider: "twilio", CallID: c.id, Status: "completed", Final: true, At: at(0),
				DurationSeconds: c.dur, HangupCause: "normal"}
			if err := d.UpdateStatus(ctx, u); err != nil {
				t.Errorf("%s (%d s): %v", c.id, c.dur, err)
				continue
			}
			call, err := d.GetCall(ctx, "twilio", c.id)
			if err != nil {
				t.Fatal(err)
			}
			if call.DurationSeconds != c.want || call.Status != "completed" || call.HangupCause != "normal" {
				t.Errorf("%s: stored duration %d status %q cause %q, want %d completed normal",
					c.id, call.DurationSeconds, call.Status, call.HangupCause, c.want)
			}
			wantStart := at(0).Add(-time.Duration(c.want) * time.Second)
			if !call.StartedAt.Equal(wantStart) {
				t.Errorf("%s: started at %s, want %s", c.id, call.StartedAt, wantStart)
			}
		}
	})
}

// A voicemail's recording duration that cannot be a recording's length is
// stored as unknown, the same on both databases: the call's events are
// written, never refused (an event batch the store refuses would be
// retried for nothing).
func TestVoicemailOddDuration(t *testing.T) {
	forEachStore(t, func(t *testing.T, newDSN newDSN) {
		d := openT(t, newDSN(t))
		ctx := ctxT(t)
		for i, dur := range []int{1 << 31, 9999999999, -5} {
			id := fmt.Sprintf("CAvm%d", i)
			vm := Event{Event: legacyEvent(at(i), "main", "", "voicemail done"),
				Recording: &Recording{URL: "https://api.twilio.com/rec/" + id, DurationSeconds: dur}}
			if err := d.AddEvents(ctx, "twilio", id, "+1", "+2", []Event{vm}); err != nil {
				t.Errorf("recording of %d s: %v", dur, err)
			}
		}
		vms, err := d.ListVoicemails(ctx, VoicemailFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(vms) != 3 {
			t.Fatalf("%d voicemails stored, want 3", len(vms))
		}
		for _, v := range vms {
			if v.DurationSeconds != 0 {
				t.Errorf("%s: duration %d stored, want 0 (unknown)", v.CallID, v.DurationSeconds)
			}
		}
	})
}
