package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaultsNeedNoConfiguration(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatalf("no configuration must load: %v", err)
	}
	if c.Addr != ":8080" || c.DatabaseURL != "sqlite:ivr.db" || c.Production || c.LogFormat != "text" {
		t.Fatalf("unexpected defaults: %+v", c)
	}
	if !c.Providers["twilio"] || !c.Providers["plivo"] {
		t.Fatalf("both providers enabled by default: %v", c.Providers)
	}
}

func TestSecretsFromFiles(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "tok")
	if err := os.WriteFile(f, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(env(map[string]string{"TWILIO_AUTH_TOKEN_FILE": f, "PLIVO_AUTH_TOKEN": "plain"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.TwilioTokens) != 1 || c.TwilioTokens[0] != "from-file" || c.PlivoToken != "plain" {
		t.Fatalf("tokens: %q %q", c.TwilioTokens, c.PlivoToken)
	}
	_, err = Load(env(map[string]string{"TWILIO_AUTH_TOKEN_FILE": f, "TWILIO_AUTH_TOKEN": "x"}))
	if err == nil || !strings.Contains(err.Error(), "not both") {
		t.Fatalf("both NAME and NAME_FILE must be refused, got %v", err)
	}
	if strings.Contains(err.Error(), "from-file") {
		t.Fatal("an error printed the secret")
	}
}

func TestProductionRefusesUnsafeSettings(t *testing.T) {
	_, err := Load(env(map[string]string{"IVR_MODE": "production"}))
	if err == nil {
		t.Fatal("production with nothing set must be refused")
	}
	for _, want := range []string{"IVR_CALL_CENTER_NUMBER", "TWILIO_AUTH_TOKEN", "PLIVO_AUTH_TOKEN", "IVR_ADMIN_TOKEN", "IVR_PUBLIC_URL", "IVR_STATE_KEY"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal should say to set %s:\n%v", want, err)
		}
	}
	c, err := Load(env(map[string]string{
		"IVR_MODE": "production", "IVR_CALL_CENTER_NUMBER": "+14155550100", "IVR_PROVIDERS": "twilio",
		"TWILIO_AUTH_TOKEN": "t", "IVR_ADMIN_TOKEN": "a", "IVR_PUBLIC_URL": "https://ivr.example.com/",
		"IVR_STATE_KEY": strings.Repeat("ab", 32),
	}))
	if err != nil {
		t.Fatalf("a safe production configuration must load: %v", err)
	}
	if c.LogFormat != "json" || c.PublicURL != "https://ivr.example.com" {
		t.Fatalf("production: %+v", c)
	}
}

func TestBadValuesSayWhatToWrite(t *testing.T) {
	_, err := Load(env(map[string]string{
		"IVR_CALL_CENTER_NUMBER": "555-1234", "IVR_TRUST_PROXY_HEADERS": "yes please",
		"IVR_VOICE_DEADLINE": "soon", "IVR_TWILIO_ALLOW_CIDRS": "10.0.0.0/33", "IVR_MODE": "prod",
	}))
	if err == nil {
		t.Fatal("bad values must be refused")
	}
	for _, want := range []string{"E.164", "true or false", "duration", "IVR_TWILIO_ALLOW_CIDRS", "local or production"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}

func TestRealEnvironmentWinsOverDotenv(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(path, []byte("IVR_ADDR=:9999\nIVR_FLOW=from-dotenv.yaml\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dot, err := ReadDotenv(path)
	if err != nil {
		t.Fatal(err)
	}
	get := Getenv(env(map[string]string{"IVR_ADDR": ":7777"}), dot)
	if get("IVR_ADDR") != ":7777" || get("IVR_FLOW") != "from-dotenv.yaml" {
		t.Fatalf("layering wrong: %q %q", get("IVR_ADDR"), get("IVR_FLOW"))
	}
	if m, err := ReadDotenv(filepath.Join(t.TempDir(), "missing")); err != nil || len(m) != 0 {
		t.Fatalf("a missing .env is fine: %v %v", m, err)
	}
}

func TestDurations(t *testing.T) {
	for _, tc := range []struct {
		name, v     string
		drain, dead time.Duration
		bad         bool
	}{
		{"defaults", "", 0, 8 * time.Second, false},
		{"drain set", "10s", 10 * time.Second, 8 * time.Second, false},
		{"drain off may be written", "0s", 0, 8 * time.Second, false},
		{"negative drain", "-1s", 0, 8 * time.Second, true},
		{"not a duration", "ten seconds", 0, 8 * time.Second, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vars := map[string]string{"IVR_SHUTDOWN_DRAIN": tc.v}
			c, err := Load(env(vars))
			if tc.bad {
				if err == nil || !strings.Contains(err.Error(), "IVR_SHUTDOWN_DRAIN") {
					t.Fatalf("IVR_SHUTDOWN_DRAIN=%q: error %v, want one naming the variable", tc.v, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.ShutdownDrain != tc.drain || c.VoiceDeadline != tc.dead {
				t.Errorf("drain %s, deadline %s; want %s, %s", c.ShutdownDrain, c.VoiceDeadline, tc.drain, tc.dead)
			}
		})
	}
	// Where the default is not 0, 0 is refused: a 0 voice deadline would fall back on every call.
	if _, err := Load(env(map[string]string{"IVR_VOICE_DEADLINE": "0s"})); err == nil {
		t.Error("IVR_VOICE_DEADLINE=0s accepted")
	}
}

func TestStateKey(t *testing.T) {
	hexKey := strings.Repeat("0f", 32)
	b64Key := "Dw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8="
	for _, k := range []string{hexKey, b64Key} {
		c, err := Load(env(map[string]string{"IVR_STATE_KEY": k}))
		if err != nil || len(c.StateKey) != 32 || c.StateKey[0] != 0x0f {
			t.Fatalf("%s: %v %x", k, err, c.StateKey)
		}
	}
	c, err := Load(env(nil))
	if err != nil || c.StateKey != nil {
		t.Fatalf("local mode without a key: %v %x", err, c.StateKey)
	}
	_, err = Load(env(map[string]string{"IVR_STATE_KEY": "short-secret-value"}))
	if err == nil || !strings.Contains(err.Error(), "IVR_STATE_KEY") || strings.Contains(err.Error(), "short-secret-value") {
		t.Fatalf("a bad key must be refused without printing it: %v", err)
	}
}

func TestFlowSecrets(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "crm")
	if err := os.WriteFile(path, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(env(map[string]string{
		"IVR_SECRET_CRM_TOKEN": "tok-1", "IVR_SECRET_FILED_FILE": path,
		"IVR_SECRET_BOTH": "x", "IVR_SECRET_BOTH_FILE": path,
	}))
	if err != nil {
		t.Fatal(err)
	}
	s := c.Secrets
	if v, ok := s.Get("CRM_TOKEN"); !ok || v != "tok-1" {
		t.Fatalf("CRM_TOKEN: %q %v", v, ok)
	}
	if v, ok := s.Get("FILED"); !ok || v != "from-file" {
		t.Fatalf("FILED: %q %v", v, ok)
	}
	for _, n := range []string{"BOTH", "UNSET", "bad-name", ""} {
		if v, ok := s.Get(n); ok || v != "" {
			t.Fatalf("%s: %q %v", n, v, ok)
		}
	}
	errs := s.Check([]string{"CRM_TOKEN", "BOTH", "UNSET"})
	if len(errs) != 2 || !strings.Contains(errs[0].Error(), "not both") || !strings.Contains(errs[1].Error(), "IVR_SECRET_UNSET") {
		t.Fatalf("check: %v", errs)
	}
	for _, e := range errs {
		if strings.Contains(e.Error(), "from-file") || strings.Contains(e.Error(), "tok-1") {
			t.Fatalf("an error printed a secret: %v", e)
		}
	}
}

func TestWebhookSettings(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil || c.WebhookURL != "" || c.CallCloseAfter != 6*time.Hour || c.WebhookTimeout != 10*time.Second {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	dir := t.TempDir()
	f := filepath.Join(dir, "whsec")
	if err := os.WriteFile(f, []byte("whsec_c2VjcmV0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = Load(env(map[string]string{"IVR_WEBHOOK_URL": "https://hooks.example.com/ivr", "IVR_WEBHOOK_SECRET_FILE": f, "IVR_CALL_CLOSE_AFTER": "2h"}))
	if err != nil || c.WebhookSecret != "whsec_c2VjcmV0" || c.CallCloseAfter != 2*time.Hour {
		t.Fatalf("from a secret file: %+v %v", c, err)
	}
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"IVR_WEBHOOK_URL": "https://h.example/x"}, "set IVR_WEBHOOK_SECRET"},
		{map[string]string{"IVR_WEBHOOK_SECRET": "whsec_c2VjcmV0"}, "IVR_WEBHOOK_URL is not"},
		{map[string]string{"IVR_WEBHOOK_URL": "hooks.example.com", "IVR_WEBHOOK_SECRET": "whsec_c2VjcmV0"}, "absolute http(s) URL"},
		{map[string]string{"IVR_MODE": "production", "IVR_WEBHOOK_URL": "http://h.example/x", "IVR_WEBHOOK_SECRET": "whsec_c2VjcmV0"}, "must be https"},
		{map[string]string{"IVR_CALL_CLOSE_AFTER": "0"}, "IVR_CALL_CLOSE_AFTER"},
		// A credential in an invalid URL is not printed.
		{map[string]string{"IVR_WEBHOOK_URL": "ftp://bob:c2VjcmV0@h.example/x?token=c2VjcmV0", "IVR_WEBHOOK_SECRET": "whsec_x"}, `"ftp://xxxxx@h.example/x?token=xxxxx"`},
		{map[string]string{"IVR_WEBHOOK_URL": "https://bob:c2VjcmV0@h.ex%zz/x", "IVR_WEBHOOK_SECRET": "whsec_x"}, `"https://xxxxx": write an absolute`},
		{map[string]string{"IVR_WEBHOOK_URL": "//h.example/x?key=c2VjcmV0", "IVR_WEBHOOK_SECRET": "whsec_x"}, `"//h.example/x?key=xxxxx"`},
	} {
		_, err := Load(env(tc.env))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.env, err, tc.want)
		}
		if err != nil && (strings.Contains(err.Error(), "c2VjcmV0") || strings.Contains(err.Error(), "bob")) {
			t.Errorf("an error printed the secret: %v", err)
		}
	}
}
