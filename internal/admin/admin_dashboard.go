package admin

import (
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/ivr-project/ivr/internal/chart"
	"github.com/ivr-project/ivr/internal/flowgraph"
	"github.com/ivr-project/ivr/internal/store"
)

// dashboardView is the insights page: the period's figures, charts drawn
// as SVG on the server, the menu funnels, and optionally two flow
// revisions side by side.
type dashboardView struct {
	P           period
	Error       string
	In          *store.Insights
	Rates       rates
	Callbacks   store.CallbackCounts
	DayChart    template.HTML
	HourChart   template.HTML // only for periods of at most store.HourlyMaxDays
	FailChart   template.HTML
	Transfers   template.HTML
	Abandoned   template.HTML
	Funnels     template.HTML
	Menus       []menuRow
	Failures    []failureRow
	Compare     *compareView
	Exports     []exportLink
	RevisionSel struct{ A, B string }
	// RevisionOptions are the period's flow revisions (content hashes, as
	// call events carry them) named by their published numbers.
	RevisionOptions []revisionOption
}

type revisionOption struct{ Hash, Label string }

// revisionOptions names each hash "revision N · hash" when it was published
// (the newest number with that text), else by the hash alone.
func revisionOptions(r *http.Request, db *store.DB, hashes []string) []revisionOption {
	nums, err := db.FlowRevisionNumbers(r.Context())
	if err != nil {
		nums = nil // the hashes alone still work
	}
	out := make([]revisionOption, 0, len(hashes))
	for _, h := range hashes {
		label := h
		if n, ok := nums[h]; ok {
			label = "revision " + strconv.FormatInt(n, 10) + " · " + h
		}
		out = append(out, revisionOption{Hash: h, Label: label})
	}
	return out
}

type menuRow struct {
	ID                                         string
	Entered, Chose, Invalid, Silent, HungUp    int64
	ChosePct, InvalidPct, SilentPct, HungUpPct float64
	Confirmed, Rejected, Repeats               int64
	Options                                    template.HTML
}

type failureRow struct {
	Kind, Provider, Reason string
	Count                  int64
}

type compareView struct {
	A, B string
	Rows []compareRow
}

type compareRow struct{ Label, A, B string }

type exportLink struct{ Label, CSV, JSON string }

// HandleInsightsPage serves GET /admin/insights.
func HandleInsightsPage(a *Admin) http.Handler {
	tmpl := a.page("insights.html")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		var v dashboardView
		p, err := parsePeriod(q, time.Now())
		v.P = p
		if err != nil {
			v.Error = err.Error()
			a.renderStatus(w, r, tmpl, http.StatusBadRequest, "insights", v)
			return
		}
		in, err := a.d.Store.Insights(r.Context(), p.filter)
		if err != nil {
			a.fail(w, r, pageFailure(kindStore, "Insights not loaded", err.Error()))
			return
		}
		a.d.Failures.AddPending(in, p.filter) // this instance's last seconds
		v.In, v.Rates = in, ratesOf(in)
		if v.Callbacks, err = a.d.Store.CountCallbacks(r.Context(), p.filter.Since, p.filter.Until, p.filter.To, p.filter.Provider); err != nil {
			a.fail(w, r, pageFailure(kindStore, "Insights not loaded", err.Error()))
			return
		}
		v.fillCharts(p, in)
		v.Exports = exportLinks(p)
		v.RevisionSel.A, v.RevisionSel.B = q.Get("a"), q.Get("b")
		v.RevisionOptions = revisionOptions(r, a.d.Store, in.Revisions)
		if v.RevisionSel.A != "" && v.RevisionSel.B != "" {
			if v.Compare, err = compareRevisions(r, a.d.Store, p, v.RevisionSel.A, v.RevisionSel.B); err != nil {
				a.fail(w, r, pageFailure(kindStore, "Insights not loaded", err.Error()))
				return
			}
		}
		a.render(w, r, tmpl, "insights", v)
	})
}

func (v *dashboardView) fillCharts(p period, in *store.Insights) {
	days := in.Days
	labels := make([]string, p.days)
	vals := outcomeSeries(p.days)
	index := map[time.Time]int{}
	for i := range labels {
		d := p.sinceDay.AddDate(0, 0, i)
		labels[i], index[d] = d.Format("Jan 2"), i
	}
	for _, d := range days {
		if i, ok := index[d.Hour]; ok {
			addOutcomes(vals, i, d)
		}
	}
	v.DayChart = chart.Columns("chart-days", "Calls per day by outcome", labels, vals, 900, 260)
	if p.days <= store.HourlyMaxDays {
		n := p.days * 24
		hl, hv := make([]string, n), outcomeSeries(n)
		for i := range hl {
			hl[i] = p.sinceDay.Add(time.Duration(i) * time.Hour).Format("Jan 2 15h")
		}
		for _, h := range in.Hours {
			if i := int(h.Hour.Sub(p.sinceDay) / time.Hour); i >= 0 && i < n {
				addOutcomes(hv, i, h)
			}
		}
		v.HourChart = chart.Columns("chart-hours", "Calls per hour by outcome", hl, hv, 900, 220)
	}
	v.failures(p, in, labels, index)
	var tb []chart.Bar
	for _, k := range sortedKeys(in.Transfers) {
		tb = append(tb, chart.Bar{Label: k, Value: float64(in.Transfers[k]), Note: fmt.Sprintf("%.1f %%", pct(in.Transfers[k], in.Transferred))})
	}
	v.Transfers = chart.Bars("chart-transfers", "How transfers ended", tb, 600)
	var ab []chart.Bar
	var funnels []chart.StackRow
	for _, id := range menuIDs(in) {
		m := in.Menus[id]
		row := menuRow{ID: id, Entered: m.Entered, Chose: m.Chose, Invalid: m.Invalid, Silent: m.Silent, HungUp: m.HungUp,
			Confirmed: m.Confirmed, Rejected: m.Rejected, Repeats: m.Repeats,
			ChosePct: pct(m.Chose, m.Entered), InvalidPct: pct(m.Invalid, m.Entered), SilentPct: pct(m.Silent, m.Entered), HungUpPct: pct(m.HungUp, m.Entered)}
		var ob []chart.Bar
		for _, k := range sortedKeys(m.Options) {
			ob = append(ob, chart.Bar{Label: "option " + k, Value: float64(m.Options[k]), Note: fmt.Sprintf("%.1f %%", pct(m.Options[k], m.Chose))})
		}
		row.Options = chart.Bars("chart-options-"+id, "Options chosen in "+id, ob, 520)
		v.Menus = append(v.Menus, row)
		funnels = append(funnels, chart.StackRow{Label: id, Values: []float64{float64(m.Chose), float64(m.Invalid), float64(m.Silent), float64(m.HungUp)}})
		if m.HungUp > 0 {
			ab = append(ab, chart.Bar{Label: id, Value: float64(m.HungUp), Note: fmt.Sprintf("%.1f %% of entries", row.HungUpPct)})
		}
	}
	v.Funnels = chart.Shares("chart-funnels", "What callers did in each menu", []string{"chose", "invalid", "silent", "hung up"}, funnels, 900)
	sort.Slice(ab, func(i, j int) bool { return ab[i].Value > ab[j].Value })
	v.Abandoned = chart.Bars("chart-abandoned", "Callers who hung up, by menu", ab, 600)
}

// failures draws fallbacks and refusals per day, one series per reason.
func (v *dashboardView) failures(p period, in *store.Insights, labels []string, index map[time.Time]int) {
	byReason := map[string][]float64{}
	totals := map[[3]string]int64{}
	for _, f := range in.Failures {
		key := f.Kind + ": " + f.Reason
		if byReason[key] == nil {
			byReason[key] = make([]float64, len(labels))
		}
		if i, ok := index[f.Hour.Truncate(24*time.Hour)]; ok {
			byReason[key][i] += float64(f.Count)
		}
		totals[[3]string{f.Kind, f.Provider, f.Reason}] += f.Count
	}
	var series []chart.Series
	keys := make([]string, 0, len(byReason))
	for k := range byReason {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		series = append(series, chart.Series{Name: k, Values: byReason[k]})
	}
	v.FailChart = chart.Columns("chart-failures", "Fallbacks and refused requests per day, by reason", labels, series, 900, 220)
	for k, n := range totals {
		v.Failures = append(v.Failures, failureRow{Kind: k[0], Provider: k[1], Reason: k[2], Count: n})
	}
	sort.Slice(v.Failures, func(i, j int) bool {
		a, b := v.Failures[i], v.Failures[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.Kind+a.Provider+a.Reason < b.Kind+b.Provider+b.Reason
	})
}

func outcomeSeries(n int) []chart.Series {
	names := []string{"contained", "transferred", "abandoned", "fallback", "in progress"}
	out := make([]chart.Series, len(names))
	for i, name := range names {
		out[i] = chart.Series{Name: name, Values: make([]float64, n)}
	}
	return out
}

func addOutcomes(s []chart.Series, i int, h store.HourCount) {
	s[0].Values[i] += float64(h.Contained)
	s[1].Values[i] += float64(h.Transferred)
	s[2].Values[i] += float64(h.Abandoned)
	s[3].Values[i] += float64(h.Fallbacks)
	s[4].Values[i] += float64(h.Calls - h.Contained - h.Transferred - h.Abandoned - h.Fallbacks)
}

func exportLinks(p period) []exportLink {
	var out []exportLink
	for _, what := range exportTables {
		q := p.query()
		q.Set("what", what)
		q.Set("format", "csv")
		csvHref := "/admin/api/insights/export?" + q.Encode()
		q.Set("format", "json")
		out = append(out, exportLink{Label: what, CSV: csvHref, JSON: "/admin/api/insights/export?" + q.Encode()})
	}
	return out
}

// compareRevisions computes the period's figures for two flow revisions.
func compareRevisions(r *http.Request, db *store.DB, p period, a, b string) (*compareView, error) {
	var figs [2]*store.Insights
	for i, rev := range []string{a, b} {
		f := p.filter
		f.Revision = rev
		in, err := db.Insights(r.Context(), f)
		if err != nil {
			return nil, err
		}
		figs[i] = in
	}
	ra, rb := ratesOf(figs[0]), ratesOf(figs[1])
	cv := &compareView{A: a, B: b}
	add := func(label string, x, y any) {
		cv.Rows = append(cv.Rows, compareRow{Label: label, A: fmt.Sprint(x), B: fmt.Sprint(y)})
	}
	add("calls", figs[0].Calls, figs[1].Calls)
	add("containment %", ra.Containment, rb.Containment)
	add("honest containment %", ra.HonestContainment, rb.HonestContainment)
	add("transfer %", ra.Transfer, rb.Transfer)
	add("abandonment %", ra.Abandonment, rb.Abandonment)
	add("fallback %", ra.Fallback, rb.Fallback)
	add("average time in flow (s)", ra.FlowSecondsAvg, rb.FlowSecondsAvg)
	add("p90 time in flow (s)", ra.FlowSecondsP90, rb.FlowSecondsP90)
	ids := map[string]bool{}
	for _, in := range figs {
		for id := range in.Menus {
			ids[id] = true
		}
	}
	for _, id := range sortedKeys(boolCounts(ids)) {
		ma, mb := figs[0].Menu(id), figs[1].Menu(id)
		add(id+": entered", ma.Entered, mb.Entered)
		add(id+": chose %", pct(ma.Chose, ma.Entered), pct(mb.Chose, mb.Entered))
		add(id+": invalid %", pct(ma.Invalid, ma.Entered), pct(mb.Invalid, mb.Entered))
		add(id+": silent %", pct(ma.Silent, ma.Entered), pct(mb.Silent, mb.Entered))
		add(id+": hung up %", pct(ma.HungUp, ma.Entered), pct(mb.HungUp, mb.Entered))
	}
	return cv, nil
}

func boolCounts(m map[string]bool) map[string]int64 {
	out := make(map[string]int64, len(m))
	for k := range m {
		out[k] = 1
	}
	return out
}

// annotateGraph writes the period's counts on the flow map: calls on the
// arrow into the entry menu, how often each menu was entered (under its
// title), how often each option was chosen, on its row and its arrow, and
// how often each fetch failed (its on_error row) and each switch branch
// was taken.
// When several arrows leave the call's start (business hours, numbers),
// the calls are written on the start box instead: the counts say how many
// calls there were, not which arrow each took.
func annotateGraph(g *flowgraph.Graph, in *store.Insights) {
	fromStart := 0
	for _, e := range g.Edges {
		if e.From == "start" {
			fromStart++
		}
	}
	for i := range g.Nodes {
		n := &g.Nodes[i]
		if n.ID == "start" && fromStart > 1 {
			n.Count = fmt.Sprintf("%d calls", in.Calls)
		}
		if n.Menu != "" {
			m := in.Menu(n.Menu)
			n.Count = fmt.Sprintf("%d entered · %d hung up", m.Entered, m.HungUp)
		}
		for j := range n.Rows {
			row := &n.Rows[j]
			switch {
			case row.Menu != "" && row.Option != "":
				row.Count = rowCount(in.Menu(row.Menu), row.Option)
			case row.Menu != "" && row.Tally.Kind != "":
				row.Count = tallyCount(in.Menu(row.Menu), row.Tally)
			}
		}
	}
	for i := range g.Edges {
		e := &g.Edges[i]
		switch {
		case e.Menu != "" && e.Option != "":
			e.Count = fmt.Sprint(in.Menu(e.Menu).Options[e.Option])
		case e.Menu != "" && e.Tally.Kind != "":
			e.Count = tallyCount(in.Menu(e.Menu), e.Tally)
		case e.From == "start" && fromStart == 1:
			e.Count = fmt.Sprint(in.Calls)
		}
	}
}

// rowCount is the figure on a flow-map row of menu m: how often its option
// was chosen, or for the input controls' rows how often the read-back was
// accepted and rejected, or the repeat key pressed.
func rowCount(m store.MenuCounts, option string) string {
	switch option {
	case flowgraph.ConfirmOption:
		return fmt.Sprintf("%d ✓ %d ✗", m.Confirmed, m.Rejected)
	case flowgraph.RepeatOption:
		return fmt.Sprint(m.Repeats)
	}
	return fmt.Sprint(m.Options[option])
}

// tallyCount is the figure on a flow-map row of menu m that is not an
// option: how often its fetch failed, or its switch branch was taken.
func tallyCount(m store.MenuCounts, t flowgraph.Tally) string {
	switch t.Kind {
	case flowgraph.TallyOnError:
		return fmt.Sprint(m.FetchFailed[t.Name])
	case flowgraph.TallyBranch:
		return fmt.Sprint(m.Branches[t.Name])
	case flowgraph.TallyElse:
		return fmt.Sprint(m.Else)
	}
	return ""
}
