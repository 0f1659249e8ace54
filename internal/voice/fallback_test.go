package voice

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/carrier"
	"github.com/ivr-project/ivr/internal/httpobs"
	"github.com/ivr-project/ivr/internal/xml"
)

// TestDeadlineHandlerGaveUp: a handler that sees its deadline pass and
// returns without an answer (the fallback is the deadline's to write) gets
// the fallback, also when it returns before the deadline's own goroutine has
// run; it once got an empty 200 then.
func TestDeadlineHandlerGaveUp(t *testing.T) {
	twilio, _, err := NewProviders(xml.FallbackConfig{Number: "+15551230000"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	metrics := httpobs.NewMetrics(func() float64 { return 0 }, func() float64 { return 0 })
	f := NewFailer(twilio, slog.New(slog.DiscardHandler), metrics, false, nil, nil)
	h := f.Deadline(time.Millisecond)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // gives up at the deadline, answering nothing
	}))
	for i := range 300 {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/twilio/voice", nil))
		if w.Header().Get(carrier.HeaderFallback) != "deadline" || w.Body.String() != string(twilio.Fallback()) {
			t.Fatalf("request %d: got %d %q, want the deadline's fallback", i, w.Code, w.Body.String())
		}
	}
}

// TestDeadlineContext: the handler's context says when its deadline is
// (lookups leave their margin from it) and, once it has passed, ends with
// context.DeadlineExceeded and the cause errDeadline, in a lookup's context
// made from it too.
func TestDeadlineContext(t *testing.T) {
	twilio, _, err := NewProviders(xml.FallbackConfig{Number: "+15551230000"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	metrics := httpobs.NewMetrics(func() float64 { return 0 }, func() float64 { return 0 })
	f := NewFailer(twilio, slog.New(slog.DiscardHandler), metrics, false, nil, nil)
	const d = 20 * time.Millisecond
	var start, deadline time.Time
	var ok bool
	var errBefore, errAfter, cause, childCause error
	h := f.Deadline(d)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		deadline, ok = ctx.Deadline()
		errBefore = ctx.Err()
		child, cancel := context.WithDeadline(ctx, deadline.Add(time.Hour))
		defer cancel()
		<-child.Done()
		errAfter, cause, childCause = ctx.Err(), context.Cause(ctx), context.Cause(child)
	}))
	start = time.Now()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/twilio/voice", nil))
	if !ok || deadline.Before(start.Add(d)) || deadline.After(time.Now()) {
		t.Errorf("Deadline() = %v, %v; want about %v", deadline, ok, start.Add(d))
	}
	if errBefore != nil || errAfter != context.DeadlineExceeded {
		t.Errorf("Err() = %v before the deadline, %v after; want nil, context.DeadlineExceeded", errBefore, errAfter)
	}
	if cause != errDeadline || childCause != errDeadline {
		t.Errorf("Cause = %v, in a child %v; want errDeadline", cause, childCause)
	}
	if w.Header().Get(carrier.HeaderFallback) != "deadline" {
		t.Errorf("got %d %q, want the deadline's fallback", w.Code, w.Body.String())
	}
}
