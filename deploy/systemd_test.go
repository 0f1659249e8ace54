// Package deploy holds no Go code: its tests check the deployment files beside
// them (the container images, the systemd unit, the compose file) with the
// tools that read them.
package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/testutil"
)

// TestSystemdUnit checks deploy/ivr.service with `systemd-analyze verify`
// (which works without systemd running: it loads the unit offline) and
// `systemd-analyze security --offline`, and that it keeps the hardening and
// the shutdown budget the README promises.
func TestSystemdUnit(t *testing.T) {
	analyze := testutil.NeedCommand(t, "systemd-analyze", "install Debian's systemd package (bash scripts/test.sh does it as root)")
	unit, err := os.ReadFile(filepath.Join(testutil.ModuleRoot(t), "deploy", "ivr.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"ExecStart=/usr/local/bin/ivr serve", "DynamicUser=yes", "NoNewPrivileges=yes",
		"ProtectSystem=strict", "StateDirectory=ivr", "Environment=IVR_ADDR=:8080 IVR_DATABASE_URL=sqlite:/var/lib/ivr/ivr.db",
		"EnvironmentFile=/etc/ivr/ivr.env", "Restart=on-failure", "KillSignal=SIGTERM", "ExecReload=/bin/kill -HUP $MAINPID",
	} {
		if !strings.Contains(string(unit), "\n"+want) {
			t.Errorf("ivr.service lacks %q", want)
		}
	}
	// A stop drains for IVR_SHUTDOWN_DRAIN (0 unless ivr.env sets it), then
	// gives requests and the record flush up to 25 s: leave room for both.
	m := regexp.MustCompile(`\nTimeoutStopSec=(\S+)`).FindStringSubmatch(string(unit))
	if m == nil {
		t.Fatal("ivr.service sets no TimeoutStopSec")
	}
	if d, err := time.ParseDuration(m[1]); err != nil || d < 40*time.Second {
		t.Errorf("TimeoutStopSec=%s: want at least 40s (25 s of shutdown plus a drain)", m[1])
	}

	// verify also checks that ExecStart names an executable file, and ivr is
	// not installed here: point it at this test's own executable instead (the
	// container test builds and runs the real binary).
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "ivr.service")
	if err := os.WriteFile(file, []byte(strings.ReplaceAll(string(unit), "/usr/local/bin/ivr", bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	// verify exits 0 on unknown keys and bad values (it only warns), so any
	// output is a failure.
	out, err := exec.Command(analyze, "verify", "--man=no", file).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	// 2.0 is the top of systemd's "OK" band for a service's exposure.
	out, err = exec.Command(analyze, "security", "--offline=yes", "--threshold=20", file).CombinedOutput()
	if err != nil {
		t.Errorf("systemd-analyze security: exposure above 2.0 (%v)\n%s", err, out)
	}
}
