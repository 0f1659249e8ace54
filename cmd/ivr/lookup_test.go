package main

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/config"
	"github.com/ivr-project/ivr/internal/ivr"
	"github.com/ivr-project/ivr/internal/testutil"
)

func TestDemoAPIAddress(t *testing.T) {
	local := config.Config{}
	for addr, want := range map[string]string{
		"0.0.0.0:8080":  "http://127.0.0.1:8080/demo",
		"[::]:9000":     "http://127.0.0.1:9000/demo",
		"127.0.0.1:81":  "http://127.0.0.1:81/demo",
		"[::1]:82":      "http://[::1]:82/demo",
		"10.1.2.3:8080": "http://10.1.2.3:8080/demo",
	} {
		a, err := net.ResolveTCPAddr("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := demoAPI(local, a); got != want {
			t.Errorf("%s: %q, want %q", addr, got, want)
		}
	}
	a, _ := net.ResolveTCPAddr("tcp", "127.0.0.1:8080")
	if got := demoAPI(config.Config{Production: true}, a); got != "" {
		t.Errorf("production: %q", got)
	}
}

func TestFlowSecretsChecked(t *testing.T) {
	f, err := ivr.Parse("f.yaml", []byte(`
name: S
entry: main
requests:
  crm:
    url: "https://crm.example.com/x"
    headers: {Authorization: "Bearer {{secret.CRM_TOKEN}}"}
    save: {s: status}
menus:
  main:
    greeting: "Hi."
    options:
      "1": [{fetch: crm, on_error: hangup}, {say: "{{s}}"}]
`))
	if err != nil {
		t.Fatal(err)
	}
	var logs testutil.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	unset := config.Config{Secrets: config.NewSecrets(func(string) string { return "" })}
	if err := checkSecrets(unset, f, logger); err != nil || !strings.Contains(logs.String(), "IVR_SECRET_CRM_TOKEN") {
		t.Fatalf("local mode warns: %v %s", err, logs.String())
	}
	unset.Production = true
	if err := checkSecrets(unset, f, logger); err == nil || !strings.Contains(err.Error(), "IVR_SECRET_CRM_TOKEN") {
		t.Fatalf("production refuses: %v", err)
	}
	set := config.Config{Production: true, Secrets: config.NewSecrets(func(k string) string {
		return map[string]string{"IVR_SECRET_CRM_TOKEN": "tok"}[k]
	})}
	if err := checkSecrets(set, f, logger); err != nil {
		t.Fatal(err)
	}
}

// TestSimulateRunsLookups: `ivr simulate` against the real server on the
// bundled example flow, with no configuration beyond the provider tokens:
// the number called starts at the account menu, and the account lookup asks
// the server's own demo API over HTTP. The call record shows the lookup's
// outcome, and the server's log names no account number and no URL path.
func TestSimulateRunsLookups(t *testing.T) {
	env := simEnv()
	base, _, serverLog := startServer(t, env)
	for _, provider := range simProviders {
		t.Run(provider, func(t *testing.T) {
			to := map[string]string{"twilio": "+15550100001", "plivo": "15550100001"}[provider]
			out, id, err := simulateCall(t, env, base, provider, "--to", to, "--digits", "123456#",
				"--expect-say", "The balance of account 1 2 3 4 5 6 is 42.50 dollars.")
			if err != nil {
				t.Fatalf("%v\n%s\nserver log:\n%s", err, out, tail(serverLog.String(), 20))
			}
			out, _, err = simulateCall(t, env, base, provider, "--to", to, "--digits", "345678#", "--expect", "hangup",
				"--expect-say", "This account is suspended. We will call you back; your reference is ")
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			rec := listCalls(t, base)[provider+"/"+id]
			var actions []string
			for _, e := range rec.Events {
				actions = append(actions, e.Action)
			}
			if !strings.Contains(strings.Join(actions, "\n"), "fetch account: ok, HTTP 200, ") {
				t.Fatalf("the call record lacks the lookup: %q", actions)
			}
		})
	}
	noFallbacks(t, base)
	if !strings.Contains(serverLog.String(), "IVR_STATE_KEY is not set: call state is sealed with a key made for this process") {
		t.Errorf("local mode without IVR_STATE_KEY does not say so:\n%s", tail(serverLog.String(), 20))
	}
	if strings.Contains(serverLog.String(), "/demo/accounts/") || strings.Contains(serverLog.String(), "345678") {
		t.Fatalf("the server log holds a lookup's URL or the account number:\n%s", serverLog.String())
	}
}

// TestREADMELookupExample runs the README's complete lookup example
// against the demo API: checked, served, and called on both providers.
func TestREADMELookupExample(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	start := strings.Index(s, "```yaml\nname: Account line")
	if start < 0 {
		t.Fatal("README has no lookup example (```yaml block starting with name: Account line)")
	}
	s = s[start+len("```yaml\n"):]
	flow := filepath.Join(t.TempDir(), "account.yaml")
	if err := os.WriteFile(flow, []byte(s[:strings.Index(s, "```")]), 0o600); err != nil {
		t.Fatal(err)
	}
	env := simEnv()
	env["IVR_FLOW"] = flow
	env["IVR_SECRET_CRM_TOKEN"] = "demo-token"
	base, _, serverLog := startServer(t, env)
	for _, provider := range simProviders {
		for digits, says := range map[string]string{
			"123456#": "You owe 42.50 dollars.",
			"234567#": "Nothing to pay. Thank you!",
			"345678#": "We will call you back. Your reference is ",
			"999999#": "We cannot look that up now.",
		} {
			out, _, err := simulateCall(t, env, base, provider, "--digits", digits, "--expect-say", says)
			if err != nil {
				t.Fatalf("%s %s: %v\n%s\nserver log:\n%s", provider, digits, err, out, tail(serverLog.String(), 20))
			}
		}
	}
	noFallbacks(t, base)
	if strings.Contains(serverLog.String(), "demo-token") {
		t.Fatal("the server logged the secret")
	}
}

// TestSecretFileRotation: the server re-reads IVR_SECRET_NAME_FILE as often
// as it looks at the flow file, so a rotated secret needs no restart.
func TestSecretFileRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, []byte("old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	secrets := config.NewSecrets(func(k string) string { return map[string]string{"IVR_SECRET_CRM_TOKEN_FILE": path}[k] })
	if v, _ := secrets.Get("CRM_TOKEN"); v != "old" {
		t.Fatalf("secret = %q", v)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		refreshSecrets(ctx, secrets, 5*time.Millisecond)
	}()
	t.Cleanup(func() { cancel(); <-done })
	if err := os.WriteFile(path, []byte("new\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, "the rotated secret", func() bool {
		v, _ := secrets.Get("CRM_TOKEN")
		return v == "new"
	})
}
