package admin

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ivr-project/ivr/internal/clip"
	"github.com/ivr-project/ivr/internal/ivr"
	"github.com/ivr-project/ivr/internal/publish"

	"github.com/ivr-project/ivr/internal/flowgraph"
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
	Graph                   flowgraph.Graph
	Numbers                 []numberView
	Requests                []requestView
	Period                  period // of the counts on the diagram
	CountsError             string
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
	Collect           *collectView
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
	Branches   []branchView // switch
}

type hoursView struct {
	TimeZone  string
	Days      []dayView
	Holidays  []string
	Overrides []string // "December 24, 2026: 09:00–13:00", "December 31 (every year): closed"
	Closed    []actionView
}

type dayView struct{ Name, Spans string }

// dateText is a holiday's or override's date: "December 24, 2026" or
// "December 24 (every year)".
func dateText(hd ivr.Holiday) string {
	s := fmt.Sprintf("%s %d", hd.Month, hd.Day)
	if hd.Year != 0 {
		return s + fmt.Sprintf(", %d", hd.Year)
	}
	return s + " (every year)"
}

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
			h.Holidays = append(h.Holidays, dateText(hd))
		}
		for _, o := range f.Hours.Overrides {
			var spans []string
			for _, s := range o.Spans {
				spans = append(spans, clock(s.From)+"–"+clock(s.To))
			}
			text := strings.Join(spans, ", ")
			if text == "" {
				text = "closed"
			}
			h.Overrides = append(h.Overrides, dateText(o.Date)+": "+text)
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
			Collect:       describeCollect(f, m.Collect),
		}
		for _, o := range m.Options {
			mv.Options = append(mv.Options, optionView{Key: o.Key, Label: o.Label, Words: o.Words, Actions: describeActions(f, o.Actions)})
		}
		v.Menus = append(v.Menus, mv)
	}
	v.Graph = flowgraph.Layout(f)
	v.Numbers, v.Requests = describeNumbers(f), describeRequests(f)
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
		if m.Speech.MinConfidence > 0 {
			s += fmt.Sprintf(" (confidence at least %g, else keys only)", m.Speech.MinConfidence)
		}
		parts = append(parts, s)
	}
	if m.RepeatKey != "" {
		parts = append(parts, "· "+m.RepeatKey+" repeats")
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
			v.Text = "transfer to " + strings.Join(flowgraph.TransferNumbers(t), ", ")
			if t.Sequential {
				v.Text = "transfer to " + strings.Join(flowgraph.TransferNumbers(t), ", then ")
			}
			if t.TimeoutSeconds > 0 {
				v.Text += fmt.Sprintf(" (rings %d s)", t.TimeoutSeconds)
			}
			if t.Whisper != "" {
				v.Text += "; the agent hears “" + clip.Line(t.Whisper, 60) + "”"
				if t.AcceptKey != "" {
					v.Text += " and presses " + t.AcceptKey + " to take it"
				}
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
			if vm.Transcribe {
				v.Text += ", transcribed"
			}
			v.Sub, v.SubLabel = describeActions(f, append(append([]ivr.Action(nil), vm.Prompt...), vm.Thanks...)), "prompt and thanks"
		}
	case ivr.KindCallback:
		v.Text = "callback"
		if c := a.Callback; c != nil {
			v.Text = "take a callback request for " + c.Number
			if c.Confirm {
				v.Text += " (read back: 1 yes, 2 another number)"
			}
			v.Sub, v.SubLabel = describeActions(f, c.Thanks), "then"
		}
	case ivr.KindHangup:
		v.Text = "hang up"
	case ivr.KindSetLanguage:
		v.Text = "switch language to " + a.Lang
	case ivr.KindSet, ivr.KindFetch, ivr.KindSwitch, ivr.KindSplit:
		describeLogic(f, a, &v)
	default:
		v.Text = a.Kind
	}
	return v
}

func textOf(t ivr.Text) string {
	if len(t.Langs) == 0 {
		return clip.Line(t.Plain, 90)
	}
	var parts []string
	for _, lt := range t.Langs {
		parts = append(parts, lt.Lang+": "+clip.Line(lt.Text, 60))
	}
	return strings.Join(parts, " | ")
}

// FlowProblems lists the last failed reload's problems, one per line
// ("file:line:col: message"), or nil when the flow on disk is good.
func FlowProblems(src *publish.Source) []string {
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

// HandleFlowMap serves GET /admin/flow; ?since=&until=&to=&provider= (as
// on the insights page, default the last 7 days) choose the period whose
// counts are drawn on the diagram.
func HandleFlowMap(a *Admin) http.Handler {
	tmpl := a.page("flow.html")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := newFlowView(a.d.Flows.Flow())
		p, err := parsePeriod(r.URL.Query(), time.Now())
		if err != nil {
			v.CountsError = err.Error()
		} else if in, err := a.d.Store.Insights(r.Context(), p.filter); err != nil {
			v.CountsError = "counts not loaded: " + err.Error()
		} else {
			annotateGraph(&v.Graph, in)
		}
		v.Period = p
		a.render(w, r, tmpl, "flow", v)
	})
}
