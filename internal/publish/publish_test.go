package publish

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/ivr-project/ivr/internal/ivr"
	"github.com/ivr-project/ivr/internal/store"
)

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
	src, err := ivr.NewSource("", nil)
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
