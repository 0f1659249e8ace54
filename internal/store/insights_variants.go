package store

import (
	"context"
	"time"
)

// variantMigration added calls.variant.
const variantMigration = 97

// VariantCounts are the calls that took one split variant, by outcome.
type VariantCounts struct {
	Calls       int64 `json:"calls"`
	Contained   int64 `json:"contained"`
	Transferred int64 `json:"transferred"`
	Abandoned   int64 `json:"abandoned"`
}

// insightVariants counts the period's summarised calls per split variant
// (calls.variant, set with the summary: a call in progress is not counted
// yet) from the calls themselves, through the partial index calls_variant.
func (d *DB) insightVariants(ctx context.Context, f InsightFilter, in *Insights) error {
	if !d.has(variantMigration) {
		return nil // an older schema (the upgrade test reads one): no variants yet
	}
	var q filter
	q.and("variant <> ''")
	d.andCalls(&q, f, f.Since.Truncate(time.Hour), ceilHour(f.Until))
	rows, err := d.sql.QueryContext(ctx, `SELECT variant, outcome, count(*) FROM calls`+q.where()+` GROUP BY variant, outcome`, q.args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			label   string
			outcome int
			n       int64
		)
		if err := rows.Scan(&label, &outcome, &n); err != nil {
			return err
		}
		v := in.Variants[label]
		if v == nil {
			v = &VariantCounts{}
			in.Variants[label] = v
		}
		v.Calls += n
		switch outcome {
		case OutcomeContained:
			v.Contained += n
		case OutcomeTransferred:
			v.Transferred += n
		case OutcomeAbandoned:
			v.Abandoned += n
		}
	}
	return rows.Err()
}

func ceilHour(t time.Time) time.Time {
	if h := t.Truncate(time.Hour); !h.Equal(t) {
		return h.Add(time.Hour)
	}
	return t
}
