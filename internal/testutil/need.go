package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// CI reports whether the tests run in CI (CI=true), where a missing tool or
// service is a failure instead of a skip.
func CI() bool { return os.Getenv("CI") == "true" }

// SkipOrFail stops the test because something it needs is missing: with
// CI=true it fails; otherwise it skips loudly, also on stderr so the skip is
// seen without -v. msg says what is missing and how to get it.
func SkipOrFail(t testing.TB, msg string) {
	t.Helper()
	if CI() {
		t.Fatal(msg + " (CI=true: a failure, not a skip)")
	}
	loud := fmt.Sprintf("!!! SKIPPING %s: %s (with CI=true this test fails instead)", t.Name(), msg)
	fmt.Fprintln(os.Stderr, loud)
	t.Skip(loud)
}

// NeedCommand returns the path of the named program, or skips or fails the
// test (SkipOrFail) when it is not on PATH.
func NeedCommand(t testing.TB, name, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		SkipOrFail(t, fmt.Sprintf("%s is not on PATH (%v): %s", name, err, install))
	}
	return p
}
