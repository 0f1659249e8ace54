package voice

import (
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
