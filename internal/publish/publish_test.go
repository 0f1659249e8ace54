package publish

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ivr-project/ivr/internal/ivr"
	"github.com/ivr-project/ivr/internal/store"
)

// A run in file mode records its file in the store; a later run without
// IVR_FLOW (store mode) on the same store serves that revision, not the
// bundled example, and says so at start with how to choose.
func TestStoreModeSaysWhenItServesARecordedFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(ctx, "sqlite:"+filepath.Join(dir, "ivr.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	path := filepath.Join(dir, "account.yaml")
	if err := os.WriteFile(path, []byte("name: Account line\nmenus:\n  main:\n    greeting: Hi.\n    options: {\"1\": hangup}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fileSrc, err := NewSource(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := New(fileSrc, db, nil).Sync(ctx); err != nil {
		t.Fatal(err)
	}

	var log bytes.Buffer
	src, err := NewSource("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := New(src, db, slog.New(slog.NewTextHandler(&log, nil))).Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := src.Flow().Name; got != "Account line" {
		t.Fatalf("store mode serves %q, want the recorded file's flow", got)
	}
	if out := log.String(); !strings.Contains(out, "level=WARN") || !strings.Contains(out, "account.yaml") || !strings.Contains(out, "set IVR_FLOW") {
		t.Errorf("start-up log does not say the flow came from a recorded file:\n%s", out)
	}
}

const flowA = "menus:\n  main:\n    greeting: \"A.\"\n    options:\n      \"1\": hangup\n"

// Store mode: an empty store is seeded with the live text; Validate's
// problems refuse a publish (422 at the API) and nothing is stored.
func TestPublishValidate(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "ivr.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	src, err := NewSource("", nil)
	if err != nil {
		t.Fatal(err)
	}
	s := New(src, db, nil)
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	live, err := s.Live(ctx)
	if err != nil || live.ID != 1 || live.Text != string(ivr.Example()) || live.Author != "ivr" {
		t.Fatalf("seeded live = %+v, %v", live, err)
	}
	s.Validate(func(f *ivr.Flow) []string { return []string{"IVR_SECRET_X is not set"} })
	var ps ivr.Problems
	if _, err := s.Publish(ctx, 1, []byte(flowA), "a", "n"); !errors.As(err, &ps) || ps[0].Msg != "IVR_SECRET_X is not set" {
		t.Fatalf("publish with a failing validation: %v", err)
	}
	s.Validate(nil)
	rev, err := s.Publish(ctx, 1, []byte(flowA), "a", "n")
	if err != nil || rev.ID != 2 || string(src.Text()) != flowA {
		t.Fatalf("publish: %+v, %v", rev, err)
	}
}
