package store

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// InsightFilter selects the calls an Insights answer is about.
type InsightFilter struct {
	Since, Until time.Time // calls that started in [Since, Until), whole UTC hours
	To           string    // the number called; "" = all
	Provider     string    // "twilio" | "plivo"; "" = both
	Revision     string    // flow revision; "" = all
}

// Outcome of a call, as the calls.outcome column stores it.
const (
	OutcomeInProgress  = 0 // no final status yet and the flow has not ended it
	OutcomeContained   = 1 // ended in the flow: no transfer, no fallback
	OutcomeTransferred = 2
	OutcomeAbandoned   = 3 // the caller hung up inside the flow
	OutcomeFallback    = 4
)

// Insights are the aggregates of the dashboard over a filter.
type Insights struct {
	Calls         int64 `json:"calls"`
	Contained     int64 `json:"contained"`
	Transferred   int64 `json:"transferred"`
	Abandoned     int64 `json:"abandoned"`
	Fallbacks     int64 `json:"fallbacks"`
	InProgress    int64 `json:"in_progress"`
	RepeatCallers int64 `json:"repeat_callers"`
	// ContainedNotRepeated counts contained calls whose caller did not call
	// again within 24 hours ("honest containment").
	ContainedNotRepeated int64 `json:"contained_not_repeated"`
	// Time in the flow (first to last event), over calls with events.
	FlowCalls      int64   `json:"flow_calls"`
	FlowSecondsAvg float64 `json:"flow_seconds_avg"`
	FlowSecondsP90 float64 `json:"flow_seconds_p90"` // from a histogram; see flowBuckets

	Hours     []HourCount            `json:"hours"`     // hours with calls, in order
	Menus     map[string]*MenuCounts `json:"menus"`     // by menu id
	Transfers map[string]int64       `json:"transfers"` // how transfers ended, by dial status
	Failures  []FailureCount         `json:"failures"`  // fallbacks and refusals by hour and reason
	Revisions []string               `json:"revisions"` // flow revisions seen in the period
}

// HourCount is one hour of calls by outcome.
type HourCount struct {
	Hour        time.Time `json:"hour"`
	Calls       int64     `json:"calls"`
	Contained   int64     `json:"contained"`
	Transferred int64     `json:"transferred"`
	Abandoned   int64     `json:"abandoned"`
	Fallbacks   int64     `json:"fallbacks"`
}

// MenuCounts is the funnel of one menu.
type MenuCounts struct {
	Entered   int64            `json:"entered"`
	Chose     int64            `json:"chose"`
	Invalid   int64            `json:"invalid"`
	Silent    int64            `json:"silent"`
	HungUp    int64            `json:"hung_up"`
	Options   map[string]int64 `json:"options"` // by option key
	Transfers int64            `json:"transfers"`
	Voicemail int64            `json:"voicemail"`
}

// FailureCount is how often the server answered with the fallback or
// refused a request, for one hour and reason.
type FailureCount struct {
	Hour     time.Time `json:"hour"`
	Kind     string    `json:"kind"` // "fallback" | "refused"
	Provider string    `json:"provider"`
	Reason   string    `json:"reason"`
	Count    int64     `json:"count"`
}

// flowBuckets are the upper bounds (seconds) of the time-in-flow histogram
// the p90 is read from (linear inside a bucket); the last bucket is open.
var flowBuckets = []int{5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600}

// Insights computes the dashboard's aggregates. The call figures come from
// the calls table (index calls_insight: one pass over the period's hours),
// the menu funnels from insight_menu_days, the failures from
// insight_failures; each is one query.
func (d *DB) Insights(ctx context.Context, f InsightFilter) (*Insights, error) {
	in := &Insights{Menus: map[string]*MenuCounts{}, Transfers: map[string]int64{}, Hours: []HourCount{}, Failures: []FailureCount{}, Revisions: []string{}}
	hist := make([]int64, len(flowBuckets)+1)
	var flowSum int64
	if err := d.insightCalls(ctx, f, in, hist, &flowSum); err != nil {
		return nil, fmt.Errorf("insights: calls: %w", err)
	}
	if in.FlowCalls > 0 {
		in.FlowSecondsAvg = float64(flowSum) / float64(in.FlowCalls)
		in.FlowSecondsP90 = percentile(hist, in.FlowCalls, 0.9)
	}
	if err := d.insightAbandoned(ctx, f, in); err != nil {
		return nil, fmt.Errorf("insights: abandoned: %w", err)
	}
	if err := d.insightMenus(ctx, f, in); err != nil {
		return nil, fmt.Errorf("insights: menus: %w", err)
	}
	if err := d.insightFailures(ctx, f, in); err != nil {
		return nil, fmt.Errorf("insights: failures: %w", err)
	}
	return in, nil
}

// where builds the filter's conditions on a table with hour (or day),
// provider, to_number and revision columns.
func (f InsightFilter) where(timeCol string, unit time.Duration, withTo, withRevision bool) (string, []any) {
	var q filter
	if !f.Since.IsZero() {
		q.and(timeCol + " >= " + q.arg(floorUnit(f.Since, unit)))
	}
	if !f.Until.IsZero() {
		q.and(timeCol + " < " + q.arg(ceilUnit(f.Until, unit)))
	}
	if f.Provider != "" {
		q.and("provider = " + q.arg(f.Provider))
	}
	if withTo && f.To != "" {
		q.and("to_number = " + q.arg(f.To))
	}
	if withRevision && f.Revision != "" {
		q.and("revision = " + q.arg(f.Revision))
	}
	if len(q.conds) == 0 {
		return "", nil
	}
	return q.where(), q.args
}

func floorUnit(t time.Time, unit time.Duration) int64 {
	return t.Unix() / int64(unit/time.Second)
}

func ceilUnit(t time.Time, unit time.Duration) int64 {
	u := int64(unit / time.Second)
	return (t.Unix() + u - 1) / u
}

func (d *DB) insightCalls(ctx context.Context, f InsightFilter, in *Insights, hist []int64, flowSum *int64) error {
	where, args := f.where("hour", time.Hour, true, true)
	var cols strings.Builder
	for _, b := range flowBuckets {
		fmt.Fprintf(&cols, ", sum(CASE WHEN flow_seconds < %d THEN 1 ELSE 0 END)", b)
	}
	q := `SELECT hour, outcome, count(*), sum(repeated), count(flow_seconds), coalesce(sum(flow_seconds), 0)` + cols.String() +
		` FROM calls` + where + ` GROUP BY hour, outcome ORDER BY hour, outcome`
	rows, err := d.sql.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	below := make([]int64, len(flowBuckets))
	dest := []any{new(int64), new(int64), new(int64), new(int64), new(int64), new(int64)}
	for i := range below {
		dest = append(dest, &below[i])
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		hour, outcome, n, repeated, flowN, flowS := *dest[0].(*int64), *dest[1].(*int64), *dest[2].(*int64), *dest[3].(*int64), *dest[4].(*int64), *dest[5].(*int64)
		t := time.Unix(hour*3600, 0).UTC()
		if len(in.Hours) == 0 || !in.Hours[len(in.Hours)-1].Hour.Equal(t) {
			in.Hours = append(in.Hours, HourCount{Hour: t})
		}
		h := &in.Hours[len(in.Hours)-1]
		h.Calls += n
		in.Calls += n
		in.RepeatCallers += repeated
		switch outcome {
		case OutcomeContained:
			h.Contained += n
			in.Contained += n
			in.ContainedNotRepeated += n - repeated
		case OutcomeTransferred:
			h.Transferred += n
			in.Transferred += n
		case OutcomeAbandoned:
			h.Abandoned += n
			in.Abandoned += n
		case OutcomeFallback:
			h.Fallbacks += n
			in.Fallbacks += n
		default:
			in.InProgress += n
		}
		in.FlowCalls += flowN
		*flowSum += flowS
		prev := int64(0)
		for i, c := range below { // cumulative counts -> per-bucket counts
			hist[i] += c - prev
			prev = c
		}
		hist[len(flowBuckets)] += flowN - prev
	}
	return rows.Err()
}

// percentile reads the p-th quantile from the histogram, interpolating
// linearly inside the bucket it falls in.
func percentile(hist []int64, total int64, p float64) float64 {
	rank := p * float64(total)
	var seen float64
	lo := 0.0
	for i, n := range hist {
		hi := float64(flowBuckets[min(i, len(flowBuckets)-1)])
		if i == len(flowBuckets) {
			return lo // open bucket: at least its lower bound
		}
		if seen+float64(n) >= rank && n > 0 {
			return lo + (hi-lo)*(rank-seen)/float64(n)
		}
		seen += float64(n)
		lo = hi
	}
	return lo
}

func (d *DB) insightAbandoned(ctx context.Context, f InsightFilter, in *Insights) error {
	where, args := f.where("hour", time.Hour, true, true)
	if where == "" {
		where = " WHERE outcome = " + strconv.Itoa(OutcomeAbandoned)
	} else {
		where += " AND outcome = " + strconv.Itoa(OutcomeAbandoned)
	}
	rows, err := d.sql.QueryContext(ctx, `SELECT last_menu, count(*) FROM calls`+where+` GROUP BY last_menu`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			menu string
			n    int64
		)
		if err := rows.Scan(&menu, &n); err != nil {
			return err
		}
		if menu == "" {
			continue // hung up before reaching a menu
		}
		in.menu(menu).HungUp += n
	}
	return rows.Err()
}

// Menu returns the counts of menu id (zero when it saw nothing).
func (in *Insights) Menu(id string) MenuCounts {
	if m := in.Menus[id]; m != nil {
		return *m
	}
	return MenuCounts{}
}

func (in *Insights) menu(id string) *MenuCounts {
	m := in.Menus[id]
	if m == nil {
		m = &MenuCounts{Options: map[string]int64{}}
		in.Menus[id] = m
	}
	return m
}

func (d *DB) insightMenus(ctx context.Context, f InsightFilter, in *Insights) error {
	where, args := f.where("day", 24*time.Hour, true, true)
	rows, err := d.sql.QueryContext(ctx, `SELECT menu, kind, detail, revision, sum(n) FROM insight_menu_days`+where+
		` GROUP BY menu, kind, detail, revision`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	revs := map[string]bool{}
	for rows.Next() {
		var (
			menu, kind, detail, rev string
			n                       int64
		)
		if err := rows.Scan(&menu, &kind, &detail, &rev, &n); err != nil {
			return err
		}
		if rev != "" && !revs[rev] {
			revs[rev] = true
			in.Revisions = append(in.Revisions, rev)
		}
		if kind == KindDial {
			in.Transfers[detail] += n
		}
		if menu == "" {
			continue
		}
		m := in.menu(menu)
		switch kind {
		case KindEnter:
			m.Entered += n
		case KindOption:
			m.Chose += n
			m.Options[detail] += n
		case KindInvalid:
			m.Invalid += n
		case KindSilent:
			m.Silent += n
		case KindTransfer:
			m.Transfers += n
		case KindVoicemail:
			m.Voicemail += n
		}
	}
	sort.Strings(in.Revisions)
	return rows.Err()
}

func (d *DB) insightFailures(ctx context.Context, f InsightFilter, in *Insights) error {
	where, args := f.where("hour", time.Hour, false, false)
	rows, err := d.sql.QueryContext(ctx, `SELECT hour, kind, provider, reason, sum(n) FROM insight_failures`+where+
		` GROUP BY hour, kind, provider, reason ORDER BY hour, kind, provider, reason`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			hour int64
			fc   FailureCount
		)
		if err := rows.Scan(&hour, &fc.Kind, &fc.Provider, &fc.Reason, &fc.Count); err != nil {
			return err
		}
		fc.Hour = time.Unix(hour*3600, 0).UTC()
		in.Failures = append(in.Failures, fc)
	}
	return rows.Err()
}
