package main

import (
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/testutil"
)

const reloadFlow = `entry: main
menus:
  main:
    greeting: "%s"
    options:
      "1": hangup
`

// TestFlowReload: the server picks up an edited flow file without a restart,
// refuses a broken one while the last good flow keeps serving, reloads on
// SIGHUP, and counts each reload.
func TestFlowReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flow.yaml")
	writeFile(t, path, strings.Replace(reloadFlow, "%s", "Version one.", 1))
	base, _, stderr := startServer(t, map[string]string{
		"IVR_FLOW": path, "IVR_FLOW_WATCH_INTERVAL": "30ms", "TWILIO_AUTH_TOKEN": "tok",
	})
	greeting := func() string {
		form := url.Values{"CallSid": {"CA0123456789abcdef0123456789abcdef"}, "From": {"+14155550100"}}
		resp, body := postTwilio(t, "tok", base, "/twilio/voice", form)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		return body
	}
	waitFor := func(want string) {
		t.Helper()
		if testutil.Eventually(10*time.Second, func() bool { return strings.Contains(greeting(), want) }) {
			return
		}
		t.Fatalf("never served %q; last answer:\n%s\nlogs:\n%s", want, greeting(), stderr.String())
	}
	waitFor("Version one.")

	writeFile(t, path, strings.Replace(reloadFlow, "%s", "Version two.", 1))
	waitFor("Version two.")

	writeFile(t, path, "entry: main\nmenus:\n  main:\n    greting: oops\n")
	if !testutil.Eventually(10*time.Second, func() bool { return strings.Contains(stderr.String(), "flow reload failed") }) {
		t.Fatalf("a broken flow must be logged:\n%s", stderr.String())
	}
	if !strings.Contains(greeting(), "Version two.") {
		t.Fatal("the last good flow must keep serving")
	}

	writeFile(t, path, strings.Replace(reloadFlow, "%s", "Version three.", 1))
	waitFor("Version three.")

	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	m, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(m), `ivr_flow_reloads_total{result="error"}`) || !strings.Contains(string(m), `ivr_flow_reloads_total{result="ok"}`) {
		t.Fatalf("reloads should be counted:\n%s", grep(string(m), "reloads"))
	}
}

// TestFlowReloadOnSIGHUP: with the file watcher effectively off, SIGHUP
// reloads the flow.
func TestFlowReloadOnSIGHUP(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flow.yaml")
	writeFile(t, path, strings.Replace(reloadFlow, "%s", "Before the signal.", 1))
	base, _, _ := startServer(t, map[string]string{
		"IVR_FLOW": path, "IVR_FLOW_WATCH_INTERVAL": "1h", "TWILIO_AUTH_TOKEN": "tok",
	})
	form := url.Values{"CallSid": {"CA0123456789abcdef0123456789abcdef"}, "From": {"+14155550100"}}
	if _, body := postTwilio(t, "tok", base, "/twilio/voice", form); !strings.Contains(body, "Before the signal.") {
		t.Fatalf("first flow not served: %s", body)
	}
	writeFile(t, path, strings.Replace(reloadFlow, "%s", "After the signal.", 1))
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if !testutil.Eventually(10*time.Second, func() bool {
		_, body := postTwilio(t, "tok", base, "/twilio/voice", form)
		return strings.Contains(body, "After the signal.")
	}) {
		t.Fatal("SIGHUP did not reload the flow")
	}
}

// TestReloadWarnsUnsetSecret: a reloaded flow that uses a secret the
// environment does not set is warned about at the reload, as at start (it
// used to be silent after a hot reload).
func TestReloadWarnsUnsetSecret(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flow.yaml")
	writeFile(t, path, strings.Replace(reloadFlow, "%s", "Version one.", 1))
	_, _, stderr := startServer(t, map[string]string{
		"IVR_FLOW": path, "IVR_FLOW_WATCH_INTERVAL": "30ms", "TWILIO_AUTH_TOKEN": "tok",
	})
	writeFile(t, path, `entry: main
requests:
  account:
    url: "https://api.example.com/a?key={{secret.RELOADED_KEY}}"
    save: {status: status}
menus:
  main:
    greeting: "Version two."
    options:
      "1": [{fetch: account}, hangup]
`)
	if !testutil.Eventually(10*time.Second, func() bool { return strings.Contains(stderr.String(), "IVR_SECRET_RELOADED_KEY") }) {
		t.Fatalf("the reload did not warn about the unset secret:\n%s", stderr.String())
	}
}
