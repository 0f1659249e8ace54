package lookup

import (
	"context"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/ivr"
	"github.com/ivr-project/ivr/internal/testutil"
)

// Each outcome gives the flow's on_error the failure the contract names.
func TestDoFailure(t *testing.T) {
	srv := api(t)
	c := New(Options{})
	cases := []struct {
		name string
		l    Lookup
		want ivr.Failure
	}{
		{"ok", Lookup{URL: srv.URL + "/accounts/123456"}, ""},
		{"404", Lookup{URL: srv.URL + "/accounts/999"}, ivr.FailNotFound},
		{"429", Lookup{URL: srv.URL + "/status/429"}, ivr.FailRefused},
		{"500", Lookup{URL: srv.URL + "/status/500"}, ivr.FailUnavailable},
		{"302", Lookup{URL: srv.URL + "/status/302"}, ivr.FailBadAnswer},
		{"timeout", Lookup{URL: srv.URL + "/slow", Timeout: 20 * time.Millisecond}, ivr.FailTimeout},
		{"refused connection", Lookup{URL: "http://" + testutil.ClosedAddr(t) + "/x"}, ivr.FailUnavailable},
		{"bad json", Lookup{URL: srv.URL + "/text/html"}, ivr.FailBadAnswer},
		{"too large", Lookup{URL: srv.URL + "/big"}, ivr.FailBadAnswer},
		{"missing field", Lookup{URL: srv.URL + "/accounts/123456", Save: map[string]string{"x": "account.nothing"}}, ivr.FailBadAnswer},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.l.Request = "f_" + tc.name
			o := c.Do(context.Background(), tc.l)
			if o.Result.Failure != tc.want {
				t.Fatalf("failure %q (kind %s, status %d), want %q", o.Result.Failure, o.Kind, o.Status, tc.want)
			}
		})
	}
	t.Run("breaker open", func(t *testing.T) {
		c := New(Options{Failures: 1, OpenFor: time.Hour})
		l := Lookup{Request: "down", URL: srv.URL + "/status/500"}
		c.Do(context.Background(), l)
		o := c.Do(context.Background(), l)
		if o.Kind != KindBreakerOpen || o.Result.Failure != ivr.FailUnavailable {
			t.Fatalf("kind %s failure %q, want breaker_open and unavailable", o.Kind, o.Result.Failure)
		}
	})
	t.Run("no time left", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if o := c.Do(ctx, Lookup{Request: "late", URL: srv.URL + "/accounts/123456"}); o.Result.Failure != ivr.FailTimeout {
			t.Fatalf("failure %q, want timeout", o.Result.Failure)
		}
	})
}
