package ivr

import (
	"bytes"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/seal"
)

// openTime is a moment the example flow is open (not its holiday).
var openTime = time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)

func mustExample(t testing.TB) *Flow {
	t.Helper()
	f, err := Parse("example.yaml", Example())
	if err != nil {
		t.Fatalf("example flow: %v", err)
	}
	return f
}

// summary renders steps compactly for table assertions.
func summary(steps []Step) []string {
	out := make([]string, 0, len(steps))
	for _, s := range steps {
		out = append(out, summarize(s))
	}
	return out
}

func summarize(s Step) string {
	switch s := s.(type) {
	case Say:
		return fmt.Sprintf("say(%s)", s.Language)
	case Play:
		return "play(" + s.URL + ")"
	case Pause:
		return fmt.Sprintf("pause(%d)", s.Seconds)
	case Gather:
		var ps []string
		for _, p := range s.Prompts {
			ps = append(ps, summarize(p))
		}
		return fmt.Sprintf("gather(%s)[%s]", s.Action, strings.Join(ps, " "))
	case Dial:
		a := ""
		if s.Action != nil {
			a = " -> " + s.Action.String()
		}
		return fmt.Sprintf("dial(%s%s)", strings.Join(s.Numbers, ","), a)
	case Record:
		return "record(" + s.Action.String() + ")"
	case Redirect:
		return "redirect(" + s.Target.String() + ")"
	case Hangup:
		return "hangup"
	case Message:
		return "message(" + s.Text + ")"
	}
	return fmt.Sprintf("%T", s)
}

func actions(evs []Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Menu+"|"+e.Input()+"|"+e.Action())
	}
	return out
}

// sim plays a call through a flow like a provider would: it follows the
// Gather action with input, or the Redirect after it on silence.
type sim struct {
	t    testing.TB
	f    *Flow
	call Call
	last Result
}

func newSim(t testing.TB, f *Flow) *sim {
	return &sim{t: t, f: f, call: Call{Provider: "twilio", ID: "CA1", From: "+15551234567", To: "+15005550006", Now: openTime}}
}

func (s *sim) do(path string, query string, in Input) Result {
	s.t.Helper()
	q, err := url.ParseQuery(query)
	if err != nil {
		s.t.Fatalf("query %q: %v", query, err)
	}
	res, err := s.f.Step(Request{Call: s.call, Path: path, Query: q, Input: in})
	if err != nil {
		s.t.Fatalf("step %s?%s %+v: %v", path, query, in, err)
	}
	s.last = res
	return res
}

func (s *sim) answer() Result { s.t.Helper(); return s.do("", "", Input{}) }

func (s *sim) gather() Gather {
	s.t.Helper()
	for _, st := range s.last.Steps {
		if g, ok := st.(Gather); ok {
			return g
		}
	}
	s.t.Fatalf("no gather in %v", summary(s.last.Steps))
	return Gather{}
}

func (s *sim) press(d string) Result {
	s.t.Helper()
	g := s.gather()
	return s.do(g.Action.Path, g.Action.Query, Input{Digits: d})
}

func (s *sim) speak(text string) Result {
	s.t.Helper()
	g := s.gather()
	return s.do(g.Action.Path, g.Action.Query, Input{Speech: text})
}

// silence follows the Redirect after the Gather, as a provider does when the
// caller enters nothing.
func (s *sim) silence() Result {
	s.t.Helper()
	steps := s.last.Steps
	for i, st := range steps {
		if _, ok := st.(Gather); ok && i+1 < len(steps) {
			if r, ok := steps[i+1].(Redirect); ok {
				return s.do(r.Target.Path, r.Target.Query, Input{})
			}
		}
	}
	s.t.Fatalf("no gather+redirect in %v", summary(steps))
	return Result{}
}

func (s *sim) dialDone(status string) Result {
	s.t.Helper()
	for _, st := range s.last.Steps {
		if d, ok := st.(Dial); ok {
			q, _ := url.ParseQuery(d.Action.Query)
			res, err := s.f.Step(Request{Call: s.call, Path: d.Action.Path, Query: q, DialStatus: status})
			if err != nil {
				s.t.Fatalf("dial-done: %v", err)
			}
			s.last = res
			return res
		}
	}
	s.t.Fatalf("no dial in %v", summary(s.last.Steps))
	return Result{}
}

func (s *sim) recorded() Result {
	s.t.Helper()
	for _, st := range s.last.Steps {
		if r, ok := st.(Record); ok {
			return s.do(r.Action.Path, r.Action.Query, Input{})
		}
	}
	s.t.Fatalf("no record in %v", summary(s.last.Steps))
	return Result{}
}

func eqStrings(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n got: %q\nwant: %q", what, got, want)
	}
}

// Menu returns the menu with that id, or nil.
func (f *Flow) Menu(id string) *Menu { return f.menus[id] }

// testSealer is the Sealer the engine's tests pass, as the server passes its
// own: a fixed test key, so tokens are the same from one run to the next.
func testSealer(t testing.TB) Sealer {
	t.Helper()
	box, err := seal.New(bytes.Repeat([]byte{1}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return box
}

// Load parses the flow file at path for a test (the engine reads no files:
// publish.Load does for the program).
func Load(path string) (*Flow, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}
