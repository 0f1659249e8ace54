package server

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/testutil"
)

// A status or hangup callback with an odd duration keeps everything else
// (status, hangup cause, end time), is answered 200, never 503 (which would
// make the provider retry a poison callback for nothing), and the duration
// is stored cleaned up or as unknown, with a log line saying so.
func TestStatusCallbackOddDurations(t *testing.T) {
	cases := []struct {
		value string
		want  int
		note  bool
	}{
		{"42", 42, false},
		{" 5", 5, true},
		{"7 ", 7, true},
		{"3.5", 4, true},
		{"-5", 0, true},
		{"abc", 0, true},
		{"NaN", 0, true},
		{"1e400", 0, true},
		{"9999999999", 0, true},
		{"2147483648", 0, true},
		{"99999999999999999999999", 0, true},
	}
	for _, p := range []string{"twilio", "plivo"} {
		var logs testutil.Buffer
		app := newTestApp(t, withLogTo(&logs))
		path, idKey, durKey, causeKey := "/twilio/status", "CallSid", "CallDuration", "ErrorCode"
		if p == "plivo" {
			path, idKey, durKey, causeKey = "/plivo/hangup", "CallUUID", "Duration", "HangupCause"
		}
		for i, c := range cases {
			id := p + "-odd-" + string(rune('a'+i))
			form := callForm(p)
			form.Set(idKey, id)
			form.Set("CallStatus", "completed")
			form.Set(durKey, c.value)
			form.Set(causeKey, "NORMAL_CLEARING")
			before := time.Now().UTC()
			w := app.serve(app.request(p, http.MethodPost, path, form))
			if w.Code != http.StatusOK {
				t.Errorf("%s duration %q: HTTP %d, want 200: %s", p, c.value, w.Code, w.Body.String())
				continue
			}
			call, err := app.db.GetCall(context.Background(), p, id)
			if err != nil {
				t.Errorf("%s duration %q: the callback was not stored: %v", p, c.value, err)
				continue
			}
			if call.Status != "completed" || call.HangupCause != "NORMAL_CLEARING" || call.EndedAt == nil {
				t.Errorf("%s duration %q: stored status %q, cause %q, ended %v; want the whole callback",
					p, c.value, call.Status, call.HangupCause, call.EndedAt)
			}
			if call.DurationSeconds != c.want {
				t.Errorf("%s duration %q: stored %d, want %d", p, c.value, call.DurationSeconds, c.want)
			}
			if call.StartedAt.After(before.Add(time.Second)) || call.StartedAt.Before(before.Add(-8*24*time.Hour)) {
				t.Errorf("%s duration %q: start time %s (callback at %s)", p, c.value, call.StartedAt, before)
			}
			logged := strings.Contains(logs.String(), `adjusted="duration \"`+c.value)
			if logged != c.note {
				t.Errorf("%s duration %q: adjustment logged = %v, want %v\n%s", p, c.value, logged, c.note, logs.String())
			}
		}
	}
}
