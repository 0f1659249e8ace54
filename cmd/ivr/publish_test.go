package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/testutil"
)

const publishedFlow = `menus:
  main:
    greeting: "Version two."
    options:
      "1": {goto: other}
  other:
    greeting: "Other menu."
    options:
      "1": hangup
`

// TestPublishReachesEveryInstance: two servers on one store (SQLite file,
// PostgreSQL); a flow published through A serves on B within the poll
// interval, without a restart, and a call that B started on the old flow
// continues on the new one.
func TestPublishReachesEveryInstance(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		testPublishTwoInstances(t, "sqlite:"+filepath.Join(t.TempDir(), "shared.db"))
	})
	t.Run("postgres", func(t *testing.T) { testPublishTwoInstances(t, testutil.PostgresURL(t)) })
}

func testPublishTwoInstances(t *testing.T, dsn string) {
	const public, token, admin = "https://ivr.example.com", "twilio-token", "admin-token-0123456789abcdef"
	env := map[string]string{"IVR_DATABASE_URL": dsn, "IVR_PUBLIC_URL": public, "TWILIO_AUTH_TOKEN": token,
		"IVR_ADMIN_TOKEN": admin, "IVR_FLOW_WATCH_INTERVAL": "100ms"}
	a, _, _ := startServer(t, env)
	b, _, _ := startServer(t, env)
	call := url.Values{"CallSid": {"CA0123456789abcdef0123456789abcdef"}, "From": {"+14155550100"}, "To": {"+14155550199"}, "CallStatus": {"in-progress"}}
	voice := func(base, path string, extra url.Values) string {
		form := url.Values{}
		for k, v := range call {
			form[k] = v
		}
		for k, v := range extra {
			form[k] = v
		}
		resp, err := http.DefaultClient.Do(send(signed("twilio", token, public+path, form), base))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if got := voice(b, "/twilio/voice", nil); strings.Contains(got, "Version two.") {
		t.Fatalf("B serves the new flow before it is published: %s", got)
	}
	live := func(base string) int64 {
		req, _ := http.NewRequest("GET", base+"/admin/api/flow", nil)
		req.Header.Set("Authorization", "Bearer "+admin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var got struct {
			Revision int64 `json:"revision"`
		}
		if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&got) != nil {
			t.Fatalf("GET /admin/api/flow: %d", resp.StatusCode)
		}
		return got.Revision
	}
	base := live(a)
	body, _ := json.Marshal(map[string]any{"text": publishedFlow, "base_revision": base, "note": "shorter menu"})
	req, _ := http.NewRequest("POST", a+"/admin/api/flow", strings.NewReader(string(body)))
	req.Header.Set("Authorization", "Bearer "+admin)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("publish through A: %d", resp.StatusCode)
	}
	start := time.Now()
	testutil.WaitFor(t, "instance B to serve the published flow", func() bool {
		return strings.Contains(voice(b, "/twilio/voice", nil), "Version two.")
	})
	t.Logf("B served the published flow %v after the publish", time.Since(start).Round(time.Millisecond))
	if got := live(b); got != base+1 {
		t.Fatalf("B's live revision = %d, want %d", got, base+1)
	}
	// The call B answered on the old flow goes on from menu main.
	if got := voice(b, "/twilio/voice/menu/main", url.Values{"Digits": {"1"}}); !strings.Contains(got, "Other menu.") {
		t.Fatalf("the call in progress did not continue on the new flow: %s", got)
	}
}
