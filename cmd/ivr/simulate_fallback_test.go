package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// `ivr simulate` says plainly when the server answered with its fallback
// (and why) and fails, instead of reporting a transfer; and --url takes a
// bare base URL as the provider's answer URL on it.
func TestSimulateReportsTheFallback(t *testing.T) {
	base, stop, _ := startServer(t, simEnv())
	defer stop()
	for _, p := range simProviders {
		// A wrong token on the simulator's side: the server refuses the signature.
		wrong := simEnv()
		wrong["TWILIO_AUTH_TOKEN"], wrong["PLIVO_AUTH_TOKEN"] = "not-the-servers-token", "not-the-servers-token"
		out, _, err := simulateCall(t, wrong, base, p, "--digits", "1")
		if err == nil {
			t.Errorf("%s wrong token: simulate succeeded:\n%s", p, out)
		}
		if !strings.Contains(out, "FALLBACK (reason: bad_signature)") || !strings.Contains(out, "same token") {
			t.Errorf("%s wrong token: the transcript does not say the fallback answered, and why:\n%s", p, out)
		}
		// A URL that is not a route: the fallback for not_found.
		var stdout, stderr bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		env := simEnv()
		err = run(ctx, []string{"ivr", "simulate", "--provider", p, "--digits", "1", "--url", base + "/" + p + "/voic"},
			testEnv(t, env), nil, &stdout, &stderr)
		cancel()
		if err == nil || !strings.Contains(stdout.String(), "FALLBACK (reason: not_found)") {
			t.Errorf("%s wrong path: err %v, transcript:\n%s", p, err, stdout.String())
		}
		// A bare base URL: the answer URL on it, the flow plays.
		for _, u := range []string{base, base + "/"} {
			stdout.Reset()
			stderr.Reset()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			err = run(ctx, []string{"ivr", "simulate", "--provider", p, "--digits", "hangup", "--expect", "caller-hangup", "--url", u},
				testEnv(t, env), nil, &stdout, &stderr)
			cancel()
			if err != nil || strings.Contains(stdout.String(), "FALLBACK") || !strings.Contains(stdout.String(), "/"+p+"/voice") {
				t.Errorf("%s --url %s: err %v, transcript:\n%s%s", p, u, err, stdout.String(), stderr.String())
			}
		}
	}
}
