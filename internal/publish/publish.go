// Package publish keeps the live flow and the store's flow revisions in
// step: publishing (checked, refused on a stale base), rollback, and
// following revisions published by other instances.
//
// Two modes:
//   - store mode (IVR_FLOW unset): the newest revision in the store is the
//     live flow on every instance; an empty store is seeded with the bundled
//     example as revision 1. Each instance polls the revisions table.
//   - file mode (IVR_FLOW set): the file is the source of truth. Edits on
//     disk reload as before and are recorded as revisions (author "file");
//     publishing writes the file atomically, reloads it and records it.
package publish

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/ivr-project/ivr/internal/clip"
	"github.com/ivr-project/ivr/internal/ivr"
	"github.com/ivr-project/ivr/internal/store"
	"github.com/ivr-project/ivr/internal/tick"
)

// FileAuthor is the author of revisions recorded from edits on disk.
const FileAuthor = "file"

// Service publishes flows and follows the store.
type Service struct {
	src    *Source
	db     *store.DB
	logger *slog.Logger

	mu       sync.Mutex // serialises publishes and syncs of this process
	applied  int64      // the revision the live flow is (0 = not known yet)
	validate func(*ivr.Flow) []string
}

// Validate adds checks a flow must pass to be published beyond the file's
// own (e.g. that the secrets it names are set here); fn returns one message
// per problem. Call it before serving.
func (s *Service) Validate(fn func(*ivr.Flow) []string) { s.validate = fn }

// New returns the service for src (file mode when src has a path) on db.
func New(src *Source, db *store.DB, logger *slog.Logger) *Service {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Service{src: src, db: db, logger: logger}
}

// FileMode reports whether the flow is read from a file.
func (s *Service) FileMode() bool { return s.src.Path() != "" }

// Source is the live flow.
func (s *Service) Source() *Source { return s.src }

// Sync brings the live flow and the store in step once: in store mode it
// applies the newest revision (seeding an empty store with the live text);
// in file mode it records the file's text when the newest revision differs.
// Run it at start-up, then Follow.
func (s *Service) Sync(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.syncLocked(ctx)
}

func (s *Service) syncLocked(ctx context.Context) error {
	if s.FileMode() {
		return s.recordFileLocked(ctx)
	}
	id, err := s.db.LatestFlowID(ctx)
	if err != nil {
		return err
	}
	if id == s.applied && id != 0 {
		return nil
	}
	if id == 0 {
		text := s.src.Text()
		_, err := s.db.PublishFlow(ctx, 0, store.FlowRevision{Author: "ivr", Note: "the flow this server started with", Hash: s.src.Flow().Revision(), Text: string(text)})
		if err != nil && !errors.Is(err, store.ErrConflict) { // another instance seeded it first
			return err
		}
	}
	rev, err := s.db.LatestFlow(ctx)
	if err != nil {
		return err
	}
	s.src.closure.Store(rev.Closure)
	if rev.Hash == s.src.Flow().Revision() && s.applied != 0 {
		s.applied = rev.ID // a closure change: the text is the same
		return nil
	}
	if err := s.src.Set([]byte(rev.Text)); err != nil {
		// Logged by Set; an older binary may not read a newer flow.
		s.applied = rev.ID
		return fmt.Errorf("apply flow revision %d: %w", rev.ID, err)
	}
	switch {
	case s.applied != 0:
		s.logger.Info("serving a newly published flow revision", "revision", rev.ID, "note", rev.Note)
	case rev.Author == FileAuthor:
		// A run in file mode on the same store recorded its file: store
		// mode serves it, not the bundled example. Say so, and how to
		// choose.
		s.logger.Warn("IVR_FLOW is unset: serving the store's newest flow revision, which a run with IVR_FLOW set recorded from its file (not the bundled example); set IVR_FLOW to serve a file, or publish or roll back in /admin/flow/edit",
			"revision", rev.ID, "note", rev.Note)
	default:
		s.logger.Info("IVR_FLOW is unset: serving the store's newest flow revision", "revision", rev.ID, "author", rev.Author, "note", rev.Note)
	}
	s.applied = rev.ID
	return nil
}

// recordFileLocked records the file's live text as a new revision unless
// the newest revision already has that text.
func (s *Service) recordFileLocked(ctx context.Context) error {
	f := s.src.Flow()
	latest, err := s.db.LatestFlow(ctx)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	s.src.closure.Store(latest.Closure)
	if err == nil && latest.Hash == f.Revision() {
		s.applied = latest.ID
		return nil
	}
	rev, err := s.db.PublishFlow(ctx, latest.ID, store.FlowRevision{Author: FileAuthor, Note: "read from " + filepath.Base(s.src.Path()), Hash: f.Revision(), Text: string(s.src.Text())})
	if err != nil {
		return err
	}
	s.applied = rev.ID
	return nil
}

// Follow runs Sync every interval until ctx ends: other instances'
// publishes become live here (store mode), disk edits are recorded (file mode).
func (s *Service) Follow(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = 2 * time.Second
	}
	tick.Every(ctx, every, func() {
		if err := s.Sync(ctx); err != nil && ctx.Err() == nil {
			s.logger.Error("flow revisions: sync with the store failed", "error", err)
		}
	})
}

// Live returns the live flow's revision with its text (syncing first, so a
// fresh disk edit or another instance's publish shows).
func (s *Service) Live(ctx context.Context) (store.FlowRevision, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.syncLocked(ctx); err != nil {
		return store.FlowRevision{}, err
	}
	rev, err := s.db.FlowRevisionByID(ctx, s.applied)
	if err != nil {
		return store.FlowRevision{}, err
	}
	rev.Text = string(s.src.Text()) // what serves, even if the store's newest failed to apply
	return rev, nil
}

// Check parses text as a flow would be published; the error is
// ivr.Problems when it does not pass `ivr check`.
func (s *Service) Check(text []byte) (*ivr.Flow, error) {
	name := PublishedName
	if s.FileMode() {
		name = filepath.Base(s.src.Path())
	}
	f, err := ivr.Parse(name, text)
	if err != nil || s.validate == nil {
		return f, err
	}
	var ps ivr.Problems
	for _, msg := range s.validate(f) {
		ps = append(ps, ivr.Problem{File: name, Msg: msg})
	}
	if len(ps) > 0 {
		return nil, ps
	}
	return f, nil
}

// Publish makes text live as revision base+1: it must pass Check
// (ivr.Problems otherwise) and base must be the live revision
// (store.ErrConflict otherwise).
func (s *Service) Publish(ctx context.Context, base int64, text []byte, author, note string) (store.FlowRevision, error) {
	f, err := s.Check(text)
	if err != nil {
		return store.FlowRevision{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.syncLocked(ctx); err != nil {
		return store.FlowRevision{}, err
	}
	if base != s.applied && !s.sameTextLocked(ctx, base) {
		return store.FlowRevision{}, fmt.Errorf("%w (live revision %d, draft based on %d)", store.ErrConflict, s.applied, base)
	}
	base = s.applied
	rev := store.FlowRevision{Author: author, Note: note, Hash: f.Revision(), Text: string(text)}
	if s.FileMode() {
		if err := writeAtomic(s.src.Path(), text); err != nil {
			return store.FlowRevision{}, err
		}
		if err := s.src.Reload(); err != nil {
			return store.FlowRevision{}, fmt.Errorf("reload the written flow: %w", err)
		}
	}
	rev, err = s.db.PublishFlow(ctx, base, rev)
	if err != nil {
		return store.FlowRevision{}, err
	}
	if !s.FileMode() {
		if err := s.src.Set(text); err != nil {
			return store.FlowRevision{}, err
		}
	}
	s.applied = rev.ID
	s.logger.Info("flow published", "revision", rev.ID, "author", author, "note", clip.Runes(note, 201))
	return rev, nil
}

// sameTextLocked reports whether revision base has the live text: the
// revisions since are closure changes (or a round trip back to the same
// text), so a draft based on it loses nobody's edit.
func (s *Service) sameTextLocked(ctx context.Context, base int64) bool {
	if base <= 0 || base > s.applied {
		return false
	}
	rev, err := s.db.FlowRevisionByID(ctx, base)
	return err == nil && rev.Hash == s.src.Flow().Revision()
}

// SetClosure sets (c non-nil) or lifts (nil) the closure switch by author:
// a new revision with the live text, so the change is in the history and
// every instance applies it on its next sync.
func (s *Service) SetClosure(ctx context.Context, c *store.Closure, author string) (store.FlowRevision, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.syncLocked(ctx); err != nil {
		return store.FlowRevision{}, err
	}
	note := "closure lifted"
	if c != nil {
		note = "closure set: then " + c.Then
		if c.Until != nil {
			note += ", until " + c.Until.UTC().Format(time.RFC3339)
		}
		note += ": " + clip.Line(c.Message, 120)
	}
	rev, err := s.db.SetClosure(ctx, c, author, note)
	if err != nil {
		return store.FlowRevision{}, err
	}
	s.src.closure.Store(c)
	s.applied = rev.ID
	s.logger.Info("closure switch changed", "revision", rev.ID, "author", author, "on", c != nil)
	return rev, nil
}

// Rollback publishes revision id's text again as a new revision.
func (s *Service) Rollback(ctx context.Context, id int64, author string) (store.FlowRevision, error) {
	old, err := s.db.FlowRevisionByID(ctx, id)
	if err != nil {
		return store.FlowRevision{}, err
	}
	live, err := s.Live(ctx)
	if err != nil {
		return store.FlowRevision{}, err
	}
	return s.Publish(ctx, live.ID, []byte(old.Text), author, fmt.Sprintf("rollback to revision %d", id))
}

// writeAtomic replaces path with data: a temporary file in the same
// directory, synced, then renamed over it (keeping the file's mode).
func writeAtomic(path string, data []byte) error {
	mode := os.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write flow file: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing left to remove
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write flow file: %w", err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("write flow file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write flow file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write flow file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write flow file %s: %w", path, err)
	}
	return nil
}
