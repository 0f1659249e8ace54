package server

import (
	"net/http/httptest"
	"strings"
	"testing"

	promtest "github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ivr-project/ivr/internal/testutil"
)

// TestVectorsThroughRouter replays every signed vector through the whole
// application (server.New): valid ones are answered by their handler (no
// refusal, no fallback), forged ones are refused and counted.
func TestVectorsThroughRouter(t *testing.T) {
	vs := testutil.LoadVectors(t)
	for _, v := range vs.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			a := newTestApp(t, func(d *Deps) {
				d.Config.PublicURL = vs.Tokens.PublicBase
				d.Config.TwilioTokens = []string{vs.Tokens.Twilio, vs.Tokens.TwilioSecondary}
				d.Config.PlivoToken = vs.Tokens.Plivo
				d.Config.PlivoMasterToken = vs.Tokens.PlivoMaster
			})
			target := strings.TrimPrefix(v.URL, vs.Tokens.PublicBase)
			r := httptest.NewRequest(v.Method, target, strings.NewReader(v.Body))
			for k, val := range v.Headers {
				r.Header.Set(k, val)
			}
			w := a.serve(r)
			if w.Code != 200 {
				t.Fatalf("status %d: %s", w.Code, w.Body.String())
			}
			provider := strings.SplitN(v.Provider, "-", 2)[0]
			refused := promtest.CollectAndCount(a.deps.Metrics.Refused)
			if v.Valid {
				if refused != 0 {
					t.Fatalf("valid vector refused: %s", w.Body.String())
				}
				if n := promtest.CollectAndCount(a.deps.Metrics.Fallbacks); n != 0 {
					t.Fatalf("valid vector answered with the fallback: %s", w.Body.String())
				}
				return
			}
			if refused != 1 {
				t.Fatalf("forged vector not refused (%d refusals): %s", refused, w.Body.String())
			}
			if strings.Contains(v.URL, "/voice") {
				assertFallback(t, provider, w)
			}
		})
	}
}
