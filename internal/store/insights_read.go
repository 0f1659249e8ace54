package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
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
	// FlowSecondsP90Under: the p90 falls in the histogram's first bucket, so
	// all that is known is that it is under FlowSecondsP90 (its upper bound).
	FlowSecondsP90Under bool `json:"flow_seconds_p90_under"`
	// StepLimits counts calls the flow's step limit ended (a caller who kept
	// running out of tries, such as a silent caller between two menus).
	StepLimits int64 `json:"step_limits"`

	Days      []HourCount               `json:"days"`      // days with calls, in order
	Hours     []HourCount               `json:"hours"`     // hours with calls, in order; only for periods of at most HourlyMaxDays
	Menus     map[string]*MenuCounts    `json:"menus"`     // by menu id
	Transfers map[string]int64          `json:"transfers"` // how transfers ended, by dial status
	Failures  []FailureCount            `json:"failures"`  // fallbacks and refusals by hour and reason
	Revisions []string                  `json:"revisions"` // flow revisions seen in the period
	Variants  map[string]*VariantCounts `json:"variants"`  // by split variant label (ended calls)
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
	Confirmed int64            `json:"confirmed"` // read-backs accepted (collect confirm)
	Rejected  int64            `json:"rejected"`  // read-backs rejected: 2, or silence twice
	Repeats   int64            `json:"repeats"`   // the repeat key pressed
	// StepLimits: calls whose step limit was reached in this menu.
	StepLimits int64 `json:"step_limits"`
	// FetchFailed: by request, how often a fetch failed in this menu (its
	// on_error ran); Branches: by condition (as the calls record it), how
	// often a switch branch was taken, and Else how often an else was.
	FetchFailed map[string]int64 `json:"fetch_failed,omitempty"`
	Branches    map[string]int64 `json:"branches,omitempty"`
	Else        int64            `json:"else,omitempty"`
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
	in := &Insights{Menus: map[string]*MenuCounts{}, Transfers: map[string]int64{}, Hours: []HourCount{}, Days: []HourCount{},
		Failures: []FailureCount{}, Revisions: []string{}, Variants: map[string]*VariantCounts{}}
	c := &callPart{in: in, hist: make([]int64, len(flowBuckets)+1), abandoned: map[string]int64{}}
	// The parts read different tables and indexes and fill different
	// fields: they run at once, each on its own connection (SQLite readers
	// do not block each other in WAL mode), so the answer takes about as
	// long as its longest part.
	parts := []func() error{
		func() error { return wrap("menus", d.insightMenus(ctx, f, in)) },
		func() error { return wrap("failures", d.insightFailures(ctx, f, in)) },
		func() error { return wrap("variants", d.insightVariants(ctx, f, in)) },
	}
	parts = append(parts, func() error { return wrap("calls per day", d.insightCallDays(ctx, f, c)) })
	var open []openCount
	parts = append(parts, func() (err error) {
		open, err = d.insightOpen(ctx, f)
		return err
	})
	if f.short() {
		parts = append(parts, func() error { return wrap("calls per hour", d.insightHours(ctx, f, c)) })
	}
	errs := make([]error, len(parts))
	var wg sync.WaitGroup
	for i, part := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = part()
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("insights: %w", err)
	}
	c.addOpen(open, f)
	for menu, n := range c.abandoned {
		if menu != "" { // "" = hung up before reaching a menu
			in.menu(menu).HungUp += n
		}
	}
	for _, n := range c.hist {
		in.FlowCalls += n
	}
	if in.FlowCalls > 0 {
		in.FlowSecondsAvg = float64(c.flowSum) / float64(in.FlowCalls)
		in.FlowSecondsP90, in.FlowSecondsP90Under = percentile(c.hist, in.FlowCalls, 0.9)
	}
	return in, nil
}

func wrap(what string, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
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

// andCalls adds f's conditions on the calls table to q: started_at in
// [since, until) (each bound only when f sets it; the caller rounds them to
// its unit), the provider, the number called and the flow revision.
func (d *DB) andCalls(q *filter, f InsightFilter, since, until time.Time) {
	if !f.Since.IsZero() {
		q.and("started_at >= " + q.arg(d.tv(since)))
	}
	if !f.Until.IsZero() {
		q.and("started_at < " + q.arg(d.tv(until)))
	}
	if f.Provider != "" {
		q.and("provider = " + q.arg(f.Provider))
	}
	if f.To != "" {
		q.and("to_number = " + q.arg(f.To))
	}
	if f.Revision != "" {
		q.and("revision = " + q.arg(f.Revision))
	}
}

func floorUnit(t time.Time, unit time.Duration) int64 {
	return t.Unix() / int64(unit/time.Second)
}

func ceilUnit(t time.Time, unit time.Duration) int64 {
	u := int64(unit / time.Second)
	return (t.Unix() + u - 1) / u
}

// percentile reads the p-th quantile from the histogram, interpolating
// linearly inside the bucket it falls in. In the first bucket (0 to 5 s)
// that would be a guess (every call could take under a second): it returns
// the bucket's upper bound and under = true instead.
func percentile(hist []int64, total int64, p float64) (v float64, under bool) {
	rank := p * float64(total)
	var seen float64
	lo := 0.0
	for i, n := range hist {
		if i == len(flowBuckets) {
			return lo, false // open bucket: at least its lower bound
		}
		hi := float64(flowBuckets[i])
		if seen+float64(n) >= rank && n > 0 {
			if i == 0 {
				return hi, true
			}
			return lo + (hi-lo)*(rank-seen)/float64(n), false
		}
		seen += float64(n)
		lo = hi
	}
	return lo, false
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
		case KindConfirmed:
			m.Confirmed += n
		case KindRejected:
			m.Rejected += n
		case KindRepeat:
			m.Repeats += n
		case KindStepLimit:
			m.StepLimits += n
			in.StepLimits += n
		case KindFetchFail:
			m.FetchFailed = addTo(m.FetchFailed, detail, n)
		case KindBranch:
			m.Branches = addTo(m.Branches, detail, n)
		case KindElse:
			m.Else += n
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

// addTo adds n to m[k], making m when it is nil.
func addTo(m map[string]int64, k string, n int64) map[string]int64 {
	if m == nil {
		m = map[string]int64{}
	}
	m[k] += n
	return m
}
