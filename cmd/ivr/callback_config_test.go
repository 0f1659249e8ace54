package main

import (
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/ivr-project/ivr/internal/config"
	"github.com/ivr-project/ivr/internal/ivr"
	"github.com/ivr-project/ivr/internal/testutil"
)

// Production refuses a flow with callback until the REST credentials of
// every enabled provider are set; local mode warns.
func TestFlowCallbackNeedsCredentials(t *testing.T) {
	f, err := ivr.Parse("f.yaml", []byte("entry: main\nmenus:\n  main:\n    greeting: hi\n    options:\n      \"9\": callback\n"))
	if err != nil {
		t.Fatal(err)
	}
	load := func(env map[string]string) config.Config {
		t.Helper()
		cfg, err := config.Load(func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	var logs testutil.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	tokens := map[string]string{"TWILIO_AUTH_TOKEN": "t", "PLIVO_AUTH_TOKEN": "p"}
	cfg := load(tokens)
	if err := checkSecrets(cfg, f, logger); err != nil || !strings.Contains(logs.String(), "TWILIO_ACCOUNT_SID") || !strings.Contains(logs.String(), "PLIVO_AUTH_ID") {
		t.Fatalf("local mode warns: %v %s", err, logs.String())
	}
	cfg.Production = true
	if err := checkSecrets(cfg, f, logger); err == nil || !strings.Contains(err.Error(), "TWILIO_ACCOUNT_SID") {
		t.Fatalf("production refuses a flow with callback without credentials: %v", err)
	}
	tokens["TWILIO_ACCOUNT_SID"], tokens["PLIVO_AUTH_ID"] = "AC1", "MA1"
	cfg = load(tokens)
	cfg.Production = true
	if err := checkSecrets(cfg, f, logger); err != nil {
		t.Fatalf("with credentials: %v", err)
	}
	tokens["IVR_PROVIDERS"] = "plivo"
	delete(tokens, "TWILIO_ACCOUNT_SID")
	cfg = load(tokens)
	cfg.Production = true
	if err := checkSecrets(cfg, f, logger); err != nil {
		t.Fatalf("twilio disabled needs no twilio credentials: %v", err)
	}
	plain, _ := ivr.Parse("g.yaml", []byte("entry: main\nmenus:\n  main:\n    greeting: hi\n    options:\n      \"1\": hangup\n"))
	if err := checkSecrets(load(nil), plain, logger); err != nil || plain.UsesCallback() {
		t.Fatalf("a flow without callback: %v", err)
	}
}

func TestCallbackFromChecked(t *testing.T) {
	_, err := config.Load(func(k string) string {
		return map[string]string{"IVR_CALLBACK_FROM": "555-1234", "IVR_PLIVO_API_URL": "api.plivo.com"}[k]
	})
	if err == nil || !strings.Contains(err.Error(), "IVR_CALLBACK_FROM") || !strings.Contains(err.Error(), "IVR_PLIVO_API_URL") {
		t.Fatalf("bad outbound settings: %v", err)
	}
}

// TestREADMEHandoffExample keeps the README's hand-off example true.
func TestREADMEHandoffExample(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	start := strings.Index(s, "```yaml\nmenus:\n  main:\n    greeting: \"For billing, press 0. To be called back, press 9.\"")
	if start < 0 {
		t.Fatal("README has no hand-off example")
	}
	s = s[start+len("```yaml\n"):]
	f, err := ivr.Parse("README.md hand-off example", []byte("entry: main\n"+s[:strings.Index(s, "```")]))
	if err != nil {
		t.Fatal(err)
	}
	if !f.UsesCallback() {
		t.Error("the example has no callback")
	}
}

// TestSimulateWhisper: `ivr simulate` plays the agent's side of the
// example's whisper transfer (support, 4) on both providers: the agent hears
// the whisper, --agent 1 takes the call; agents who decline move the call
// to the next number, then to the callback, which is stored.
func TestSimulateWhisper(t *testing.T) {
	env := simEnv()
	base, _, serverLog := startServer(t, env)
	for _, provider := range simProviders {
		t.Run(provider, func(t *testing.T) {
			out, _, err := simulateCall(t, env, base, provider, "--digits", "2,4", "--agent", "1", "--expect", "transfer")
			if err != nil {
				t.Fatalf("accept: %v\n%s\nserver log:\n%s", err, out, tail(serverLog.String(), 20))
			}
			for _, want := range []string{"agent hears: Support call from 1 4 1 5 5 5 5 0 1 0 0.", "agent presses", "[the agent takes the call]", "[dial completed]"} {
				if !strings.Contains(out, want) {
					t.Errorf("accept: no %q in\n%s", want, out)
				}
			}
			out, _, err = simulateCall(t, env, base, provider, "--digits", "2,4,1", "--agent", "2,", "--expect", "hangup",
				"--expect-say", "We will call you back at 1 4 1 5 5 5 5 0 1 0 0")
			if err != nil {
				t.Fatalf("decline: %v\n%s", err, out)
			}
			if strings.Count(out, "[dial no-answer]") != 2 || !strings.Contains(out, "sip:support@pbx.example.com") {
				t.Errorf("decline: want both numbers rung and declined:\n%s", out)
			}
		})
	}
}
