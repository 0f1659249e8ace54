package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/ivr"
	"github.com/ivr-project/ivr/internal/store"
	"github.com/ivr-project/ivr/internal/testutil"
)

// outboxEvents polls the outbox until it holds want events of typ (the
// writer stores call events in the background), and returns them.
func outboxEvents(t *testing.T, db *store.DB, typ string, want int) []store.OutboxEvent {
	t.Helper()
	var evs []store.OutboxEvent
	testutil.Eventually(10*time.Second, func() bool {
		var err error
		evs, err = db.ListOutbox(context.Background(), store.OutboxListOptions{Type: typ})
		if err != nil {
			t.Fatal(err)
		}
		return len(evs) >= want
	})
	return evs
}

func eventData(t *testing.T, e store.OutboxEvent) map[string]any {
	t.Helper()
	var p struct{ Data map[string]any }
	if err := json.Unmarshal(e.Payload, &p); err != nil {
		t.Fatal(err)
	}
	return p.Data
}

// Status callbacks late, twice and out of order, through the real routes:
// the stored status follows the provider's timestamps, a status after the
// final one does not reopen the call, and there is one call.completed.
func TestStatusCallbacksDuplicateAndOutOfOrder(t *testing.T) {
	app := newTestApp(t)
	app.db.EnableOutbox()
	base := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	post := func(status string, sec int, extra url.Values) {
		t.Helper()
		form := url.Values{"CallSid": {"CA1"}, "From": {"+14155550100"}, "To": {"+14155550199"},
			"CallStatus": {status}, "Timestamp": {base.Add(time.Duration(sec) * time.Second).Format(time.RFC1123Z)},
			"SequenceNumber": {strconv.Itoa(sec)}}
		for k, v := range extra {
			form[k] = v
		}
		if w := app.serve(app.request("twilio", http.MethodPost, "/twilio/status", form)); w.Code != http.StatusOK {
			t.Fatalf("%s: HTTP %d", status, w.Code)
		}
	}
	status := func() string {
		c, err := app.db.GetCall(context.Background(), "twilio", "CA1")
		if err != nil {
			t.Fatal(err)
		}
		return c.Status
	}
	post("in-progress", 5, nil)
	post("ringing", 1, nil) // sent before in-progress, arrived after
	if s := status(); s != "in-progress" {
		t.Fatalf("status after a late ringing = %q, want in-progress", s)
	}
	post("completed", 65, url.Values{"CallDuration": {"60"}})
	post("completed", 65, url.Values{"CallDuration": {"60"}}) // Twilio retries
	post("in-progress", 6, nil)
	if s := status(); s != "completed" {
		t.Fatalf("status after a late in-progress = %q, want completed", s)
	}
	evs := outboxEvents(t, app.db, store.EventCallCompleted, 1)
	if len(evs) != 1 {
		t.Fatalf("call.completed events = %d, want 1", len(evs))
	}
	d := eventData(t, evs[0])
	if d["status"] != "completed" || d["provider_timestamp"] != base.Add(65*time.Second).Format(time.RFC3339) || d["sequence"] != 1.0 ||
		d["provider_sequence"] != 65.0 {
		t.Errorf("call.completed data = %v", d)
	}

	// Plivo's hangup callback, twice: one call.completed (status callbacks
	// are stored before their 200, so no waiting).
	form := url.Values{"CallUUID": {"u-1"}, "From": {"14155550100"}, "To": {"14155550199"}, "CallStatus": {"completed"},
		"EndTime": {"2026-05-01 10:01:00"}, "Duration": {"30"}}
	for range 2 {
		if w := app.serve(app.request("plivo", http.MethodPost, "/plivo/hangup", form)); w.Code != http.StatusOK {
			t.Fatalf("plivo hangup: HTTP %d", w.Code)
		}
	}
	if evs := outboxEvents(t, app.db, store.EventCallCompleted, 0); len(evs) != 2 {
		t.Fatalf("call.completed events after two Plivo hangups = %d, want 2 (one per call)", len(evs))
	}
}

// A recording reaching the voicemail-done action becomes voicemail.created,
// with the recording's URL.
func TestVoicemailCreatedEvent(t *testing.T) {
	app := newTestApp(t)
	app.db.EnableOutbox()
	form := callForm("twilio")
	form.Set("RecordingUrl", "https://api.twilio.com/rec/RE1")
	form.Set("RecordingDuration", "12")
	w := app.serve(app.request("twilio", http.MethodPost, "/twilio/voice/"+ivr.PathVoicemailDone, form))
	if w.Code != http.StatusOK {
		t.Fatalf("HTTP %d", w.Code)
	}
	evs := outboxEvents(t, app.db, store.EventVoicemailCreated, 1)
	if len(evs) != 1 {
		t.Fatalf("voicemail.created events = %d, want 1\n%s", len(evs), w.Body)
	}
	d := eventData(t, evs[0])
	if d["recording_url"] != "https://api.twilio.com/rec/RE1" || d["recording_duration_seconds"] != 12.0 || d["from"] != "+14155550100" {
		t.Errorf("voicemail.created data = %v", d)
	}
}

// A fallback on a verified call is recorded with its call.fallback event; a
// forged request records nothing.
func TestCallFallbackEvent(t *testing.T) {
	app := newTestApp(t, func(d *Deps) {
		d.Render = func(string, string, []ivr.Step) ([]byte, error) { return nil, errors.New("renderer broken") }
	})
	app.db.EnableOutbox()
	forged := app.request("twilio", http.MethodPost, "/twilio/voice", url.Values{"CallSid": {"CAforged"}})
	forged.Header.Set("X-Twilio-Signature", "bm9wZQ==")
	app.serve(forged)
	w := app.serve(app.request("twilio", http.MethodPost, "/twilio/voice/menu/main", callForm("twilio")))
	if w.Code != http.StatusOK {
		t.Fatalf("HTTP %d", w.Code)
	}
	evs := outboxEvents(t, app.db, store.EventCallFallback, 1)
	if len(evs) != 1 {
		t.Fatalf("call.fallback events = %d, want 1", len(evs))
	}
	d := eventData(t, evs[0])
	if d["reason"] != "render" || d["call_id"] != "CA0123456789abcdef0123456789abcdef" || d["menu"] != "main" {
		t.Errorf("call.fallback data = %v", d)
	}
	if _, err := app.db.GetCall(context.Background(), "twilio", "CAforged"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a forged request was stored: %v", err)
	}
}
