package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/ivr-project/ivr/internal/tick"
)

// Failure kinds counted in insight_failures.
const (
	FailureFallback = "fallback" // a voice request answered with the fallback
	FailureRefused  = "refused"  // a request refused by signature, nonce or address checks
)

const upsertFailures = `INSERT INTO insight_failures (hour, provider, kind, reason, n) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (hour, provider, kind, reason) DO UPDATE SET n = insight_failures.n + excluded.n`

// AddFailures adds counts to the per-hour fallback and refusal totals
// (summed over every instance that writes to this database).
func (d *DB) AddFailures(ctx context.Context, counts []FailureCount) error {
	if len(counts) == 0 {
		return nil
	}
	err := d.write(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, upsertFailures)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, c := range counts {
			if _, err := st.ExecContext(ctx, floorUnit(c.Hour, time.Hour), txt(c.Provider), txt(c.Kind), txt(truncateText(c.Reason, 64)), c.Count); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("add failure counts: %w", err)
	}
	return nil
}

// FailureCounter counts fallbacks and refusals in memory and adds them to
// the store periodically (Run) and at shutdown (Flush): a flood of forged
// requests costs one row update per reason and interval, not a write each.
type FailureCounter struct {
	db  *DB
	log *slog.Logger
	now func() time.Time

	mu     sync.Mutex
	counts map[failureKey]int64
}

type failureKey struct {
	hour                   int64
	provider, kind, reason string
}

// NewFailureCounter returns a counter writing to db (nil: counts are kept
// in memory only and dropped).
func NewFailureCounter(db *DB, logger *slog.Logger) *FailureCounter {
	if logger == nil {
		logger = slog.Default()
	}
	return &FailureCounter{db: db, log: logger, now: time.Now, counts: map[failureKey]int64{}}
}

// Add counts one failure. Safe on a nil counter (does nothing).
func (c *FailureCounter) Add(provider, kind, reason string) {
	if c == nil {
		return
	}
	k := failureKey{hour: floorUnit(c.now(), time.Hour), provider: provider, kind: kind, reason: truncateText(reason, 64)}
	c.mu.Lock()
	c.counts[k]++
	c.mu.Unlock()
}

// Flush writes the counts so far; on failure they are kept for the next try.
func (c *FailureCounter) Flush(ctx context.Context) error {
	if c == nil || c.db == nil {
		return nil
	}
	c.mu.Lock()
	taken := c.counts
	c.counts = map[failureKey]int64{}
	c.mu.Unlock()
	if len(taken) == 0 {
		return nil
	}
	out := make([]FailureCount, 0, len(taken))
	for k, n := range taken {
		out = append(out, FailureCount{Hour: time.Unix(k.hour*3600, 0).UTC(), Provider: k.provider, Kind: k.kind, Reason: k.reason, Count: n})
	}
	sort.Slice(out, func(i, j int) bool { // one lock order for every instance
		a, b := out[i], out[j]
		if !a.Hour.Equal(b.Hour) {
			return a.Hour.Before(b.Hour)
		}
		if a.Provider != b.Provider {
			return a.Provider < b.Provider
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Reason < b.Reason
	})
	if err := c.db.AddFailures(ctx, out); err != nil {
		c.mu.Lock()
		for k, n := range taken {
			c.counts[k] += n
		}
		c.mu.Unlock()
		return err
	}
	return nil
}

// Run flushes every interval until ctx is done; call Flush once more after.
func (c *FailureCounter) Run(ctx context.Context, every time.Duration) {
	tick.Every(ctx, every, func() {
		if err := c.Flush(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("fallback and refusal counts not stored yet; keeping them for the next try", slog.String("error", err.Error()))
		}
	})
}

// FailureTotals sums the stored counts of one kind by reason, over hours
// from since on (zero: all of them).
func (d *DB) FailureTotals(ctx context.Context, kind string, since time.Time) (map[string]int64, error) {
	rows, err := d.sql.QueryContext(ctx, `SELECT reason, sum(n) FROM insight_failures WHERE kind = $1 AND hour >= $2 GROUP BY reason`,
		kind, floorUnit(since, time.Hour))
	if err != nil {
		return nil, fmt.Errorf("failure totals: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var (
			reason string
			n      int64
		)
		if err := rows.Scan(&reason, &n); err != nil {
			return nil, fmt.Errorf("failure totals: %w", err)
		}
		out[reason] += n
	}
	return out, rows.Err()
}

// Pending adds this counter's counts of kind not yet stored to totals.
func (c *FailureCounter) Pending(kind string, totals map[string]int64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, n := range c.counts {
		if k.kind == kind {
			totals[k.reason] += n
		}
	}
}

// AddPending adds this counter's counts not stored yet to in.Failures, for
// the hours and provider f selects, so a dashboard shows them at once.
func (c *FailureCounter) AddPending(in *Insights, f InsightFilter) {
	if c == nil {
		return
	}
	lo, hi := int64(-1<<62), int64(1<<62)
	if !f.Since.IsZero() {
		lo = floorUnit(f.Since, time.Hour)
	}
	if !f.Until.IsZero() {
		hi = ceilUnit(f.Until, time.Hour)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, n := range c.counts {
		if k.hour < lo || k.hour >= hi || (f.Provider != "" && k.provider != f.Provider) {
			continue
		}
		in.Failures = append(in.Failures, FailureCount{Hour: time.Unix(k.hour*3600, 0).UTC(), Kind: k.kind, Provider: k.provider, Reason: k.reason, Count: n})
	}
}
