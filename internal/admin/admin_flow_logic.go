package admin

import (
	"fmt"
	"strings"

	"github.com/ivr-project/ivr/internal/clip"
	"github.com/ivr-project/ivr/internal/ivr"
)

// The flow map's cards for the flow language: numbers, requests, collects,
// set, fetch and switch. A request's URL and headers are shown as written
// in the file ({{secret.NAME}} stays a name; secret values never reach
// the flow model).

type numberView struct{ Number, Entry, Language string }

type requestView struct {
	Name, Method, URL, Timeout string
	Headers, Save              []string
	Line                       int
}

type collectView struct {
	Into, Digits, FinishKey string
	Confirm                 []actionView // the read-back, said before Actions (1 accepts, 2 asks again)
	Actions                 []actionView
}

type branchView struct {
	Label   string
	Actions []actionView
}

func describeNumbers(f *ivr.Flow) []numberView {
	var out []numberView
	for _, n := range f.Numbers {
		out = append(out, numberView{Number: n.Number, Entry: n.Entry, Language: n.Language})
	}
	return out
}

func describeRequests(f *ivr.Flow) []requestView {
	var out []requestView
	for _, r := range f.Requests {
		v := requestView{Name: r.Name, Method: r.Method, URL: r.URL, Line: r.Line, Timeout: r.Timeout.String()}
		if r.Timeout == 0 {
			v.Timeout = "3s (default)"
		}
		for _, h := range r.Headers {
			v.Headers = append(v.Headers, h.Name+": "+h.Value)
		}
		for _, s := range r.Save {
			v.Save = append(v.Save, s.Var+" ← "+s.Path)
		}
		out = append(out, v)
	}
	return out
}

func describeCollect(f *ivr.Flow, c *ivr.Collect) *collectView {
	if c == nil {
		return nil
	}
	v := &collectView{Into: c.Into, FinishKey: c.FinishKey, Confirm: describeActions(f, c.Confirm), Actions: describeActions(f, c.Actions)}
	v.Digits = fmt.Sprintf("%d to %d digits", c.MinDigits, c.MaxDigits)
	if c.MinDigits == c.MaxDigits {
		v.Digits = fmt.Sprintf("%d digits", c.MinDigits)
	}
	return v
}

// describeLogic fills v for a set, fetch, switch or split action.
func describeLogic(f *ivr.Flow, a *ivr.Action, v *actionView) {
	switch a.Kind {
	case ivr.KindSet:
		var parts []string
		for _, s := range a.Set {
			parts = append(parts, s.Name+" = “"+clip.Line(s.Value, 40)+"”")
		}
		v.Text = "set " + strings.Join(parts, ", ")
	case ivr.KindFetch:
		v.Text = "fetch " + a.Request
		v.Sub, v.SubLabel = describeActions(f, a.OnError), "on error (timeout, not 2xx, over 64 KiB, bad JSON, missing field, breaker open)"
	case ivr.KindSplit:
		v.Text = "split: each call takes one variant, by weight, for the whole call"
		for _, b := range a.Branches {
			v.Branches = append(v.Branches, branchView{Label: fmt.Sprintf("%s (weight %d)", b.Label, b.Weight), Actions: describeActions(f, b.Actions)})
		}
	case ivr.KindSwitch:
		v.Text = "switch: the first true condition wins"
		for _, b := range a.Branches {
			label := "if " + b.If
			if b.If == "" {
				label = "else"
			}
			v.Branches = append(v.Branches, branchView{Label: label, Actions: describeActions(f, b.Actions)})
		}
	}
}
