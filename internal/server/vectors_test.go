package server

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// vectorsFile holds webhook requests signed by the providers' own SDKs; the
// copy in testdata/vectors is public data kept with the repository.
const vectorsFile = "../../testdata/vectors/signatures.json"

type vectorSet struct {
	Tokens struct {
		Twilio          string `json:"twilio_auth_token"`
		TwilioSecondary string `json:"twilio_auth_token_secondary"`
		Plivo           string `json:"plivo_auth_token"`
		PlivoMaster     string `json:"plivo_master_auth_token"`
		PublicBaseURL   string `json:"public_base_url"`
	} `json:"tokens"`
	Vectors []struct {
		Name     string            `json:"name"`
		Provider string            `json:"provider"`
		Method   string            `json:"method"`
		URL      string            `json:"url"`
		Headers  map[string]string `json:"headers"`
		Body     string            `json:"body"`
		Valid    bool              `json:"valid"`
	} `json:"vectors"`
}

// TestVectorsThroughRouter replays every signed vector through the whole
// application (server.New): valid ones are answered by their handler (no
// refusal, no fallback), forged ones are refused and counted.
func TestVectorsThroughRouter(t *testing.T) {
	raw, err := os.ReadFile(vectorsFile)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("signature vectors missing at %s: %v", vectorsFile, err)
		}
		t.Skipf("!!! SKIPPING: signature vectors missing at %s (%v); CI fails here", vectorsFile, err)
	}
	var vs vectorSet
	if err := json.Unmarshal(raw, &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs.Vectors) == 0 {
		t.Fatal("no vectors")
	}
	for _, v := range vs.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			a := newTestApp(t, func(d *Deps) {
				d.Config.PublicURL = vs.Tokens.PublicBaseURL
				d.Config.TwilioTokens = []string{vs.Tokens.Twilio, vs.Tokens.TwilioSecondary}
				d.Config.PlivoToken = vs.Tokens.Plivo
				d.Config.PlivoMasterToken = vs.Tokens.PlivoMaster
			})
			target := strings.TrimPrefix(v.URL, vs.Tokens.PublicBaseURL)
			r := httptest.NewRequest(v.Method, target, strings.NewReader(v.Body))
			for k, val := range v.Headers {
				r.Header.Set(k, val)
			}
			w := a.serve(r)
			if w.Code != 200 {
				t.Fatalf("status %d: %s", w.Code, w.Body.String())
			}
			provider := strings.SplitN(v.Provider, "-", 2)[0]
			refused := testutil.CollectAndCount(a.deps.Metrics.Refused)
			if v.Valid {
				if refused != 0 {
					t.Fatalf("valid vector refused: %s", w.Body.String())
				}
				if n := testutil.CollectAndCount(a.deps.Metrics.Fallbacks); n != 0 {
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
