package voice

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/config"
	"github.com/ivr-project/ivr/internal/httpobs"
	"github.com/ivr-project/ivr/internal/ivr"
	"github.com/ivr-project/ivr/internal/testutil"
)

// TestLookupMarginFromTheDeadline: the lookups leave their margin before
// the voice deadline itself (the handler's context), not after the call's
// Now: time spent before the step began (a request waiting for a CPU under
// load) must not come out of the time left to answer on_error.
func TestLookupMarginFromTheDeadline(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // never answers
	}))
	defer api.Close()
	flow := testutil.MustParse(t, ivr.Parse, `entry: main
call_center: "+15551230000"
requests:
  slow: {url: "`+api.URL+`/slow", timeout: 10s, save: {x: x}}
menus:
  main:
    greeting: "Press 1."
    options:
      "1":
        - fetch: slow
          on_error: [{say: "Lookup failed."}, hangup]
`)
	const deadline = 2 * time.Second // margin: 250ms
	metrics := httpobs.NewMetrics(func() float64 { return 0 }, func() float64 { return 0 })
	lk, err := NewLookups(LookupDeps{Config: config.Config{VoiceDeadline: deadline}, Logger: slog.New(slog.DiscardHandler), Metrics: metrics})
	if err != nil {
		t.Fatal(err)
	}
	// The webhook's deadline began 1.5s before the step did.
	start := time.Now()
	ctx, cancel := context.WithDeadlineCause(context.Background(), start.Add(deadline-1500*time.Millisecond), errDeadline)
	defer cancel()
	req := ivr.Request{Call: ivr.Call{Provider: "twilio", ID: "CA1", Now: start}, Path: "menu/main",
		Query: url.Values{"attempt": {"1"}}, Input: ivr.Input{Digits: "1"}}
	lk.prepare(&req)
	res, ran, err := lk.step(ctx, flow, req)
	if errors.Is(err, errDeadline) {
		t.Fatal("the lookup ran into the deadline: its margin was counted from the step's start")
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(ran) != 1 || ran[0].o.Kind != "timeout" {
		t.Fatalf("lookups: %+v", ran)
	}
	var said []string
	for _, s := range res.Steps {
		if say, ok := s.(ivr.Say); ok {
			said = append(said, say.Text)
		}
	}
	if !strings.Contains(strings.Join(said, "|"), "Lookup failed.") {
		t.Fatalf("want on_error's prompt, got steps %+v", res.Steps)
	}
}
