package main

import (
	"strings"
	"testing"

	"github.com/ivr-project/ivr/internal/config"
)

// A fresh checkout: `ivr` then `ivr simulate` with no token anywhere (no
// .env) reaches the flow on both providers, the server and the simulator
// sharing the development tokens; the server says so once at start.
func TestSimulateWithoutTokensReachesTheFlow(t *testing.T) {
	base, stop, stderr := startServer(t, nil)
	defer stop()
	for _, p := range simProviders {
		out, _, err := simulateCall(t, nil, base, p, "--digits", "1", "--expect", "caller-hangup", "--expect-say", billingGreet)
		if err != nil || strings.Contains(out, "FALLBACK") || !strings.Contains(out, billingGreet) {
			t.Errorf("%s without tokens: err %v, transcript:\n%s", p, err, out)
		}
	}
	if n := strings.Count(stderr.String(), config.DevTokenNotice); n != 1 {
		t.Errorf("the server should say %q once at start, said it %d times:\n%s", config.DevTokenNotice, n, stderr.String())
	}
	if strings.Contains(stderr.String(), config.DevTwilioToken) || strings.Contains(stderr.String(), config.DevPlivoToken) {
		t.Errorf("the log shows a token:\n%s", stderr.String())
	}
}
