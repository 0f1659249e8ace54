package store

import (
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
