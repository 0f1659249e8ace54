package deploy

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/testutil"
)

// TestSystemdUnitRuns starts deploy/ivr.service under a real systemd: this
// host's own file system (read-only underneath, changes in an overlay) booted
// as a podman container with no network, systemd as its PID 1. ivr must run
// under the unit's hardening as a dynamic user with its SQLite file in the
// state directory, answer a signed call, reload on `systemctl reload`, and on
// `systemctl stop` drain (IVR_SHUTDOWN_DRAIN) and exit cleanly.
func TestSystemdUnitRuns(t *testing.T) {
	t.Parallel() // both podman tests wait mostly on podman
	path := testutil.NeedCommand(t, "podman", "install Debian's podman (and runc) packages (bash scripts/test.sh does it as root)")
	if _, err := os.Stat("/lib/systemd/systemd"); err != nil {
		testutil.SkipOrFail(t, "no /lib/systemd/systemd on this host to boot in a container: install Debian's systemd package")
	}
	p := podman{path: path, t: t}
	root := testutil.ModuleRoot(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "ivr")
	build := exec.Command("go", "build", "-trimpath", "-o", bin, "./cmd/ivr")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	const token = "unit-test-token"
	etc := filepath.Join(dir, "etc")
	if err := os.Mkdir(etc, 0o700); err != nil {
		t.Fatal(err)
	}
	env := "IVR_ADDR=127.0.0.1:8080\nTWILIO_AUTH_TOKEN=" + token + "\nIVR_SHUTDOWN_DRAIN=1s\n"
	if err := os.WriteFile(filepath.Join(etc, "ivr.env"), []byte(env), 0o600); err != nil {
		t.Fatal(err)
	}

	id := make([]byte, 4)
	rand.Read(id)
	name := "ivr-systemd-test-" + hex.EncodeToString(id)
	// No network: nothing inside reaches out. SYS_ADMIN: systemd sets up the
	// unit's namespaces (PrivateTmp, ProtectSystem...).
	args := append([]string{"run", "-d", "--name", name}, runFlags("none")...)
	args = append(args, "--systemd=always", "--cap-add", "SYS_ADMIN",
		"--tmpfs", "/tmp:rw,notmpcopyup", "--tmpfs", "/run:rw,notmpcopyup",
		"-v", bin+":/usr/local/bin/ivr:ro",
		"-v", filepath.Join(root, "deploy", "ivr.service")+":/etc/systemd/system/ivr.service:ro",
		"-v", etc+":/etc/ivr:ro",
		"--rootfs", "/:O", "/lib/systemd/systemd", "--unit=basic.target")
	if out, err := p.run(args...); err != nil {
		testutil.SkipOrFail(t, fmt.Sprintf("podman cannot boot systemd in a container on this host: %v: %s", err, out))
	}
	t.Cleanup(func() { p.run("rm", "-f", "-v", name) })
	exec := func(args ...string) (string, error) { return p.run(append([]string{"exec", name}, args...)...) }
	var state string
	if !testutil.Eventually(60*time.Second, func() bool {
		state, _ = exec("systemctl", "is-system-running")
		return state == "running" || state == "degraded"
	}) {
		logs, _ := p.run("logs", name)
		t.Fatalf("systemd in the container never finished booting (%q):\n%s", state, logs)
	}
	journal := func() string { out, _ := exec("journalctl", "-u", "ivr", "--no-pager", "-o", "cat"); return out }

	if out, err := exec("systemctl", "start", "ivr"); err != nil {
		t.Fatalf("systemctl start ivr: %v %s\n%s", err, out, journal())
	}
	testutil.WaitForWithin(t, 30*time.Second, "ivr healthcheck inside the container", func() bool {
		_, err := exec("/usr/local/bin/ivr", "healthcheck")
		return err == nil
	})
	status, _ := exec("sh", "-c", `grep -E "^(Uid|NoNewPrivs|Seccomp):" /proc/$(systemctl show -p MainPID --value ivr)/status`)
	for _, want := range []string{"NoNewPrivs:\t1", "Seccomp:\t2"} {
		if !strings.Contains(status, want) {
			t.Errorf("ivr's process status lacks %q:\n%s", want, status)
		}
	}
	if strings.Contains(status, "Uid:\t0\t") {
		t.Errorf("ivr runs as root:\n%s", status)
	}
	if out, err := exec("sh", "-c", `stat -c %U /var/lib/ivr/ivr.db`); err != nil || out != "ivr" {
		t.Errorf("/var/lib/ivr/ivr.db: owner %q, %v; want the dynamic user ivr", out, err)
	}
	answer, err := exec("sh", "-c", "TWILIO_AUTH_TOKEN="+token+" IVR_NGROK_API=off /usr/local/bin/ivr sign http://127.0.0.1:8080/twilio/voice "+
		"CallSid=CA0123456789abcdef0123456789abcdef From=+14155550100 To=+14155550199 | sh -s -- --silent")
	if err != nil || !strings.Contains(answer, "<Gather") {
		t.Errorf("a signed call under systemd: %v\n%s", err, answer)
	}

	if out, err := exec("systemctl", "reload", "ivr"); err != nil {
		t.Errorf("systemctl reload ivr: %v %s", err, out)
	}
	testutil.WaitForWithin(t, 10*time.Second, "the reload in the journal", func() bool { return strings.Contains(journal(), "flow reloaded") })
	if out, err := exec("systemctl", "stop", "ivr"); err != nil {
		t.Fatalf("systemctl stop ivr: %v %s", err, out)
	}
	result, _ := exec("systemctl", "show", "-p", "Result", "-p", "ExecMainStatus", "ivr")
	if result != "Result=success\nExecMainStatus=0" {
		t.Errorf("after systemctl stop: %q\n%s", result, journal())
	}
	if j := journal(); !strings.Contains(j, "shutting down: draining") || !strings.Contains(j, `"msg":"stopped"`) {
		t.Errorf("the journal does not show the drain and a clean stop:\n%s", j)
	}
}
