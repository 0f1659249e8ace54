package store

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// The call figures of Insights. PostgreSQL aggregates the calls table
// itself (covering indexes, STORED generated columns). SQLite reads
// insight_call_days, the per-day rollup its triggers keep (migration 0021),
// and the calls table only for the hourly series of a short period.

// HourlyMaxDays is the longest period Insights gives hourly figures for.
const HourlyMaxDays = 7

// short reports whether the filter's period has hourly figures.
func (f InsightFilter) short() bool {
	return !f.Since.IsZero() && !f.Until.IsZero() && f.Until.Sub(f.Since) <= HourlyMaxDays*24*time.Hour
}

// callPart collects the call figures before Insights combines them.
type callPart struct {
	in        *Insights // totals, Days, Hours
	hist      []int64   // time in flow, per flow bucket
	flowSum   int64
	abandoned map[string]int64 // by menu
}

// add counts n calls of one outcome (repeated of them repeats) at t in the
// series and, when totals, in the totals.
func (c *callPart) add(series *[]HourCount, t time.Time, outcome, n, repeated int64, totals bool) {
	if len(*series) == 0 || !(*series)[len(*series)-1].Hour.Equal(t) {
		*series = append(*series, HourCount{Hour: t})
	}
	h := &(*series)[len(*series)-1]
	h.Calls += n
	in := c.in
	if totals {
		in.Calls += n
		in.RepeatCallers += repeated
	}
	switch outcome {
	case OutcomeContained:
		h.Contained += n
		if totals {
			in.Contained += n
			in.ContainedNotRepeated += n - repeated
		}
	case OutcomeTransferred:
		h.Transferred += n
		if totals {
			in.Transferred += n
		}
	case OutcomeAbandoned:
		h.Abandoned += n
		if totals {
			in.Abandoned += n
		}
	case OutcomeFallback:
		h.Fallbacks += n
		if totals {
			in.Fallbacks += n
		}
	default:
		if totals {
			in.InProgress += n
		}
	}
}

// insightCallDays reads SQLite's per-day rollup: totals, days, time in
// flow and abandonment by menu.
func (d *DB) insightCallDays(ctx context.Context, f InsightFilter, c *callPart) error {
	where, args := f.where("day", 24*time.Hour, true, true)
	var cols strings.Builder
	for i := range c.hist {
		cols.WriteString(", sum(b" + strconv.Itoa(i) + ")")
	}
	rows, err := d.sql.QueryContext(ctx, `SELECT day, outcome, menu, repeated, sum(n), sum(flow_sum)`+cols.String()+
		` FROM insight_call_days`+where+` GROUP BY day, outcome, menu, repeated ORDER BY day, outcome`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	hist := make([]int64, len(c.hist))
	var (
		day, outcome, repeated, n, flowSum int64
		menu                               string
	)
	dest := []any{&day, &outcome, &menu, &repeated, &n, &flowSum}
	for i := range hist {
		dest = append(dest, &hist[i])
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		if n == 0 {
			continue // every call of this row moved elsewhere
		}
		rep := int64(0)
		if repeated == 1 {
			rep = n
		}
		c.add(&c.in.Days, time.Unix(day*86400, 0).UTC(), outcome, n, rep, true)
		c.flowSum += flowSum
		for i, b := range hist {
			c.hist[i] += b
		}
		if outcome == OutcomeAbandoned {
			c.abandoned[menu] += n
		}
	}
	return rows.Err()
}

// insightHours reads the hourly series of a short period from the calls.
func (d *DB) insightHours(ctx context.Context, f InsightFilter, c *callPart) error {
	where, args := f.where("hour", time.Hour, true, true)
	rows, err := d.sql.QueryContext(ctx, `SELECT hour, outcome, count(*) FROM calls`+where+
		` GROUP BY hour, outcome ORDER BY hour, outcome`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var hour, outcome, n int64
		if err := rows.Scan(&hour, &outcome, &n); err != nil {
			return err
		}
		c.add(&c.in.Hours, time.Unix(hour*3600, 0).UTC(), outcome, n, 0, false)
	}
	return rows.Err()
}

// insightCalls aggregates the calls table (PostgreSQL): totals, days, and
// hours for a short period.
func (d *DB) insightCalls(ctx context.Context, f InsightFilter, c *callPart) error {
	where, args := f.where("hour", time.Hour, true, true)
	rows, err := d.sql.QueryContext(ctx, `SELECT hour, outcome, count(*), sum(repeated), coalesce(sum(flow_seconds), 0) FROM calls`+
		where+` GROUP BY hour, outcome ORDER BY hour, outcome`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	short := f.short()
	for rows.Next() {
		var hour, outcome, n, repeated, flowS int64
		if err := rows.Scan(&hour, &outcome, &n, &repeated, &flowS); err != nil {
			return err
		}
		t := time.Unix(hour*3600, 0).UTC()
		c.add(&c.in.Days, t.Truncate(24*time.Hour), outcome, n, repeated, true)
		if short {
			c.add(&c.in.Hours, t, outcome, n, repeated, false)
		}
		c.flowSum += flowS
	}
	return rows.Err()
}

// insightFlowHistogram counts the period's calls per time-in-flow bucket
// (index calls_flow: one short range per bucket).
func (d *DB) insightFlowHistogram(ctx context.Context, f InsightFilter, hist []int64) error {
	where, args := f.where("hour", time.Hour, true, true)
	buckets := make([]string, len(hist))
	for i := range buckets {
		buckets[i] = strconv.Itoa(i)
	}
	cond := "flow_bucket IN (" + strings.Join(buckets, ", ") + ")"
	if where == "" {
		where = " WHERE " + cond
	} else {
		where += " AND " + cond
	}
	rows, err := d.sql.QueryContext(ctx, `SELECT flow_bucket, count(*) FROM calls`+where+` GROUP BY flow_bucket`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var b, n int64
		if err := rows.Scan(&b, &n); err != nil {
			return err
		}
		if b >= 0 && int(b) < len(hist) {
			hist[b] += n
		}
	}
	return rows.Err()
}

// insightAbandoned counts abandoned calls by the menu they ended in.
func (d *DB) insightAbandoned(ctx context.Context, f InsightFilter, byMenu map[string]int64) error {
	where, args := f.where("hour", time.Hour, true, true)
	cond := "outcome = " + strconv.Itoa(OutcomeAbandoned)
	if where == "" {
		where = " WHERE " + cond
	} else {
		where += " AND " + cond
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
		byMenu[menu] += n
	}
	return rows.Err()
}
