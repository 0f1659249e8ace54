package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/ivr-project/ivr/internal/testutil"
)

type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Environment map[string]string `yaml:"environment"`
		DependsOn   yaml.Node         `yaml:"depends_on"`
		Ports       []string          `yaml:"ports"`
		Volumes     []string          `yaml:"volumes"`
	} `yaml:"services"`
}

// TestComposeFile checks deploy/compose.yaml against the README's "two
// instances" set-up: PostgreSQL, two ivr instances sharing the database, the
// public URL and the state key, and nginx balancing over both; and every IVR_*
// variable it sets is one .env.example documents. docker-compose validates it
// against the compose schema.
func TestComposeFile(t *testing.T) {
	root := testutil.ModuleRoot(t)
	data, err := os.ReadFile(filepath.Join(root, "deploy", "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(data, &c); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	var names []string
	for name := range c.Services {
		names = append(names, name)
	}
	sort.Strings(names)
	if strings.Join(names, " ") != "ivr-1 ivr-2 nginx postgres" {
		t.Fatalf("services %v, want postgres, ivr-1, ivr-2 and nginx", names)
	}
	one, two := c.Services["ivr-1"].Environment, c.Services["ivr-2"].Environment
	for _, k := range []string{"IVR_DATABASE_URL", "IVR_PUBLIC_URL", "IVR_STATE_KEY", "IVR_MODE"} {
		if one[k] == "" || one[k] != two[k] {
			t.Errorf("%s: ivr-1 %q, ivr-2 %q: both instances need the same, set", k, one[k], two[k])
		}
	}
	if !strings.Contains(one["IVR_DATABASE_URL"], "@postgres:5432/") {
		t.Errorf("IVR_DATABASE_URL %q does not point at the postgres service", one["IVR_DATABASE_URL"])
	}
	example, err := os.ReadFile(filepath.Join(root, ".env.example"))
	if err != nil {
		t.Fatal(err)
	}
	for k := range one {
		if !regexp.MustCompile(`(?m)^#?\s*` + k + `=`).Match(example) {
			t.Errorf("compose sets %s, which .env.example does not document", k)
		}
	}

	conf, err := os.ReadFile(filepath.Join(root, "deploy", "nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	port := strings.TrimPrefix(one["IVR_ADDR"], ":")
	for _, s := range []string{"ivr-1", "ivr-2"} {
		if !strings.Contains(string(conf), "server "+s+":"+port+";") {
			t.Errorf("nginx.conf's upstream lacks %s:%s", s, port)
		}
	}
	if !strings.Contains(strings.Join(c.Services["nginx"].Volumes, " "), "./nginx.conf:/etc/nginx/conf.d/default.conf") {
		t.Errorf("nginx does not mount deploy/nginx.conf: %v", c.Services["nginx"].Volumes)
	}

	compose := testutil.NeedCommand(t, "docker-compose", "install Debian's docker-compose package to validate the file (bash scripts/test.sh does it as root)")
	cmd := exec.Command(compose, "-f", filepath.Join(root, "deploy", "compose.yaml"), "config", "-q")
	cmd.Env = append(os.Environ(), "POSTGRES_PASSWORD=placeholder", "IVR_PUBLIC_URL=https://ivr.example.com",
		"IVR_STATE_KEY=placeholder", "IVR_ADMIN_TOKEN=placeholder", "IVR_CALL_CENTER_NUMBER=+15005550006")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("docker-compose config: %v\n%s", err, out)
	}
}

// TestContainerfilesAlike: the multi-stage Containerfile's final stage is the
// pre-built one's, but for where the binary and the data directory come from.
func TestContainerfilesAlike(t *testing.T) {
	root := testutil.ModuleRoot(t)
	final := func(name string) []string {
		data, err := os.ReadFile(filepath.Join(root, "deploy", name))
		if err != nil {
			t.Fatal(err)
		}
		s := string(data)
		i := strings.LastIndex(s, "\nFROM ")
		if i < 0 {
			t.Fatalf("%s has no FROM", name)
		}
		var lines []string
		for _, l := range strings.Split(s[i+1:], "\n") {
			if !strings.HasPrefix(l, "COPY ") {
				lines = append(lines, l)
			}
		}
		return lines
	}
	a, b := final("Containerfile"), final("Containerfile.multistage")
	if strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Errorf("final stages differ:\nContainerfile:\n%s\n\nContainerfile.multistage:\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
	if a[0] != "FROM scratch" {
		t.Errorf("final stage %q, want FROM scratch", a[0])
	}
}
