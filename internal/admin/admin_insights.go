package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ivr-project/ivr/internal/store"
)

// The insights API: GET /admin/api/insights (the contract's shape),
// /admin/api/insights/compare (two flow revisions side by side) and
// /admin/api/insights/export (every aggregate and the calls, CSV or JSON).
// All take since, until (YYYY-MM-DD, UTC days, until inclusive; default the
// last 7 days), to (the number called) and provider.

// period is a parsed insights query.
type period struct {
	Since, Until       string // as given (or defaulted), YYYY-MM-DD
	To, Provider, Rev  string
	filter             store.InsightFilter
	days               int
	sinceDay, untilDay time.Time // untilDay: the last day, inclusive
}

// maxInsightDays bounds a period (a few years of daily figures).
const maxInsightDays = 3 * 366

func parsePeriod(q url.Values, now time.Time) (period, error) {
	p := period{
		Since: strings.TrimSpace(q.Get("since")), Until: strings.TrimSpace(q.Get("until")),
		To: strings.TrimSpace(q.Get("to")), Provider: strings.TrimSpace(q.Get("provider")), Rev: strings.TrimSpace(q.Get("revision")),
	}
	var err error
	if p.untilDay, err = queryDate(q, "until"); err != nil {
		return p, err
	}
	if p.untilDay.IsZero() {
		p.untilDay = now.UTC().Truncate(24 * time.Hour)
	}
	if p.sinceDay, err = queryDate(q, "since"); err != nil {
		return p, err
	}
	if p.sinceDay.IsZero() {
		p.sinceDay = p.untilDay.AddDate(0, 0, -6)
	}
	if p.untilDay.Before(p.sinceDay) {
		return p, errors.New("until is before since: pick an until on or after since")
	}
	p.days = int(p.untilDay.Sub(p.sinceDay)/(24*time.Hour)) + 1
	if p.days > maxInsightDays {
		return p, fmt.Errorf("the period is %d days; pick at most %d", p.days, maxInsightDays)
	}
	switch p.Provider {
	case "", "twilio", "plivo":
	default:
		return p, fmt.Errorf("provider: twilio, plivo or empty (got %q)", p.Provider)
	}
	p.Since, p.Until = p.sinceDay.Format(time.DateOnly), p.untilDay.Format(time.DateOnly)
	p.filter = store.InsightFilter{Since: p.sinceDay, Until: p.untilDay.AddDate(0, 0, 1), To: p.To, Provider: p.Provider, Revision: p.Rev}
	return p, nil
}

// Query is the period as a URL query string (for links).
func (p period) Query() string { return p.query().Encode() }

// query is the period as URL parameters (without the revision).
func (p period) query() url.Values {
	v := url.Values{"since": {p.Since}, "until": {p.Until}}
	if p.To != "" {
		v.Set("to", p.To)
	}
	if p.Provider != "" {
		v.Set("provider", p.Provider)
	}
	return v
}

// menuFunnel and InsightsJSON are the contract's shape.
type menuFunnel struct {
	Entered int64 `json:"entered"`
	Chose   int64 `json:"chose"`
	Invalid int64 `json:"invalid"`
	Silent  int64 `json:"silent"`
	HungUp  int64 `json:"hung_up"`
	// The caller's input controls: read-backs accepted and rejected, and
	// the repeat key.
	Confirmed int64 `json:"confirmed"`
	Rejected  int64 `json:"rejected"`
	Repeats   int64 `json:"repeats"`
	// Inside the menu's actions: by request, how often a fetch failed (its
	// on_error ran); by condition, how often a switch branch was taken, and
	// how often an else was (what the flow map shows on those rows).
	FetchFailed map[string]int64 `json:"fetch_failed,omitempty"`
	Branches    map[string]int64 `json:"branches,omitempty"`
	Else        int64            `json:"else,omitempty"`
}

type InsightsJSON struct {
	Calls         int64                 `json:"calls"`
	Contained     int64                 `json:"contained"`
	Transferred   int64                 `json:"transferred"`
	Abandoned     int64                 `json:"abandoned"`
	Fallbacks     int64                 `json:"fallbacks"`
	RepeatCallers int64                 `json:"repeat_callers"`
	Menus         map[string]menuFunnel `json:"menus"`
	// Variants are the split variants' calls by label (calls that ended).
	Variants map[string]*store.VariantCounts `json:"variants"`
	// Callbacks counts the callbacks requested in the period and those for
	// which a call was placed (absent in comparisons by revision).
	Callbacks *store.CallbackCounts `json:"callbacks,omitempty"`
}

func contractInsights(in *store.Insights) InsightsJSON {
	out := InsightsJSON{Calls: in.Calls, Contained: in.Contained, Transferred: in.Transferred, Abandoned: in.Abandoned,
		Fallbacks: in.Fallbacks, RepeatCallers: in.RepeatCallers, Menus: map[string]menuFunnel{}, Variants: in.Variants}
	for id, m := range in.Menus {
		out.Menus[id] = menuFunnel{Entered: m.Entered, Chose: m.Chose, Invalid: m.Invalid, Silent: m.Silent, HungUp: m.HungUp,
			Confirmed: m.Confirmed, Rejected: m.Rejected, Repeats: m.Repeats,
			FetchFailed: m.FetchFailed, Branches: m.Branches, Else: m.Else}
	}
	return out
}

// HandleAPIInsights answers GET /admin/api/insights.
func HandleAPIInsights(db *store.DB) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := parsePeriod(r.URL.Query(), time.Now())
		if err != nil {
			apiFail(w, failure(kindBadRequest, err.Error()))
			return
		}
		in, err := db.Insights(r.Context(), p.filter)
		if err != nil {
			apiFail(w, storeFailure("insights", err))
			return
		}
		out := contractInsights(in)
		cbs, err := db.CountCallbacks(r.Context(), p.filter.Since, p.filter.Until, p.filter.To, p.filter.Provider)
		if err != nil {
			apiFail(w, storeFailure("insights", err))
			return
		}
		out.Callbacks = &cbs
		writeJSON(w, http.StatusOK, out)
	})
}

// RevisionFigures is one side of a comparison: the contract's figures plus
// the rates.
type RevisionFigures struct {
	Revision string `json:"revision"`
	InsightsJSON
	Rates rates `json:"rates"`
}

// HandleAPIInsightsCompare answers GET /admin/api/insights/compare?a=REV&b=REV.
func HandleAPIInsightsCompare(db *store.DB) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		p, err := parsePeriod(q, time.Now())
		if err == nil && (q.Get("a") == "" || q.Get("b") == "") {
			err = errors.New("compare: give two flow revisions as a= and b=")
		}
		if err != nil {
			apiFail(w, failure(kindBadRequest, err.Error()))
			return
		}
		out := map[string]RevisionFigures{}
		for _, side := range []string{"a", "b"} {
			f := p.filter
			f.Revision = q.Get(side)
			in, err := db.Insights(r.Context(), f)
			if err != nil {
				apiFail(w, storeFailure("insights", err))
				return
			}
			out[side] = RevisionFigures{Revision: f.Revision, InsightsJSON: contractInsights(in), Rates: ratesOf(in)}
		}
		writeJSON(w, http.StatusOK, out)
	})
}

// rates are the dashboard's percentages (0-100) and times.
type rates struct {
	Containment       float64 `json:"containment"`
	HonestContainment float64 `json:"honest_containment"` // contained and the caller did not call again within 24 h
	Transfer          float64 `json:"transfer"`
	Abandonment       float64 `json:"abandonment"`
	Fallback          float64 `json:"fallback"`
	Repeat            float64 `json:"repeat"`
	FlowSecondsAvg    float64 `json:"flow_seconds_avg"`
	FlowSecondsP90    float64 `json:"flow_seconds_p90"`
	// FlowSecondsP90Under: the p90 is only known to be under FlowSecondsP90
	// (it falls in the histogram's first bucket); shown as "< 5 s".
	FlowSecondsP90Under bool `json:"flow_seconds_p90_under"`
}

func pct(n, of int64) float64 {
	if of == 0 {
		return 0
	}
	return float64(int64(float64(n)*1000/float64(of)+0.5)) / 10
}

func ratesOf(in *store.Insights) rates {
	return rates{
		Containment: pct(in.Contained, in.Calls), HonestContainment: pct(in.ContainedNotRepeated, in.Calls),
		Transfer: pct(in.Transferred, in.Calls), Abandonment: pct(in.Abandoned, in.Calls),
		Fallback: pct(in.Fallbacks, in.Calls), Repeat: pct(in.RepeatCallers, in.Calls),
		FlowSecondsAvg: round1(in.FlowSecondsAvg), FlowSecondsP90: round1(in.FlowSecondsP90),
		FlowSecondsP90Under: in.FlowSecondsP90Under,
	}
}

func round1(v float64) float64 { return float64(int64(v*10+0.5)) / 10 }

// exportTables are the aggregates the export offers, by name.
var exportTables = []string{"summary", "hours", "days", "menus", "options", "abandoned", "transfers", "failures", "calls"}

// HandleAPIInsightsExport answers GET /admin/api/insights/export?what=W&format=csv|json.
func HandleAPIInsightsExport(db *store.DB) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		p, err := parsePeriod(q, time.Now())
		what, format := q.Get("what"), q.Get("format")
		if format == "" {
			format = "csv"
		}
		switch {
		case err != nil:
		case format != "csv" && format != "json":
			err = fmt.Errorf("format: csv or json (got %q)", format)
		case !slices.Contains(exportTables, what):
			err = fmt.Errorf("what: one of %s (got %q)", strings.Join(exportTables, ", "), what)
		}
		if err != nil {
			apiFail(w, failure(kindBadRequest, err.Error()))
			return
		}
		name := fmt.Sprintf("ivr-%s-%s-%s.%s", what, p.Since, p.Until, format)
		if what == "calls" {
			exportCalls(w, r, db, p, format, name)
			return
		}
		in, err := db.Insights(r.Context(), p.filter)
		if err != nil {
			apiFail(w, storeFailure("insights", err))
			return
		}
		header, rows := exportRows(what, in, p)
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
		if format == "json" {
			writeJSON(w, http.StatusOK, rowsJSON(header, rows))
			return
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		cw := newCSV(w)
		cw.Write(header)
		for _, row := range rows {
			cw.Write(row)
		}
		cw.Flush()
	})
}

// rowsJSON turns a table into a list of objects; numbers stay numbers.
func rowsJSON(header []string, rows [][]string) []map[string]any {
	out := make([]map[string]any, 0, len(rows))
	for _, row := range rows {
		m := make(map[string]any, len(header))
		for i, h := range header {
			if n, err := strconv.ParseFloat(row[i], 64); err == nil && h != "option" && h != "to" && h != "from" && h != "revision" {
				m[h] = n
			} else {
				m[h] = row[i]
			}
		}
		out = append(out, m)
	}
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func ftoa(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// exportRows lays one aggregate out as a table.
func exportRows(what string, in *store.Insights, p period) ([]string, [][]string) {
	var rows [][]string
	switch what {
	case "summary":
		rt := ratesOf(in)
		return []string{"since", "until", "calls", "contained", "contained_not_repeated", "transferred", "abandoned", "fallbacks", "in_progress",
				"repeat_callers", "containment_pct", "honest_containment_pct", "transfer_pct", "abandonment_pct", "flow_seconds_avg", "flow_seconds_p90"},
			[][]string{{p.Since, p.Until, itoa(in.Calls), itoa(in.Contained), itoa(in.ContainedNotRepeated), itoa(in.Transferred), itoa(in.Abandoned),
				itoa(in.Fallbacks), itoa(in.InProgress), itoa(in.RepeatCallers), ftoa(rt.Containment), ftoa(rt.HonestContainment),
				ftoa(rt.Transfer), ftoa(rt.Abandonment), ftoa(rt.FlowSecondsAvg), ftoa(rt.FlowSecondsP90)}}
	case "hours", "days":
		series := in.Hours // periods of at most store.HourlyMaxDays days
		if what == "days" {
			series = in.Days
		}
		for _, h := range series {
			rows = append(rows, []string{h.Hour.Format(time.RFC3339), itoa(h.Calls), itoa(h.Contained), itoa(h.Transferred), itoa(h.Abandoned), itoa(h.Fallbacks)})
		}
		return []string{"start", "calls", "contained", "transferred", "abandoned", "fallbacks"}, rows
	case "menus", "abandoned":
		for _, id := range menuIDs(in) {
			m := in.Menus[id]
			rows = append(rows, []string{id, itoa(m.Entered), itoa(m.Chose), itoa(m.Invalid), itoa(m.Silent), itoa(m.HungUp),
				ftoa(pct(m.Invalid, m.Entered)), ftoa(pct(m.Silent, m.Entered)), ftoa(pct(m.HungUp, m.Entered))})
		}
		return []string{"menu", "entered", "chose", "invalid", "silent", "hung_up", "invalid_pct", "silent_pct", "hung_up_pct"}, rows
	case "options":
		for _, id := range menuIDs(in) {
			m := in.Menus[id]
			for _, k := range sortedKeys(m.Options) {
				rows = append(rows, []string{id, k, itoa(m.Options[k]), ftoa(pct(m.Options[k], m.Chose))})
			}
		}
		return []string{"menu", "option", "chosen", "share_pct"}, rows
	case "transfers":
		for _, k := range sortedKeys(in.Transfers) {
			rows = append(rows, []string{k, itoa(in.Transfers[k])})
		}
		return []string{"dial_status", "count"}, rows
	default: // failures
		for _, f := range in.Failures {
			rows = append(rows, []string{f.Hour.Format(time.RFC3339), f.Kind, f.Provider, f.Reason, itoa(f.Count)})
		}
		return []string{"hour", "kind", "provider", "reason", "count"}, rows
	}
}

func menuIDs(in *store.Insights) []string {
	ids := make([]string, 0, len(in.Menus))
	for id := range in.Menus {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func sortedKeys(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// exportCalls streams the period's calls page by page, newest first.
func exportCalls(w http.ResponseWriter, r *http.Request, db *store.DB, p period, format, name string) {
	opts := store.ListOptions{Limit: 500, Since: p.filter.Since, Until: p.filter.Until}
	calls, next, err := db.ListCalls(r.Context(), opts)
	if err != nil {
		apiFail(w, storeFailure("export calls", err))
		return
	}
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	var (
		cw    *safeCSV
		enc   *json.Encoder
		first = true
	)
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		cw = newCSV(w)
		cw.Write([]string{"provider", "call_id", "from", "to", "status", "started_at", "ended_at", "duration_seconds", "path"})
	} else {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"calls": [`))
		enc = json.NewEncoder(w)
	}
	for {
		for _, c := range calls {
			if (p.Provider != "" && c.Provider != p.Provider) || (p.To != "" && c.To != p.To) {
				continue
			}
			if cw != nil {
				ended := ""
				if c.EndedAt != nil {
					ended = c.EndedAt.Format(time.RFC3339)
				}
				cw.Write([]string{c.Provider, c.CallID, c.From, c.To, c.Status, c.StartedAt.Format(time.RFC3339), ended,
					strconv.Itoa(c.DurationSeconds), callPath(c.Events)})
				continue
			}
			if !first {
				w.Write([]byte(","))
			}
			first = false
			enc.Encode(c)
		}
		if next == "" || r.Context().Err() != nil {
			break
		}
		opts.Cursor = next
		if calls, next, err = db.ListCalls(r.Context(), opts); err != nil {
			break // the answer has begun: a cut-off export is all that can be said
		}
	}
	if cw != nil {
		cw.Flush()
		return
	}
	w.Write([]byte("]}\n"))
}
