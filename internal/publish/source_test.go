package publish

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/ivr"
	"github.com/ivr-project/ivr/internal/testutil"
)

const goodFlow = `
menus:
  main:
    greeting: "Version one."
    options:
      "1": hangup
`

const goodFlow2 = `
menus:
  main:
    greeting: "Version two."
    options:
      "1": {goto: other}
  other:
    greeting: "Other."
    options:
      "1": hangup
`

const brokenFlow = `
menus:
  main:
    greeting: "Broken."
    options:
      "1": {goto: nowhere}
`

func greetingText(t *testing.T, f *ivr.Flow) string {
	t.Helper()
	return menu(f, "main").Greeting[0].Text.Plain
}

func TestSourceReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flow.yaml")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(goodFlow)
	var logs testutil.Buffer
	src, err := NewSource(path, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if got := greetingText(t, src.Flow()); got != "Version one." {
		t.Fatalf("greeting = %q", got)
	}

	// A call in progress holds a menu URL across reloads.
	call := ivr.Request{Path: "menu/other"}

	write(brokenFlow)
	err = src.Reload()
	if err == nil || src.LastError() == nil {
		t.Fatalf("broken reload: err %v, LastError %v", err, src.LastError())
	}
	if !strings.Contains(err.Error(), `there is no menu "nowhere"`) {
		t.Errorf("error = %v", err)
	}
	if got := greetingText(t, src.Flow()); got != "Version one." {
		t.Errorf("after broken reload greeting = %q, want the last good flow", got)
	}
	if !strings.Contains(logs.String(), "flow reload failed") {
		t.Errorf("log = %s", logs.String())
	}

	write(goodFlow2)
	if err := src.Reload(); err != nil {
		t.Fatal(err)
	}
	if src.LastError() != nil {
		t.Errorf("LastError after good reload = %v", src.LastError())
	}
	if got := greetingText(t, src.Flow()); got != "Version two." {
		t.Errorf("greeting = %q", got)
	}
	if _, err := src.Flow().Step(call); err != nil {
		t.Errorf("menu/other after reload: %v", err)
	}

	// The menu vanishes: the call's next step is an error (server falls back).
	write(goodFlow)
	if err := src.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Flow().Step(call); err == nil {
		t.Error("vanished menu: no error")
	}

	// A missing file keeps the flow too.
	os.Remove(path)
	if err := src.Reload(); err == nil {
		t.Error("missing file: no error")
	}
	if src.Flow() == nil || greetingText(t, src.Flow()) != "Version one." {
		t.Error("flow lost after missing file")
	}
}

func TestSourceExample(t *testing.T) {
	src, err := NewSource("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if src.Flow().Entry != "main" {
		t.Error("example entry")
	}
	if err := src.Reload(); err != nil {
		t.Error(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	src.Watch(ctx, time.Millisecond) // returns at once
}

func TestNewSourceBroken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flow.yaml")
	os.WriteFile(path, []byte(brokenFlow), 0o644)
	if _, err := NewSource(path, nil); err == nil {
		t.Error("broken first load accepted")
	}
}

func TestSourceWatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flow.yaml")
	os.WriteFile(path, []byte(goodFlow), 0o644)
	src, err := NewSource(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { src.Watch(ctx, 5*time.Millisecond); close(done) }()
	defer func() { cancel(); <-done }()

	waitFor := func(what string, cond func() bool) {
		t.Helper()
		testutil.WaitFor(t, what, cond)
	}
	// Same size and mtime, other content: the hash catches it.
	st, _ := os.Stat(path)
	same := strings.Replace(goodFlow, "one", "two", 1)
	os.WriteFile(path, []byte(same), 0o644)
	os.Chtimes(path, st.ModTime(), st.ModTime())
	waitFor("reload of same-size edit", func() bool { return greetingText(t, src.Flow()) == "Version two." })

	os.WriteFile(path, []byte(brokenFlow), 0o644)
	waitFor("failed reload", func() bool { return src.LastError() != nil })
	if greetingText(t, src.Flow()) != "Version two." {
		t.Error("broken file replaced the flow")
	}
	os.WriteFile(path, []byte(goodFlow2), 0o644)
	waitFor("good reload", func() bool { return src.LastError() == nil && menu(src.Flow(), "other") != nil })
}

// Store mode: Set swaps the live flow; a bad text keeps the last good one;
// Reload (SIGHUP) keeps the published text; a file source refuses Set.
func TestSourceSet(t *testing.T) {
	s, err := NewSource("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(s.Text()) != string(ivr.Example()) {
		t.Fatal("Text of the bundled example differs from ivr.Example()")
	}
	if err := s.Set([]byte(goodFlow2)); err != nil {
		t.Fatal(err)
	}
	if menu(s.Flow(), "other") == nil || string(s.Text()) != goodFlow2 {
		t.Fatal("Set did not make the text live")
	}
	var ps ivr.Problems
	if err := s.Set([]byte(brokenFlow)); !errors.As(err, &ps) || ps[0].File != PublishedName || ps[0].Line == 0 {
		t.Fatalf("Set(broken) = %v, want problems with a line in %s", err, PublishedName)
	}
	if menu(s.Flow(), "other") == nil || s.LastError() == nil {
		t.Fatal("a bad Set replaced the live flow or was not remembered")
	}
	if err := s.Reload(); err != nil || menu(s.Flow(), "other") == nil {
		t.Fatalf("Reload in store mode lost the published flow: %v", err)
	}
	path := filepath.Join(t.TempDir(), "flow.yaml")
	if err := os.WriteFile(path, []byte(goodFlow), 0o600); err != nil {
		t.Fatal(err)
	}
	fs, err := NewSource(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := fs.Set([]byte(goodFlow2)); err == nil {
		t.Fatal("Set on a file source succeeded")
	}
}

// menu is f's menu with that id, or nil.
func menu(f *ivr.Flow, id string) *ivr.Menu {
	for _, m := range f.Menus() {
		if m.ID == id {
			return m
		}
	}
	return nil
}

func TestLoadErrors(t *testing.T) {
	if _, err := Load("testdata/does-not-exist.yaml"); err == nil || !strings.Contains(err.Error(), "load flow") {
		t.Errorf("missing file: %v", err)
	}
}
