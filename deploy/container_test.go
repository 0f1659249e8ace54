package deploy

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/auth"
	"github.com/ivr-project/ivr/internal/buildinfo"
	"github.com/ivr-project/ivr/internal/testutil"
)

// podman runs podman with the flags this kind of host needs to run a
// container (see runFlags) and returns its trimmed output.
type podman struct {
	path string
	t    *testing.T
}

func (p podman) run(args ...string) (string, error) {
	out, err := exec.Command(p.path, args...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func (p podman) must(args ...string) string {
	p.t.Helper()
	out, err := p.run(args...)
	if err != nil {
		p.t.Fatalf("podman %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// runFlags are the `podman run` flags that let a container start in a
// sandbox like CI's: runc where installed (crun refuses hybrid cgroups),
// limits no higher than ours (raising them needs CAP_SYS_RESOURCE), and the
// network given: "bridge" (the test publishes a port on the host's
// loopback), or "none".
func runFlags(network string) []string {
	flags := []string{"--network", network, "--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096"}
	if _, err := exec.LookPath("runc"); err == nil {
		flags = append([]string{"--runtime", "runc"}, flags...)
	}
	return flags
}

// TestContainerImage builds the image as scripts/image.sh does (a static
// binary, FROM scratch, no base image pulled) and runs it: a non-root user, the
// SQLite file in the /data volume, a mounted flow file chosen by IVR_FLOW, the
// HEALTHCHECK passing, /healthz naming the build, a signed call answered from
// the mounted flow, and SIGTERM ending it cleanly.
func TestContainerImage(t *testing.T) {
	t.Parallel() // both podman tests wait mostly on podman
	path := testutil.NeedCommand(t, "podman", "install Debian's podman (and runc) packages (bash scripts/test.sh does it as root)")
	p := podman{path: path, t: t}
	root := testutil.ModuleRoot(t)
	id := make([]byte, 4)
	rand.Read(id)
	name := "ivr-test-" + hex.EncodeToString(id)
	tag := "localhost/" + name + ":test"

	build := exec.Command("bash", filepath.Join(root, "scripts", "image.sh"), tag)
	build.Env = append(os.Environ(), "IVR_IMAGE_BUILDER=podman")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("scripts/image.sh: %v\n%s", err, out)
	}
	t.Cleanup(func() { p.run("rmi", "-f", tag) })

	var img []struct {
		Size        int64
		Healthcheck struct{ Test []string }
		Config      struct {
			User    string
			Volumes map[string]struct{}
		}
	}
	if err := json.Unmarshal([]byte(p.must("image", "inspect", tag)), &img); err != nil || len(img) != 1 {
		t.Fatalf("image inspect: %v", err)
	}
	cfg := img[0].Config
	if cfg.User != "65532:65532" {
		t.Errorf("image user %q, want the non-root 65532:65532", cfg.User)
	}
	if _, ok := cfg.Volumes["/data"]; !ok {
		t.Errorf("image volumes %v, want /data", cfg.Volumes)
	}
	if got := strings.Join(img[0].Healthcheck.Test, " "); got != "CMD /usr/local/bin/ivr healthcheck" {
		t.Errorf("HEALTHCHECK %q (an OCI-format build drops it: build with --format docker)", got)
	}
	if img[0].Size > 40<<20 {
		t.Errorf("image is %d MiB, want a small one (< 40 MiB)", img[0].Size>>20)
	}

	// Can this host run containers at all? Building works anywhere podman
	// does; running needs namespaces and an OCI runtime that copes here.
	if out, err := p.run(append(append([]string{"run", "--rm", "--no-healthcheck"}, runFlags("bridge")...), tag, "version")...); err != nil {
		testutil.SkipOrFail(t, fmt.Sprintf("podman built the image but cannot run a container on this host: %v: %s", err, out))
	} else if !strings.HasPrefix(out, "ivr ") || !strings.Contains(out, "go:       go") {
		t.Fatalf("ivr version in the container printed %q", out)
	}

	flowDir := t.TempDir()
	flow := "name: Mounted flow\nentry: main\ncall_center: \"+15005550006\"\nmenus:\n  main:\n    greeting:\n      - say: \"This is the mounted flow.\"\n    options:\n      \"1\":\n        - hangup\n"
	if err := os.WriteFile(filepath.Join(flowDir, "flow.yaml"), []byte(flow), 0o644); err != nil {
		t.Fatal(err)
	}
	volume := name + "-data"
	p.must("volume", "create", volume)
	t.Cleanup(func() { p.run("volume", "rm", "-f", volume) })
	const token = "container-test-token"
	args := append([]string{"run", "-d", "--name", name}, runFlags("bridge")...)
	// ivr listens on the image's IVR_ADDR (:8080); podman publishes it on a
	// loopback port it picks and holds itself (no port found free, then bound).
	args = append(args, "-p", "127.0.0.1::8080", "-v", volume+":/data", "-v", flowDir+":/etc/ivr:ro",
		"-e", "IVR_FLOW=/etc/ivr/flow.yaml", "-e", "TWILIO_AUTH_TOKEN="+token, tag)
	p.must(args...)
	t.Cleanup(func() { p.run("rm", "-f", "-v", name) })
	addr, _, _ := strings.Cut(p.must("port", name, "8080/tcp"), "\n")
	base := "http://" + addr

	var health struct {
		Status string `json:"status"`
		buildinfo.Info
	}
	if !testutil.Eventually(30*time.Second, func() bool {
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		return resp.StatusCode == 200 && json.NewDecoder(resp.Body).Decode(&health) == nil
	}) {
		logs, _ := p.run("logs", name)
		t.Fatalf("the container never answered /healthz; logs:\n%s", logs)
	}
	checkBuild(t, root, health.Info)
	if out, err := p.run("healthcheck", "run", name); err != nil {
		t.Errorf("podman healthcheck run: %v %s", err, out)
	}
	if st := p.must("inspect", "--format", "{{.State.Health.Status}}", name); st != "healthy" {
		t.Errorf("health status %q after a passing check", st)
	}

	call := url.Values{"CallSid": {"CA0123456789abcdef0123456789abcdef"}, "From": {"+14155550100"}, "To": {"+14155550199"}}
	req, _ := http.NewRequest(http.MethodPost, base+"/twilio/voice", strings.NewReader(call.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", auth.SignTwilio(token, base+"/twilio/voice", call))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "This is the mounted flow.") || !strings.Contains(string(body), "<Gather") {
		t.Errorf("signed call: %d, want the mounted flow's menu:\n%s", resp.StatusCode, body)
	}

	// SIGTERM (podman stop) ends ivr cleanly, well within the grace period.
	p.must("stop", "--time", "40", name)
	if code := p.must("inspect", "--format", "{{.State.ExitCode}}", name); code != "0" {
		logs, _ := p.run("logs", name)
		t.Errorf("exit code %s after SIGTERM; logs:\n%s", code, logs)
	}
	mount := p.must("volume", "inspect", "--format", "{{.Mountpoint}}", volume)
	st, err := os.Stat(filepath.Join(mount, "ivr.db"))
	if err != nil {
		t.Fatalf("no SQLite file in the volume: %v", err)
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && sys.Uid != 65532 {
		t.Errorf("ivr.db is owned by uid %d, want the image's user 65532", sys.Uid)
	}
}

// checkBuild: the image's ivr says which build it is; built from a plain git
// checkout (not a worktree, whose revision Go does not read), it is HEAD.
func checkBuild(t *testing.T, root string, b buildinfo.Info) {
	t.Helper()
	if b.GoVersion == buildinfo.Unknown || b.Version == "" {
		t.Errorf("/healthz build %+v", b)
	}
	head, err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output()
	if err != nil {
		return // not a git checkout: nothing to compare
	}
	gitDir, _ := exec.Command("git", "-C", root, "rev-parse", "--absolute-git-dir").Output()
	if strings.TrimSpace(string(gitDir)) != filepath.Join(root, ".git") {
		return // a worktree
	}
	if b.Revision != strings.TrimSpace(string(head)) {
		t.Errorf("/healthz revision %q, want HEAD %s", b.Revision, head)
	}
}
