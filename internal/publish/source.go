package publish

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ivr-project/ivr/internal/ivr"
	"github.com/ivr-project/ivr/internal/store"
	"github.com/ivr-project/ivr/internal/tick"
)

// Source holds the live flow and reloads it. The last good flow keeps
// serving when the file turns bad. Calls in progress survive a reload: their
// state names menus by id; if a call's menu is gone, Step returns an error
// and the server falls back.
type Source struct {
	path   string
	logger *slog.Logger
	cur    atomic.Pointer[ivr.Flow]

	mu       sync.Mutex // serialises reloads; guards the fields below
	lastErr  error
	text     []byte      // the live flow's text
	seen     fileSig     // the file as last read, good or bad
	set      bool        // the text came from Set
	onReload func(error) // told of every reload's result (metrics)

	// closure is the closure switch of the newest flow revision (nil =
	// off), kept by the Service as it syncs with the store.
	closure atomic.Pointer[store.Closure]
}

// Closure is the closure switch on at t, or nil: the newest revision's as
// of the last sync (the Service's Follow keeps it fresh), ended by itself
// at its Until.
func (s *Source) Closure(t time.Time) *store.Closure {
	c := s.closure.Load()
	if !c.OnAt(t) {
		return nil
	}
	return c
}

// OnReload registers fn to be told the result of every reload (nil = good),
// whether it came from Watch or a direct Reload (SIGHUP).
func (s *Source) OnReload(fn func(err error)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onReload = fn
}

type fileSig struct {
	mod  time.Time
	size int64
	sum  [sha256.Size]byte
}

// NewSource loads the flow at path ("" = the bundled Example). It fails if
// the first load fails; logger may be nil.
func NewSource(path string, logger *slog.Logger) (*Source, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Source{path: path, logger: logger, text: ivr.Example()}
	f, sig, err := s.load()
	if err != nil {
		return nil, err
	}
	s.cur.Store(f)
	s.seen = sig
	s.text = f.Text()
	return s, nil
}

func (s *Source) load() (*ivr.Flow, fileSig, error) {
	if s.path == "" {
		// The bundled example, or the text last Set (store mode).
		f, err := ivr.Parse(s.name(), s.text)
		return f, fileSig{}, err
	}
	var sig fileSig
	if st, err := os.Stat(s.path); err == nil {
		sig.mod, sig.size = st.ModTime(), st.Size()
	}
	data, err := readFile(s.path)
	if err != nil {
		return nil, sig, err
	}
	sig.sum = sha256.Sum256(data)
	f, err := ivr.Parse(s.path, data)
	if err != nil {
		return nil, sig, fmt.Errorf("load flow %s: %w", s.path, err)
	}
	return f, sig, nil
}

// Flow returns the live flow; never nil.
func (s *Source) Flow() *ivr.Flow { return s.cur.Load() }

// Reload re-reads the flow file. On error the last good flow keeps serving,
// the error is logged and remembered for LastError, and returned.
func (s *Source) Reload() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, sig, err := s.load()
	s.seen = sig
	if s.onReload != nil {
		defer s.onReload(err)
	}
	if err != nil {
		s.lastErr = err
		s.logger.Error("flow reload failed; still serving the last good flow", "path", s.path, "error", err)
		return err
	}
	s.lastErr = nil
	s.cur.Store(f)
	s.text = f.Text()
	s.logger.Info("flow reloaded", "path", s.path, "menus", len(f.Menus()))
	return nil
}

// name is the file name problems are reported under.
func (s *Source) name() string {
	if s.path != "" {
		return s.path
	}
	if s.set {
		return PublishedName
	}
	return "example.yaml"
}

// PublishedName is the file name a published flow's problems name when the
// flow lives in the store rather than in a file.
const PublishedName = "flow.yaml"

// Set makes text the live flow (a revision published in the store) if it
// parses; otherwise the last good flow keeps serving and the problems are
// returned. With a file path (file mode) the file stays the source of truth:
// write the file and Reload instead.
func (s *Source) Set(text []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.path != "" {
		return fmt.Errorf("the flow is read from %s: write that file instead", s.path)
	}
	s.set = true
	f, err := ivr.Parse(PublishedName, text)
	if s.onReload != nil {
		defer s.onReload(err)
	}
	if err != nil {
		s.lastErr = err
		s.logger.Error("published flow refused; still serving the last good flow", "error", err)
		return err
	}
	s.lastErr = nil
	s.cur.Store(f)
	s.text = f.Text()
	s.logger.Info("flow published", "revision", f.Revision(), "menus", len(f.Menus()))
	return nil
}

// Text is the live flow's text.
func (s *Source) Text() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.text
}

// Path is the flow file ("" when the flow is the bundled example or lives
// in the store).
func (s *Source) Path() string { return s.path }

// LastError is the error of the last reload, nil if it succeeded.
func (s *Source) LastError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastErr
}

// Watch polls the flow file every interval until ctx ends and reloads it
// when its modification time, size or content changed. It returns at once
// for the bundled example (path "").
func (s *Source) Watch(ctx context.Context, every time.Duration) {
	if s.path == "" {
		return
	}
	if every <= 0 {
		every = 2 * time.Second
	}
	tick.Every(ctx, every, func() {
		if s.changed() {
			_ = s.Reload() // logged and remembered by Reload
		}
	})
}

// changed reports whether the file differs from the one last read.
func (s *Source) changed() bool {
	st, err := os.Stat(s.path)
	s.mu.Lock()
	seen := s.seen
	s.mu.Unlock()
	if err != nil {
		// A missing file is a change worth reporting once.
		return !seen.mod.IsZero() || seen.size != 0
	}
	if !st.ModTime().Equal(seen.mod) || st.Size() != seen.size {
		return true
	}
	// Same time and size: compare content too (coarse clocks, same-size edits).
	data, err := readFile(s.path)
	if err != nil {
		return true
	}
	return sha256.Sum256(data) != seen.sum
}

// Load reads and parses the flow file at path.
func Load(path string) (*ivr.Flow, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	return ivr.Parse(path, data)
}

func readFile(path string) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load flow %s: %w", path, err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, ivr.MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("load flow %s: %w", path, err)
	}
	if len(data) > ivr.MaxFileSize {
		return nil, fmt.Errorf("load flow %s: file is more than the %d bytes allowed", path, ivr.MaxFileSize)
	}
	return data, nil
}
