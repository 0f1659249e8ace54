package main

import (
	"os"
	"strings"
	"testing"

	"github.com/ivr-project/ivr/internal/ivr"
)

// TestREADMEFlowIsValid keeps the README's flow example true: it must pass
// the same check as `ivr check`.
func TestREADMEFlowIsValid(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	start := strings.Index(s, "```yaml\nname: Example Company")
	if start < 0 {
		t.Fatal("README has no flow example (```yaml block starting with name: Example Company)")
	}
	s = s[start+len("```yaml\n"):]
	end := strings.Index(s, "```")
	if end < 0 {
		t.Fatal("README flow example is not closed")
	}
	if _, err := ivr.Parse("README.md flow example", []byte(s[:end])); err != nil {
		t.Fatalf("the README's flow example does not pass ivr check:\n%v", err)
	}
}

// TestREADMEHasTheTwoCommands keeps the set-up promise visible.
func TestREADMEHasTheTwoCommands(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"go run ./cmd/ivr", "bash scripts/test.sh"} {
		if !strings.Contains(string(raw), cmd) {
			t.Errorf("README lost the command %q", cmd)
		}
	}
	ci, err := os.ReadFile("../../.ci/run")
	if err != nil || !strings.Contains(string(ci), "scripts/test.sh") {
		t.Errorf(".ci/run must call the README's test command (scripts/test.sh): %v", err)
	}
}
