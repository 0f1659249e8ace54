package publish

import (
	"bytes"
	"context"
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
	fileSrc, err := ivr.NewSource(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := New(fileSrc, db, nil).Sync(ctx); err != nil {
		t.Fatal(err)
	}

	var log bytes.Buffer
	src, err := ivr.NewSource("", nil)
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
