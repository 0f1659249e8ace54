package server

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ivr-project/ivr/internal/ivr"
)

// The flow map: the live flow as a diagram (an inline SVG drawn here, on the
// server) and, under it, one card per menu with every key and what it does.

// flowView is what templates/flow.html shows.
type flowView struct {
	Name, Description, File string
	Entry                   string
	Language, Voice         string
	Languages               []ivr.LanguageConfig
	CallCenter              string
	Answer                  []actionView
	Hours                   *hoursView
	Menus                   []menuView
	Graph                   graphView
}

type menuView struct {
	ID, Label, Anchor string
	Line              int
	Entry             bool
	Input             string
	Greeting          []actionView
	ShortGreeting     []actionView
	InvalidPrompt     []actionView
	TimeoutPrompt     []actionView
	Options           []optionView
	MaxFailures       int
	MaxTimeouts       int
	OnMaxFailures     []actionView
	OnMaxTimeouts     []actionView
}

type optionView struct {
	Key, Label string
	Words      []string
	Actions    []actionView
}

// actionView is one action in words. Menu is set when it leads to a menu
// (the card links there); Sub holds a transfer's no-answer actions or a
// voicemail's prompt and thanks.
type actionView struct {
	Kind, Text string
	Menu       string
	Sub        []actionView
	SubLabel   string
}

type hoursView struct {
	TimeZone string
	Days     []dayView
	Holidays []string
	Closed   []actionView
}

type dayView struct{ Name, Spans string }

func newFlowView(f *ivr.Flow) flowView {
	v := flowView{
		Name: f.Name, Description: f.Description, File: f.File, Entry: f.Entry,
		Language: f.Language, Voice: f.Voice, Languages: f.Languages, CallCenter: f.CallCenter(),
		Answer: describeActions(f, f.Answer),
	}
	if f.Hours != nil {
		h := &hoursView{TimeZone: f.Hours.TimeZone, Closed: describeActions(f, f.Hours.Closed)}
		for i := range 7 {
			d := time.Weekday((i + 1) % 7) // Monday first
			var spans []string
			for _, s := range f.Hours.Weekly[d] {
				spans = append(spans, clock(s.From)+"–"+clock(s.To))
			}
			text := strings.Join(spans, ", ")
			if text == "" {
				text = "closed"
			}
			h.Days = append(h.Days, dayView{Name: d.String(), Spans: text})
		}
		for _, hd := range f.Hours.Holidays {
			s := fmt.Sprintf("%s %d", hd.Month, hd.Day)
			if hd.Year != 0 {
				s += fmt.Sprintf(", %d", hd.Year)
			} else {
				s += " (every year)"
			}
			h.Holidays = append(h.Holidays, s)
		}
		v.Hours = h
	}
	for _, m := range f.Menus() {
		mv := menuView{
			ID: m.ID, Label: m.Label, Anchor: "menu-" + m.ID, Line: m.Line, Entry: m.ID == f.Entry,
			Input:         inputOf(m),
			Greeting:      describeActions(f, m.Greeting),
			ShortGreeting: describeActions(f, m.ShortGreeting),
			InvalidPrompt: describeActions(f, m.InvalidPrompt),
			TimeoutPrompt: describeActions(f, m.TimeoutPrompt),
			MaxFailures:   m.MaxFailures, MaxTimeouts: m.MaxTimeouts,
			OnMaxFailures: describeActions(f, m.OnMaxFailures),
			OnMaxTimeouts: describeActions(f, m.OnMaxTimeouts),
		}
		for _, o := range m.Options {
			mv.Options = append(mv.Options, optionView{Key: o.Key, Label: o.Label, Words: o.Words, Actions: describeActions(f, o.Actions)})
		}
		v.Menus = append(v.Menus, mv)
	}
	v.Graph = layoutGraph(f)
	return v
}

func clock(min int) string { return fmt.Sprintf("%02d:%02d", min/60, min%60) }

func inputOf(m *ivr.Menu) string {
	var parts []string
	switch {
	case m.Digits == 1:
		parts = append(parts, "1 key")
	case m.Digits > 1:
		parts = append(parts, strconv.Itoa(m.Digits)+" keys")
	case m.FinishKey != "":
		parts = append(parts, "keys ending with "+m.FinishKey)
	default:
		parts = append(parts, "keys")
	}
	if m.Speech != nil {
		s := "or speech"
		if m.Speech.Language != "" {
			s += " (" + m.Speech.Language + ")"
		}
		parts = append(parts, s)
	}
	if m.TimeoutSeconds > 0 {
		parts = append(parts, fmt.Sprintf("· waits %d s", m.TimeoutSeconds))
	}
	return strings.Join(parts, " ")
}

func describeActions(f *ivr.Flow, as []ivr.Action) []actionView {
	var out []actionView
	for i := range as {
		out = append(out, describeAction(f, &as[i]))
	}
	return out
}

func describeAction(f *ivr.Flow, a *ivr.Action) actionView {
	v := actionView{Kind: a.Kind}
	switch a.Kind {
	case ivr.KindSay:
		v.Text = "say “" + textOf(a.Text) + "”"
	case ivr.KindPlay:
		v.Text = "play " + a.URL
	case ivr.KindPause:
		v.Text = fmt.Sprintf("pause %d s", a.Seconds)
	case ivr.KindGoto:
		v.Text, v.Menu = "go to "+a.Menu, a.Menu
	case ivr.KindRedirect:
		v.Text, v.Menu = "redirect to "+a.Menu, a.Menu
	case ivr.KindBack:
		v.Text = "back to the previous menu"
	case ivr.KindTop:
		v.Text, v.Menu = "top: back to "+f.Entry, f.Entry
	case ivr.KindTransfer:
		if t := a.Transfer; t != nil {
			v.Text = "transfer to " + strings.Join(transferNumbers(t), ", ")
			if t.TimeoutSeconds > 0 {
				v.Text += fmt.Sprintf(" (rings %d s)", t.TimeoutSeconds)
			}
			v.Sub, v.SubLabel = describeActions(f, t.NoAnswer), "if nobody answers"
		} else {
			v.Text = "transfer"
		}
	case ivr.KindVoicemail:
		v.Text = "voicemail"
		if vm := a.Voicemail; vm != nil {
			if vm.MaxLengthSeconds > 0 {
				v.Text += fmt.Sprintf(" (up to %d s)", vm.MaxLengthSeconds)
			}
			v.Sub, v.SubLabel = describeActions(f, append(append([]ivr.Action(nil), vm.Prompt...), vm.Thanks...)), "prompt and thanks"
		}
	case ivr.KindHangup:
		v.Text = "hang up"
	case ivr.KindSetLanguage:
		v.Text = "switch language to " + a.Lang
	default:
		v.Text = a.Kind
	}
	return v
}

// transferNumbers shows what a transfer dials: the resolved numbers, with the
// call-center alias when the file used it.
func transferNumbers(t *ivr.Transfer) []string {
	if len(t.Numbers) > 0 {
		return t.Numbers
	}
	return t.To
}

func textOf(t ivr.Text) string {
	if len(t.Langs) == 0 {
		return truncate(t.Plain, 90)
	}
	var parts []string
	for _, lt := range t.Langs {
		parts = append(parts, lt.Lang+": "+truncate(lt.Text, 60))
	}
	return strings.Join(parts, " | ")
}

func truncate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// flowProblems lists the last failed reload's problems, one per line
// ("file:line:col: message"), or nil when the flow on disk is good.
func flowProblems(src *ivr.Source) []string {
	if src == nil {
		return nil
	}
	err := src.LastError()
	if err == nil {
		return nil
	}
	var ps ivr.Problems
	if errors.As(err, &ps) {
		out := make([]string, 0, len(ps))
		for _, p := range ps {
			out = append(out, p.String())
		}
		return out
	}
	return strings.Split(strings.TrimSpace(err.Error()), "\n")
}

// handleFlowMap serves GET /admin/flow.
func handleFlowMap(a *admin) http.Handler {
	tmpl := a.page("flow.html")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.render(w, r, tmpl, "flow", newFlowView(a.d.Flows.Flow()))
	})
}

// ---- the diagram ----
//
// Each menu is a box listing its choices, one row each: the key (and first
// spoken word) and what it does. A row that leads to another menu has a port
// on the box's right edge and an arrow to that menu; rows that end the call
// (transfer, voicemail, hang-up) or go back/top say so in the row, so the
// arrows show the menu tree without a tangle. The exhaustion rows (too many
// invalid entries, too many silences) close each box.

// graphView is an SVG drawing, coordinates in px.
type graphView struct {
	Width, Height int
	Nodes         []graphNode
	Edges         []graphEdge
}

type graphNode struct {
	ID, Kind   string // kind: start, closed, menu, entry
	Title, Sub string
	Href       template.URL
	X, Y, W, H int
	TX, TY     int // title position
	SubX       int // label, right-aligned
	LineY      int // the rule under the title
	Rows       []graphRow
}

// graphRow is one choice of a box.
type graphRow struct {
	Key, Text, Full string
	Class           string // option, exhaust, noanswer, flow, plain
	KX, TX, Y       int
	Port            bool
	PX, PY          int
}

type graphEdge struct {
	Class string // option, exhaust, noanswer, flow
	D     string // SVG path
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
}

// layoutGraph places the boxes in columns by their distance from the start
// of a call and joins rows to the menus they lead to.
func layoutGraph(f *ivr.Flow) graphView {
	type node struct {
		graphNode
		rows []rowSpec
		col  int
	}
	var order []*node
	byID := map[string]*node{}
	add := func(id, kind, title, sub string, rows []rowSpec) {
		n := &node{graphNode: graphNode{ID: id, Kind: kind, Title: title, Sub: sub}, rows: rows, col: -1}
		order = append(order, n)
		byID[id] = n
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
	add("start", "start", "incoming call", "", start)
	if f.Hours != nil {
		add("closed", "closed", "closed", f.Hours.TimeZone, actionRows(f, "", "", "flow", f.Hours.Closed))
	}
	for _, m := range f.Menus() {
		kind := "menu"
		if m.ID == f.Entry {
			kind = "entry"
		}
		var rows []rowSpec
		for _, o := range m.Options {
			rows = append(rows, actionRows(f, m.ID, optionLabel(o), "option", o.Actions)...)
		}
		rows = append(rows, actionRows(f, m.ID, exhaustLabel(m.MaxFailures, "invalid"), "exhaust", m.OnMaxFailures)...)
		rows = append(rows, actionRows(f, m.ID, exhaustLabel(m.MaxTimeouts, "silent"), "exhaust", m.OnMaxTimeouts)...)
		add("m:"+m.ID, kind, m.ID, m.Label, rows)
	}

	// Columns: breadth-first from the start over the arrows; boxes nothing
	// reaches go in one more column.
	byID["start"].col = 0
	queue := []*node{byID["start"]}
	maxCol := 0
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, r := range n.rows {
			to := byID[r.Target]
			if to == nil || to.col >= 0 {
				continue
			}
			to.col = n.col + 1
			maxCol = max(maxCol, to.col)
			queue = append(queue, to)
		}
	}
	orphans := false
	for _, n := range order {
		if n.col < 0 {
			n.col, orphans = maxCol+1, true
		}
	}
	cols := maxCol + 1
	if orphans {
		cols++
	}

	g := graphView{}
	colY := make([]int, cols)
	for i := range colY {
		colY[i] = marginY
	}
	for _, n := range order {
		n.W = boxW
		n.H = boxHead + len(n.rows)*rowH + 8
		n.X = marginX + n.col*(boxW+colGap)
		n.Y = colY[n.col]
		colY[n.col] += n.H + boxGap
		n.TX, n.TY = n.X+10, n.Y+21
		n.SubX = n.X + boxW - 10
		n.LineY = n.Y + boxHead - 6
		if n.Kind == "menu" || n.Kind == "entry" {
			n.Href = template.URL("#menu-" + strings.TrimPrefix(n.ID, "m:"))
		}
		for i, r := range n.rows {
			y := n.Y + boxHead + i*rowH + 13
			row := graphRow{
				Key: truncate(r.Key, keyChars), Text: truncate(r.Text, textChars), Full: strings.TrimSpace(r.Key + " " + r.Text),
				Class: r.Class, KX: n.X + 10, TX: n.X + 122, Y: y,
			}
			if r.Key == "" {
				row.TX = n.X + 10
				row.Text = truncate(r.Text, textChars+10)
			}
			if r.Target != "" && byID[r.Target] != nil {
				row.Port, row.PX, row.PY = true, n.X+boxW, y-4
			}
			n.Rows = append(n.Rows, row)
		}
	}
	height := 0
	for _, y := range colY {
		height = max(height, y)
	}
	g.Width = marginX*2 + cols*(boxW+colGap) - colGap + 70
	g.Height = height + marginY

	for _, n := range order {
		for i, r := range n.rows {
			to := byID[r.Target]
			if to == nil || !n.Rows[i].Port {
				continue
			}
			x1, y1 := float64(n.Rows[i].PX), float64(n.Rows[i].PY)
			var p [4][2]float64
			if to.X > n.X {
				x2, y2 := float64(to.X), float64(to.Y+boxHead/2)
				dx := (x2 - x1) / 2
				p = [4][2]float64{{x1, y1}, {x1 + dx, y1}, {x2 - dx, y2}, {x2, y2}}
			} else { // same column or backwards: loop out to the right, in at the top
				x2, y2 := float64(to.X+boxW-30), float64(to.Y)
				out := 50 + 10*float64(i%4)
				p = [4][2]float64{{x1, y1}, {x1 + out, y1}, {x2 + out, y2 - 40}, {x2, y2}}
			}
			g.Edges = append(g.Edges, graphEdge{
				Class: r.Class,
				D:     fmt.Sprintf("M%.0f %.0f C%.0f %.0f, %.0f %.0f, %.0f %.0f", p[0][0], p[0][1], p[1][0], p[1][1], p[2][0], p[2][1], p[3][0], p[3][1]),
			})
		}
	}
	for _, n := range order {
		g.Nodes = append(g.Nodes, n.graphNode)
	}
	return g
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
		case ivr.KindTransfer:
			if a.Transfer == nil {
				continue
			}
			row.Text = "☎ " + strings.Join(transferNumbers(a.Transfer), ", ")
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
