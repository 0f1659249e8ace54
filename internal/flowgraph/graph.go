// Package flowgraph draws a flow as a diagram: the boxes, rows and arrows
// of the admin flow map's inline SVG, laid out on the server. It knows
// flows (internal/ivr) and coordinates, not HTTP.
//
// Each menu is a box listing its choices, one row each: the key (and first
// spoken word) and what it does. A menu that collects a value says what it
// collects, then what it does with it: lookups (fetch) with a row for their
// on_error, and a switch with a row per branch (its condition and where it
// leads). A row that leads to another menu has a port
// on the box's right edge and an arrow to that menu; rows that end the call
// (transfer, voicemail, hang-up) or go back/top say so in the row, so the
// arrows show the menu tree without a tangle. The exhaustion rows (too many
// invalid entries, too many silences) close each box.
package flowgraph

import (
	"fmt"
	"html/template"
	"slices"
	"strings"

	"github.com/ivr-project/ivr/internal/clip"
	"github.com/ivr-project/ivr/internal/ivr"
)

// Graph is an SVG drawing, coordinates in px.
type Graph struct {
	Width, Height int
	Nodes         []Node
	Edges         []Edge
}

// Node is one box: a menu, the call's start or the closed-hours actions.
type Node struct {
	ID, Kind   string // kind: start, closed, menu, entry
	Title, Sub string
	Href       template.URL
	X, Y, W, H int
	TX, TY     int // title position
	SubX       int // label, right-aligned
	LineY      int // the rule under the title
	Rows       []Row
	// Menu is the menu id of a menu box ("" otherwise); Count is set by the
	// caller to show a figure under the title (e.g. how often it was entered).
	Menu  string
	Count string
}

// Row is one choice of a box.
type Row struct {
	Key, Text, Full string
	Class           string // option, exhaust, noanswer, flow, collect, lookup, branch
	KX, TX, Y       int
	Port            bool
	PX, PY          int
	// Menu and Option name the menu option the row belongs to ("" for
	// other rows); Count is set by the caller to show how often it was chosen.
	// A fetch's on_error row and a switch branch's first row have Menu and
	// a Tally instead: what their count is of.
	Menu, Option string
	Tally        Tally
	Count        string
	CX           int // where a Count ends (right-aligned inside the box)
}

// Tally says what the count of a row that is not a menu option is of, in
// its Menu: how often a fetch of the request Name failed there (its
// on_error ran), or a switch branch was taken there (Name: its condition
// as calls record it, ivr.Branch.Shown; an else has none). Branches with
// the same condition in one menu share their count, as do its elses.
type Tally struct {
	Kind TallyKind
	Name string
}

// TallyKind is what a Tally counts ("" = nothing).
type TallyKind string

// The kinds of Tally.
const (
	TallyOnError TallyKind = "on_error"
	TallyBranch  TallyKind = "branch"
	TallyElse    TallyKind = "else"
)

// Edge is one arrow from a row's port to the box it leads to.
type Edge struct {
	Class string // option, exhaust, noanswer, flow, lookup, branch
	D     string // SVG path
	// From is the box the arrow leaves (a node id) and Menu/Option the menu
	// option of its row, if any, or its row's Tally; Count is set by the
	// caller and drawn at LX, LY, just after the port (e.g. calls that took
	// the arrow).
	From, Menu, Option string
	Tally              Tally
	Count              string
	LX, LY             int
}

const (
	boxW      = 340
	boxHead   = 34
	rowH      = 19
	colGap    = 150
	boxGap    = 36
	marginX   = 20
	marginY   = 20
	keyChars  = 14
	textChars = 30
)

// rowSpec is a row before layout; Target is a menu id the row leads to.
type rowSpec struct {
	Key, Text, Class, Target string
	Menu, Option             string // the menu option the row belongs to, if any
	Tally                    Tally  // else what its count is of (with Menu)
}

// box is a node while it is laid out: its rows before placement and its
// column (-1 until reached).
type box struct {
	Node
	rows []rowSpec
	col  int
}

// Layout draws f: it places the boxes in columns by their distance from the
// start of a call and joins rows to the menus they lead to.
func Layout(f *ivr.Flow) Graph {
	order := boxes(f)
	byID := make(map[string]*box, len(order))
	for _, b := range order {
		byID[b.ID] = b
	}
	cols := assignColumns(order, byID)
	g := Graph{}
	height := place(order, byID, cols)
	g.Width = marginX*2 + cols*(boxW+colGap) - colGap + 70
	g.Height = height + marginY
	g.Edges = edges(order, byID)
	for _, b := range order {
		g.Nodes = append(g.Nodes, b.Node)
	}
	return g
}

// boxes lists the call's start, the closed-hours box and one box per menu,
// with their rows, in drawing order.
func boxes(f *ivr.Flow) []*box {
	var order []*box
	add := func(id, kind, title, sub string, rows []rowSpec) {
		order = append(order, &box{Node: Node{ID: id, Kind: kind, Title: title, Sub: sub}, rows: rows, col: -1})
	}

	// The call's start: answer actions, then open/closed.
	var start []rowSpec
	for _, r := range actionRows(f, "", "", "flow", f.Answer) {
		if r.Target == "" {
			start = append(start, r)
		}
	}
	if f.Hours != nil {
		start = append(start, rowSpec{Key: "open", Text: "→ " + f.Entry, Class: "flow", Target: "m:" + f.Entry})
		start = append(start, rowSpec{Key: "closed", Text: "→ closed", Class: "flow", Target: "closed"})
	} else {
		start = append(start, rowSpec{Key: "answer", Text: "→ " + f.Entry, Class: "flow", Target: "m:" + f.Entry})
	}
	start = append(start, numberRows(f)...)
	add("start", "start", "incoming call", "", start)
	if f.Hours != nil {
		add("closed", "closed", "closed", f.Hours.TimeZone, actionRows(f, "", "", "flow", f.Hours.Closed))
	}
	for _, m := range f.Menus() {
		kind := "menu"
		if m.ID == f.Entry {
			kind = "entry"
		}
		rows := collectRows(f, m)
		for _, o := range m.Options {
			for i, r := range actionRows(f, m.ID, optionLabel(o), "option", o.Actions) {
				if i == 0 { // the option's own row: how often it was chosen
					r.Menu, r.Option = m.ID, o.Key
				}
				rows = append(rows, r)
			}
		}
		rows = append(rows, inputRows(m)...)
		rows = append(rows, actionRows(f, m.ID, exhaustLabel(m.MaxFailures, "invalid"), "exhaust", m.OnMaxFailures)...)
		rows = append(rows, actionRows(f, m.ID, exhaustLabel(m.MaxTimeouts, "silent"), "exhaust", m.OnMaxTimeouts)...)
		add("m:"+m.ID, kind, m.ID, m.Label, rows)
		order[len(order)-1].Menu = m.ID
	}
	return order
}

// assignColumns sets each box's column: breadth-first from the start over
// the arrows; boxes nothing reaches go in one more column. It returns the
// number of columns.
func assignColumns(order []*box, byID map[string]*box) int {
	byID["start"].col = 0
	queue := []*box{byID["start"]}
	maxCol := 0
	for len(queue) > 0 {
		b := queue[0]
		queue = queue[1:]
		for _, r := range b.rows {
			to := byID[r.Target]
			if to == nil || to.col >= 0 {
				continue
			}
			to.col = b.col + 1
			maxCol = max(maxCol, to.col)
			queue = append(queue, to)
		}
	}
	orphans := false
	for _, b := range order {
		if b.col < 0 {
			b.col, orphans = maxCol+1, true
		}
	}
	if orphans {
		return maxCol + 2
	}
	return maxCol + 1
}

// place gives every box and row its coordinates, boxes stacked down their
// column, and returns the height of the tallest column.
func place(order []*box, byID map[string]*box, cols int) int {
	colY := make([]int, cols)
	for i := range colY {
		colY[i] = marginY
	}
	for _, b := range order {
		b.W = boxW
		b.H = boxHead + len(b.rows)*rowH + 8
		b.X = marginX + b.col*(boxW+colGap)
		b.Y = colY[b.col]
		colY[b.col] += b.H + boxGap
		b.TX, b.TY = b.X+10, b.Y+21
		b.SubX = b.X + boxW - 10
		b.LineY = b.Y + boxHead - 6
		if b.Kind == "menu" || b.Kind == "entry" {
			b.Href = template.URL("#menu-" + strings.TrimPrefix(b.ID, "m:"))
		}
		for i, r := range b.rows {
			y := b.Y + boxHead + i*rowH + 13
			row := Row{
				Key: clip.Line(r.Key, keyChars), Text: clip.Line(r.Text, textChars), Full: strings.TrimSpace(r.Key + " " + r.Text),
				Class: r.Class, KX: b.X + 10, TX: b.X + 122, Y: y, Menu: r.Menu, Option: r.Option, Tally: r.Tally, CX: b.X + boxW - 8,
			}
			if r.Key == "" {
				row.TX = b.X + 10
				row.Text = clip.Line(r.Text, textChars+10)
			}
			if r.Target != "" && byID[r.Target] != nil {
				row.Port, row.PX, row.PY = true, b.X+boxW, y-4
			}
			b.Rows = append(b.Rows, row)
		}
	}
	return slices.Max(colY)
}

// edges draws an arrow from each row's port to the box it leads to: a curve
// forwards, or a loop out to the right and in at the top when the target is
// in the same column or behind.
func edges(order []*box, byID map[string]*box) []Edge {
	var out []Edge
	for _, b := range order {
		for i, r := range b.rows {
			to := byID[r.Target]
			if to == nil || !b.Rows[i].Port {
				continue
			}
			x1, y1 := float64(b.Rows[i].PX), float64(b.Rows[i].PY)
			var p [4][2]float64
			if to.X > b.X {
				x2, y2 := float64(to.X), float64(to.Y+boxHead/2)
				dx := (x2 - x1) / 2
				p = [4][2]float64{{x1, y1}, {x1 + dx, y1}, {x2 - dx, y2}, {x2, y2}}
			} else {
				x2, y2 := float64(to.X+boxW-30), float64(to.Y)
				loop := 50 + 10*float64(i%4)
				p = [4][2]float64{{x1, y1}, {x1 + loop, y1}, {x2 + loop, y2 - 40}, {x2, y2}}
			}
			out = append(out, Edge{
				From: b.ID, Menu: r.Menu, Option: r.Option, Tally: r.Tally, LX: int(x1) + 8, LY: int(y1) - 5,
				Class: r.Class,
				D:     fmt.Sprintf("M%.0f %.0f C%.0f %.0f, %.0f %.0f, %.0f %.0f", p[0][0], p[0][1], p[1][0], p[1][1], p[2][0], p[2][1], p[3][0], p[3][1]),
			})
		}
	}
	return out
}

// actionRows describes an action list as rows: what it says or plays in
// short, then where the call goes. A transfer adds a row for what happens
// when nobody answers.
func actionRows(f *ivr.Flow, menu, key, class string, as []ivr.Action) []rowSpec {
	var said []string
	row := rowSpec{Key: key, Class: class}
	var extra []rowSpec
	for i := range as {
		a := &as[i]
		switch a.Kind {
		case ivr.KindSay, ivr.KindPlay, ivr.KindPause:
			if !slices.Contains(said, a.Kind) {
				said = append(said, a.Kind)
			}
		case ivr.KindSetLanguage:
			said = append(said, a.Lang)
		case ivr.KindSet:
			if !slices.Contains(said, "set") {
				said = append(said, "set")
			}
		case ivr.KindFetch:
			said = append(said, "fetch "+a.Request)
			rows := labelled(actionRows(f, menu, "", "lookup", a.OnError), a.Request+" fails: ")
			if menu != "" { // how often it failed in this menu
				rows[0].Menu, rows[0].Tally = menu, Tally{Kind: TallyOnError, Name: a.Request}
			}
			extra = append(extra, rows...)
		case ivr.KindSwitch, ivr.KindSplit:
			said = append(said, a.Kind)
			extra = append(extra, branchRows(f, menu, a.Branches)...)
		case ivr.KindGoto, ivr.KindRedirect:
			if a.Menu == menu {
				row.Text = "↻ " + a.Menu
			} else {
				row.Text, row.Target = "→ "+a.Menu, "m:"+a.Menu
			}
		case ivr.KindTop:
			row.Text = "⤒ top (" + f.Entry + ")"
		case ivr.KindBack:
			row.Text = "↩ back"
		case ivr.KindHangup:
			row.Text = "✖ hang up"
		case ivr.KindVoicemail:
			row.Text = "✉ voicemail"
		case ivr.KindCallback:
			row.Text = CallbackText(a.Callback)
		case ivr.KindTransfer:
			if a.Transfer == nil {
				continue
			}
			row.Text = TransferText(a.Transfer)
			if na := a.Transfer.NoAnswer; len(na) > 0 {
				for _, r := range actionRows(f, menu, "", "noanswer", na) {
					r.Text = "no answer: " + r.Text
					extra = append(extra, r)
				}
			}
		}
	}
	prefix := strings.Join(said, " · ")
	switch {
	case row.Text == "" && prefix == "":
		if key == "" {
			return nil
		}
		row.Text = "(engine default)"
	case row.Text == "":
		row.Text = prefix + " ↻"
	case prefix != "" && row.Target == "":
		row.Text = prefix + " · " + row.Text
	}
	if key == "" && menu == "" && row.Target == "" && class == "flow" && prefix != "" && row.Text == prefix+" ↻" {
		row.Text = prefix // answer actions: nothing repeats
	}
	return append([]rowSpec{row}, extra...)
}

func optionLabel(o ivr.Option) string {
	switch {
	case o.Key != "" && len(o.Words) > 0:
		return o.Key + " “" + o.Words[0] + "”"
	case o.Key != "":
		return o.Key
	case len(o.Words) > 0:
		return "“" + o.Words[0] + "”"
	}
	return o.Label
}

func exhaustLabel(n int, what string) string {
	if n <= 0 {
		return "too " + what
	}
	return fmt.Sprintf("%d× %s", n, what)
}

// TransferNumbers shows what a transfer dials: the resolved numbers, with the
// call-center alias when the file used it.
func TransferNumbers(t *ivr.Transfer) []string {
	if len(t.Numbers) > 0 {
		return t.Numbers
	}
	return t.To
}

// TransferText is a transfer's row: what it dials, in turn or at once,
// whether the agent hears a whisper (and must press a key) and what context
// goes with it.
func TransferText(t *ivr.Transfer) string {
	sep := ", "
	if t.Sequential {
		sep = " → "
	}
	text := "☎ " + strings.Join(TransferNumbers(t), sep)
	if t.Whisper != "" {
		text += " · whisper"
		if t.AcceptKey != "" {
			text += " (accept " + t.AcceptKey + ")"
		}
	}
	if len(t.Context) > 0 {
		names := make([]string, len(t.Context))
		for i, c := range t.Context {
			names[i] = c.Name
		}
		text += " · context " + strings.Join(names, ", ")
	}
	return text
}

// CallbackText is a callback's row: whom it calls back, and whether the
// number is read back first.
func CallbackText(c *ivr.Callback) string {
	if c == nil {
		return "☏ callback"
	}
	text := "☏ callback " + c.Number
	if c.Confirm {
		text += " (confirmed)"
	}
	return text
}
