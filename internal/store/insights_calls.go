package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/ivr-project/ivr/internal/tick"
)

// The call figures of Insights come from the per-day call rollup kept by
// triggers as calls change: SQLite updates insight_call_days in place
// (migration 0021; one writer at a time), PostgreSQL appends deltas to
// insight_call_deltas that CompactInsights folds into insight_call_days
// (migration 0022). The hourly series of a short period reads the calls
// through the covering index calls_insight.

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

// rollupColumns are the columns of insight_call_days and insight_call_deltas.
const rollupColumns = `day, provider, to_number, revision, outcome, menu, repeated, n, flow_sum, ` +
	`b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11`

// insightCallDays reads the per-day rollup: totals, days, time in
// flow and abandonment by menu.
func (d *DB) insightCallDays(ctx context.Context, f InsightFilter, c *callPart) error {
	where, args := f.where("day", 24*time.Hour, true, true)
	var cols strings.Builder
	for i := range c.hist {
		cols.WriteString(", sum(b" + strconv.Itoa(i) + ")")
	}
	from := `insight_call_days`
	if d.driver == DriverPostgres { // with the deltas not folded in yet
		from = `(SELECT ` + rollupColumns + ` FROM insight_call_days UNION ALL SELECT ` + rollupColumns + ` FROM insight_call_deltas) AS r`
	}
	rows, err := d.sql.QueryContext(ctx, `SELECT day, outcome, menu, repeated, sum(n), sum(flow_sum)`+cols.String()+
		` FROM `+from+where+` GROUP BY day, outcome, menu, repeated ORDER BY day, outcome`, args...)
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
	// The summarised calls only (the index is partial; insightOpen counts the others).
	summarised := "hour > 0"
	if d.driver == DriverPostgres {
		summarised = "summarised = 1"
	}
	if where == "" {
		where = " WHERE " + summarised
	} else {
		where += " AND " + summarised
	}
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

// compactBatch bounds the deltas one CompactInsights transaction folds.
const compactBatch = 100000

// CompactInsights folds PostgreSQL's call-rollup deltas into
// insight_call_days (nothing to do on SQLite). One instance at a time does
// it (a transaction-scoped advisory lock of the schema's; the others skip: an
// ivr in another schema of the database has its own), in batches, so
// it never blocks the writers. It returns how many rollup rows it changed.
func (d *DB) CompactInsights(ctx context.Context) (int64, error) {
	if d.driver != DriverPostgres {
		return 0, nil
	}
	var total int64
	for {
		var n int64
		err := d.writeRetry(ctx, "insights compaction", func(tx *sql.Tx) error {
			var locked bool
			if err := tx.QueryRowContext(ctx, `SELECT pg_try_advisory_xact_lock(hashtext('ivr/store/insights-compact:' || coalesce(current_schema(), '')))`).Scan(&locked); err != nil || !locked {
				return err
			}
			res, err := tx.ExecContext(ctx, compactSQL, compactBatch)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return total, fmt.Errorf("compact insights: %w", err)
		}
		total += n
		if n == 0 || ctx.Err() != nil {
			return total, nil
		}
	}
}

// compactSQL moves up to $1 deltas into the rollup in one statement (the
// rows it adds to are taken in key order).
var compactSQL = `WITH moved AS (
    DELETE FROM insight_call_deltas WHERE id IN (SELECT id FROM insight_call_deltas ORDER BY id LIMIT $1)
    RETURNING ` + rollupColumns + `
)
INSERT INTO insight_call_days (` + rollupColumns + `)
SELECT day, provider, to_number, revision, outcome, menu, repeated, sum(n), sum(flow_sum)` + sumBuckets() + `
FROM moved GROUP BY day, provider, to_number, revision, outcome, menu, repeated
ORDER BY day, provider, to_number, revision, outcome, menu, repeated
ON CONFLICT (day, provider, to_number, revision, outcome, menu, repeated) DO UPDATE SET
    n = insight_call_days.n + excluded.n, flow_sum = insight_call_days.flow_sum + excluded.flow_sum` + addBuckets()

func sumBuckets() string {
	var b strings.Builder
	for i := range len(flowBuckets) + 1 {
		fmt.Fprintf(&b, ", sum(b%d)", i)
	}
	return b.String()
}

func addBuckets() string {
	var b strings.Builder
	for i := range len(flowBuckets) + 1 {
		fmt.Fprintf(&b, ", b%d = insight_call_days.b%d + excluded.b%d", i, i, i)
	}
	return b.String()
}

// RunInsightsCompaction calls CompactInsights every interval until ctx is
// done (PostgreSQL; returns at once on SQLite).
func (d *DB) RunInsightsCompaction(ctx context.Context, every time.Duration, logger *slog.Logger) {
	if d.driver != DriverPostgres {
		return
	}
	tick.Every(ctx, every, func() {
		if _, err := d.CompactInsights(ctx); err != nil && ctx.Err() == nil && logger != nil {
			logger.Warn("insights rollup not compacted; the dashboard adds the deltas up meanwhile", slog.String("error", err.Error()))
		}
	})
}
