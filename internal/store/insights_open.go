package store

import (
	"context"
	"time"
)

// Calls not summarised yet (summary.go: still open, the flow has not ended
// them; or final, their summary left to the writer's next batch:
// writer_status.go) are in neither the rollup nor calls_insight: Insights
// counts them as in progress from the calls themselves, through calls_open
// (final = 0 OR not summarised). In steady traffic they are the calls of
// the last minutes.

// openCount is how many calls not summarised yet started in one hour.
type openCount struct {
	hour, n, repeated int64
}

// insightOpen reads the calls not summarised yet, per hour, in the period
// of the day rollup (whole days, as insightCallDays counts).
func (d *DB) insightOpen(ctx context.Context, f InsightFilter) ([]openCount, error) {
	var q filter
	hour, unsummarised := `started_at / 3600000000`, `hour = 0`
	if d.driver == DriverPostgres {
		// hour is written with the summary (0 until then; migration 0111).
		hour, unsummarised = `floor(extract(epoch FROM started_at) / 3600)::bigint`, `summarised = 0`
	}
	q.and(unsummarised)
	d.andCalls(&q, f, time.Unix(floorUnit(f.Since, 24*time.Hour)*86400, 0), time.Unix(ceilUnit(f.Until, 24*time.Hour)*86400, 0))
	return queryAll(ctx, d.sql, "calls in progress", func(s scanner) (openCount, error) {
		var c openCount
		err := s.Scan(&c.hour, &c.n, &c.repeated)
		return c, err
	}, `SELECT `+hour+` AS h, count(*), sum(repeated) FROM calls`+q.where()+` GROUP BY h ORDER BY h`, q.args...)
}

// addOpen counts the calls not summarised yet as in progress: in the
// totals and days, and in the hours of the hourly series' period.
func (c *callPart) addOpen(open []openCount, f InsightFilter) {
	for _, o := range open {
		t := time.Unix(o.hour*3600, 0).UTC()
		addSorted(&c.in.Days, t.Truncate(24*time.Hour), o.n)
		c.in.Calls += o.n
		c.in.InProgress += o.n
		c.in.RepeatCallers += o.repeated
		if f.short() && o.hour >= floorUnit(f.Since, time.Hour) && o.hour < ceilUnit(f.Until, time.Hour) {
			addSorted(&c.in.Hours, t, o.n)
		}
	}
}

// addSorted adds n calls in progress at t to a series kept in time order.
func addSorted(series *[]HourCount, t time.Time, n int64) {
	s := *series
	i := 0
	for i < len(s) && s[i].Hour.Before(t) {
		i++
	}
	if i == len(s) || !s[i].Hour.Equal(t) {
		s = append(s, HourCount{})
		copy(s[i+1:], s[i:])
		s[i] = HourCount{Hour: t}
	}
	s[i].Calls += n
	*series = s
}
