package flowgraph

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ivr-project/ivr/internal/clip"
	"github.com/ivr-project/ivr/internal/ivr"
)

func parse(t *testing.T, src string) *ivr.Flow {
	t.Helper()
	f, err := ivr.Parse("flow.yaml", []byte(src))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return f
}

func nodeByID(g Graph, id string) *Node {
	for i := range g.Nodes {
		if g.Nodes[i].ID == id {
			return &g.Nodes[i]
		}
	}
	return nil
}

// TestLayoutExample draws the bundled example: every menu is a box linking to
// its card, the call's start comes first, and boxes never overlap.
func TestLayoutExample(t *testing.T) {
	f := parse(t, string(ivr.Example()))
	g := Layout(f)
	if g.Width <= 0 || g.Height <= 0 {
		t.Fatalf("empty drawing %dx%d", g.Width, g.Height)
	}
	start := nodeByID(g, "start")
	if start == nil || start.X != marginX || start.Y != marginY {
		t.Fatalf("the call's start is not first, top left: %+v", start)
	}
	if nodeByID(g, "closed") == nil {
		t.Error("a flow with hours has no closed box")
	}
	for _, m := range f.Menus() {
		n := nodeByID(g, "m:"+m.ID)
		if n == nil {
			t.Fatalf("menu %s has no box", m.ID)
		}
		if string(n.Href) != "#menu-"+m.ID {
			t.Errorf("menu %s links to %q", m.ID, n.Href)
		}
		if want := map[bool]string{true: "entry", false: "menu"}[m.ID == f.Entry]; n.Kind != want {
			t.Errorf("menu %s kind %q, want %q", m.ID, n.Kind, want)
		}
		if entry := nodeByID(g, "m:"+f.Entry); m.ID == f.Entry && entry.X <= start.X {
			t.Errorf("the entry menu is not right of the start")
		}
	}
	for i, a := range g.Nodes {
		if a.X+a.W > g.Width || a.Y+a.H > g.Height {
			t.Errorf("box %s outside the drawing", a.ID)
		}
		for _, b := range g.Nodes[i+1:] {
			if a.X < b.X+b.W && b.X < a.X+a.W && a.Y < b.Y+b.H && b.Y < a.Y+a.H {
				t.Errorf("boxes %s and %s overlap", a.ID, b.ID)
			}
		}
	}
	var texts []string
	for _, n := range g.Nodes {
		for _, r := range n.Rows {
			texts = append(texts, r.Key+" "+r.Text)
		}
	}
	all := strings.Join(texts, "\n")
	for _, want := range []string{"3× invalid", "3× silent", "☎ +15005550006", "✉ voicemail", "no answer: → support", "open → main", "closed → closed"} {
		if !strings.Contains(all, want) {
			t.Errorf("no row %q in:\n%s", want, all)
		}
	}
}

// TestLayoutEdges: an arrow starts at each port and ends on the box its row
// leads to; a row leading back to an earlier box loops in at the top.
func TestLayoutEdges(t *testing.T) {
	f := parse(t, `
entry: main
menus:
  main:
    greeting: {say: "Main."}
    options:
      "1": {goto: sub}
      "2": {goto: main}
  sub:
    greeting: {say: "Sub."}
    options:
      "1": {goto: main}
      "9": hangup
`)
	g := Layout(f)
	main, sub := nodeByID(g, "m:main"), nodeByID(g, "m:sub")
	if main == nil || sub == nil || sub.X <= main.X {
		t.Fatalf("sub should be a column right of main: %+v %+v", main, sub)
	}
	path := regexp.MustCompile(`^M(-?\d+) (-?\d+) C-?\d+ -?\d+, -?\d+ -?\d+, (-?\d+) (-?\d+)$`)
	ports := 0
	for _, n := range g.Nodes {
		for _, r := range n.Rows {
			if r.Port {
				ports++
			}
		}
	}
	if len(g.Edges) != ports {
		t.Fatalf("%d edges for %d ports", len(g.Edges), ports)
	}
	var forward, back bool
	for _, e := range g.Edges {
		m := path.FindStringSubmatch(e.D)
		if m == nil {
			t.Fatalf("edge path %q", e.D)
		}
		switch {
		case m[3] == strconv.Itoa(sub.X) && m[4] == strconv.Itoa(sub.Y+boxHead/2):
			forward = true
		case m[3] == strconv.Itoa(main.X+boxW-30) && m[4] == strconv.Itoa(main.Y):
			back = true
		}
	}
	if !forward || !back {
		t.Errorf("want an arrow main→sub and a loop sub→main; edges %+v", g.Edges)
	}
	var rows []string
	for _, r := range main.Rows {
		rows = append(rows, r.Key+" "+r.Text)
	}
	if !strings.Contains(strings.Join(rows, "|"), "2 ↻ main") {
		t.Errorf("a menu's own goto should read as a repeat, not an arrow: %q", rows)
	}
}

func TestShorten(t *testing.T) {
	if got := clip.Line("  a \n b  ", 10); got != "a b" {
		t.Errorf("white space: %q", got)
	}
	if got := clip.Line("héllo wörld", 6); got != "héllo…" {
		t.Errorf("cut: %q", got)
	}
}
