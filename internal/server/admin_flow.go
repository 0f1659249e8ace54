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

// graphView is an SVG drawing: boxes and labelled arrows, coordinates in px.
type graphView struct {
	Width, Height int
	Nodes         []graphNode
	Edges         []graphEdge
}

type graphNode struct {
	ID, Kind     string // kind: start, menu, entry, closed, transfer, voicemail, hangup, back
	Title, Sub   string
	Href         template.URL
	X, Y, W, H   int
	TX, TY, SubY int // text positions
}

type graphEdge struct {
	Class  string // option, exhaust, noanswer, flow
	D      string // SVG path
	Label  string
	LX, LY int // label centre
	LW     int // label background width
	LRX    int // label background's top left
	LRY    int
}

const (
	nodeW   = 176
	nodeH   = 46
	colGap  = 120
	rowGap  = 30
	marginX = 20
	marginY = 30
)

type edgeKey struct{ from, to, class string }

// layoutGraph places the flow's menus in columns by their distance from the
// start of a call, terminal outcomes (transfer, voicemail, hang-up) in a last
// column, and joins them with arrows labelled by key, words or reason.
func layoutGraph(f *ivr.Flow) graphView {
	type node struct {
		graphNode
		col, row int
	}
	nodes := map[string]*node{}
	var order []string
	add := func(id, kind, title, sub string) {
		if _, ok := nodes[id]; ok {
			return
		}
		nodes[id] = &node{graphNode: graphNode{ID: id, Kind: kind, Title: title, Sub: sub}, col: -1}
		order = append(order, id)
	}
	var keys []edgeKey
	labels := map[edgeKey][]string{}
	edge := func(from, to, class, label string) {
		k := edgeKey{from, to, class}
		if _, ok := labels[k]; !ok {
			keys = append(keys, k)
			labels[k] = nil
		}
		if label != "" && !slices.Contains(labels[k], label) {
			labels[k] = append(labels[k], label)
		}
	}

	add("start", "start", "incoming call", "")
	for _, m := range f.Menus() {
		kind := "menu"
		if m.ID == f.Entry {
			kind = "entry"
		}
		add("m:"+m.ID, kind, m.ID, truncate(m.Label, 24))
	}
	// actions draws the arrows of an action list: the control action at its
	// end decides where the call goes.
	var actions func(from, class, label string, as []ivr.Action, depth int)
	actions = func(from, class, label string, as []ivr.Action, depth int) {
		for i := range as {
			a := &as[i]
			switch a.Kind {
			case ivr.KindGoto, ivr.KindRedirect:
				edge(from, "m:"+a.Menu, class, label)
			case ivr.KindTop:
				edge(from, "m:"+f.Entry, class, joinLabel(label, "top"))
			case ivr.KindBack:
				add("back", "back", "previous menu", "back")
				edge(from, "back", class, label)
			case ivr.KindHangup:
				add("hangup", "hangup", "hang up", "")
				edge(from, "hangup", class, label)
			case ivr.KindVoicemail:
				add("voicemail", "voicemail", "voicemail", "record a message")
				edge(from, "voicemail", class, label)
			case ivr.KindTransfer:
				if a.Transfer == nil {
					continue
				}
				nums := transferNumbers(a.Transfer)
				id := "t:" + strings.Join(nums, ",")
				sub := strings.Join(nums, ", ")
				add(id, "transfer", "transfer", truncate(sub, 26))
				edge(from, id, class, label)
				if depth < 3 {
					actions(id, "noanswer", "no answer", a.Transfer.NoAnswer, depth+1)
				}
			}
		}
	}
	if f.Hours != nil {
		add("closed", "closed", "closed", "outside business hours")
		edge("start", "closed", "flow", "closed")
		actions("closed", "flow", "", f.Hours.Closed, 0)
		edge("start", "m:"+f.Entry, "flow", "open")
	} else {
		edge("start", "m:"+f.Entry, "flow", "")
	}
	actions("start", "flow", "", f.Answer, 0)
	for _, m := range f.Menus() {
		from := "m:" + m.ID
		for _, o := range m.Options {
			actions(from, "option", optionLabel(o), o.Actions, 0)
		}
		actions(from, "exhaust", exhaustLabel(m.MaxFailures, "invalid"), m.OnMaxFailures, 0)
		actions(from, "exhaust", exhaustLabel(m.MaxTimeouts, "timeouts"), m.OnMaxTimeouts, 0)
	}

	// Columns: breadth-first distance from the start over menu edges;
	// menus nothing reaches go after the reachable ones, outcomes last.
	out := map[string][]string{}
	for _, k := range keys {
		out[k.from] = append(out[k.from], k.to)
	}
	terminal := func(n *node) bool {
		switch n.Kind {
		case "transfer", "voicemail", "hangup", "back":
			return true
		}
		return false
	}
	nodes["start"].col = 0
	queue := []string{"start"}
	maxCol := 0
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		for _, to := range out[id] {
			n := nodes[to]
			if n == nil || n.col >= 0 || terminal(n) {
				continue
			}
			n.col = nodes[id].col + 1
			maxCol = max(maxCol, n.col)
			queue = append(queue, to)
		}
	}
	orphanCol := maxCol + 1
	hasOrphans := false
	for _, id := range order {
		if n := nodes[id]; n.col < 0 && !terminal(n) {
			n.col, hasOrphans = orphanCol, true
		}
	}
	lastCol := maxCol + 1
	if hasOrphans {
		lastCol++
	}
	rows := map[int]int{}
	for _, id := range order {
		n := nodes[id]
		if terminal(n) {
			n.col = lastCol
		}
		n.row = rows[n.col]
		rows[n.col]++
	}
	maxRows := 0
	for _, c := range rows {
		maxRows = max(maxRows, c)
	}
	g := graphView{}
	for _, id := range order {
		n := nodes[id]
		n.W, n.H = nodeW, nodeH
		n.X = marginX + n.col*(nodeW+colGap)
		n.Y = marginY + n.row*(nodeH+rowGap)
		n.TX = n.X + nodeW/2
		n.TY = n.Y + 19
		n.SubY = n.Y + 36
		if n.Sub == "" {
			n.TY = n.Y + nodeH/2 + 5
		}
		if n.Kind == "menu" || n.Kind == "entry" {
			n.Href = template.URL("#menu-" + strings.TrimPrefix(id, "m:"))
		}
		g.Nodes = append(g.Nodes, n.graphNode)
	}
	g.Width = marginX*2 + (lastCol+1)*(nodeW+colGap) - colGap
	g.Height = marginY*2 + maxRows*(nodeH+rowGap) + 40
	for _, k := range keys {
		a, b := nodes[k.from], nodes[k.to]
		if a == nil || b == nil {
			continue
		}
		e := graphEdge{Class: k.class, Label: truncate(strings.Join(labels[k], ", "), 28)}
		var p [4][2]float64
		switch {
		case b.X > a.X: // forward: right side to left side
			x1, y1 := float64(a.X+a.W), float64(a.Y+a.H/2)
			x2, y2 := float64(b.X), float64(b.Y+b.H/2)
			dx := (x2 - x1) / 2
			p = [4][2]float64{{x1, y1}, {x1 + dx, y1}, {x2 - dx, y2}, {x2, y2}}
		case a == b: // to itself: a loop over the top
			x, y := float64(a.X+a.W/2), float64(a.Y)
			p = [4][2]float64{{x - 30, y}, {x - 40, y - 40}, {x + 40, y - 40}, {x + 30, y}}
		default: // backwards or same column: under the boxes
			x1, y1 := float64(a.X+a.W/2+20), float64(a.Y+a.H)
			x2, y2 := float64(b.X+b.W/2-20), float64(b.Y+b.H)
			drop := 30 + 0.25*abs(x1-x2)
			low := max(y1, y2) + drop
			p = [4][2]float64{{x1, y1}, {x1, low}, {x2, low}, {x2, y2}}
			g.Height = max(g.Height, int(low)+20)
		}
		e.D = fmt.Sprintf("M%.0f %.0f C%.0f %.0f, %.0f %.0f, %.0f %.0f", p[0][0], p[0][1], p[1][0], p[1][1], p[2][0], p[2][1], p[3][0], p[3][1])
		// The label sits at the curve's midpoint (Bézier at t = 0.5).
		e.LX = int((p[0][0] + 3*p[1][0] + 3*p[2][0] + p[3][0]) / 8)
		e.LY = int((p[0][1] + 3*p[1][1] + 3*p[2][1] + p[3][1]) / 8)
		e.LW = 7*len([]rune(e.Label)) + 10
		e.LRX, e.LRY = e.LX-e.LW/2, e.LY-9
		g.Edges = append(g.Edges, e)
	}
	return g
}

func optionLabel(o ivr.Option) string {
	switch {
	case o.Key != "" && len(o.Words) > 0:
		return o.Key + " / “" + o.Words[0] + "”"
	case o.Key != "":
		return o.Key
	case len(o.Words) > 0:
		return "“" + o.Words[0] + "”"
	}
	return o.Label
}

func exhaustLabel(n int, what string) string {
	if n <= 0 {
		return "too many " + what
	}
	return fmt.Sprintf("%d× %s", n, what)
}

func joinLabel(a, b string) string {
	if a == "" {
		return b
	}
	return a + " (" + b + ")"
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
