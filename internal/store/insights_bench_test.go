package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/testutil"
)

// BenchmarkInsights measures the dashboard's query (Insights: every figure
// of the page and of /admin/api/insights) on a store seeded with
// IVR_BENCH_CALLS calls (default 1,000,000) of 5 events each, spread over
// 90 days, on SQLite and PostgreSQL. Seeding takes minutes, so it only runs
// when asked for:
//
//	scripts/with-postgres.sh go test ./internal/store -run '^$' -bench Insights -benchtime 20x -timeout 60m
//
// ns/op is one dashboard answer. docs/performance.md has the figures.
func BenchmarkInsights(b *testing.B) {
	n := 1_000_000
	if v := os.Getenv("IVR_BENCH_CALLS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1000 {
			b.Fatalf("IVR_BENCH_CALLS=%q: want a whole number >= 1000", v)
		}
	}
	forEachStoreB(b, func(b *testing.B, d *DB) {
		ctx := context.Background()
		start := time.Now()
		if err := seedBench(ctx, d, n); err != nil {
			b.Fatal(err)
		}
		b.Logf("%s: seeded %d calls, %d events in %s", d.Driver(), n, 5*n, time.Since(start).Round(time.Second))
		end := benchBase.AddDate(0, 0, benchDays)
		for _, c := range []struct {
			name string
			f    InsightFilter
		}{
			{"7days", InsightFilter{Since: end.AddDate(0, 0, -7), Until: end}},
			{"30days", InsightFilter{Since: end.AddDate(0, 0, -30), Until: end}},
			{"90days-all", InsightFilter{Since: benchBase, Until: end}},
			{"90days-one-number", InsightFilter{Since: benchBase, Until: end, To: "+18000000001"}},
			{"90days-one-revision", InsightFilter{Since: benchBase, Until: end, Revision: "bbbbbbbbbbbb", Provider: "twilio"}},
		} {
			b.Run(c.name, func(b *testing.B) {
				var calls int64
				cpu0 := testutil.ProcessCPU()
				for b.Loop() {
					in, err := d.Insights(ctx, c.f)
					if err != nil {
						b.Fatal(err)
					}
					calls = in.Calls
				}
				b.ReportMetric(float64(calls), "calls")
				// This process's CPU per answer: SQLite's whole cost, and
				// a figure the other loads of a shared machine do not
				// inflate as they do ns/op (PostgreSQL's work is in its
				// own processes and not in it).
				b.ReportMetric(float64((testutil.ProcessCPU()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
			})
		}
	})
}

var benchBase = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const benchDays = 90

// seedBench writes n calls with 5 events each, as AddEventBatch would have
// left them (summary columns, node ids, revisions, the menu rollup), in
// bulk SQL: outcomes cycle contained x5, transferred x2, fallback, abandoned
// x2; a seventh of the calls are repeats; two flow revisions.
func seedBench(ctx context.Context, d *DB, n int) error {
	span := benchDays * 86400
	var callsSQL, eventsSQL string
	common := `provider, call_id, from_number, to_number, status, final, started_at, ended_at, duration_seconds,
        revision, transferred, fallback, ended_in_flow, last_menu, last_event_at, repeated`
	values := func(ts func(offset string) string) string {
		return fmt.Sprintf(`CASE WHEN i %% 4 = 0 THEN 'plivo' ELSE 'twilio' END, 'CA' || i, '+1555' || (i * 7919 %% 300000),
        '+1800000000' || (i %% 3), 'completed', 1, %s, %s, 10 + i %% 290,
        CASE WHEN i * 2 < %d THEN 'aaaaaaaaaaaa' ELSE 'bbbbbbbbbbbb' END,
        CASE WHEN i %% 10 IN (5, 6) THEN 1 ELSE 0 END, CASE WHEN i %% 10 = 7 THEN 1 ELSE 0 END,
        CASE WHEN i %% 10 < 5 THEN 1 ELSE 0 END,
        CASE i %% 5 WHEN 0 THEN 'main' WHEN 1 THEN 'billing' WHEN 2 THEN 'support' WHEN 3 THEN 'sales' ELSE 'directory' END,
        %s, CASE WHEN i %% 7 = 0 THEN 1 ELSE 0 END`,
			ts("0"), ts("(10 + i % 290)"), n, ts("(10 + i % 290)"))
	}
	// Event k of call i: main enter, main option, enter the last menu,
	// invalid or silent there, then how the call ended.
	// Stored as one call_requests row per event, in the JSON form
	// (requests.go): AT is the event's time in µs on both databases.
	eventCols := `'t', AT_US,
        'm', CASE WHEN k.v < 2 THEN 'main' ELSE c.last_menu END,
        'i', CASE k.v WHEN 1 THEN '' || (c.id % 4 + 1) WHEN 3 THEN CASE WHEN c.id % 2 = 0 THEN 'timeout' ELSE '9' END ELSE '' END,
        'a', CASE k.v WHEN 0 THEN 'enter' WHEN 1 THEN 'option ' || (c.id % 4 + 1) WHEN 2 THEN 'enter'
            WHEN 3 THEN CASE WHEN c.id % 2 = 0 THEN 'timeout' ELSE 'invalid' END
            ELSE CASE WHEN c.ended_in_flow = 1 THEN 'hangup' WHEN c.transferred = 1 THEN 'transfer +15550000000'
                 WHEN c.fallback = 1 THEN 'fallback flow' ELSE 'say' END END,
        'r', c.revision,
        'n', CASE WHEN k.v = 1 THEN 'main/' || (c.id % 4 + 1) WHEN k.v = 0 THEN 'main' ELSE c.last_menu END`
	if d.driver == DriverSQLite {
		base := benchBase.UnixMicro()
		ts := func(off string) string {
			return fmt.Sprintf("(%d + (i * %d / %d + %s) * 1000000)", base, span, n, off)
		}
		callsSQL = fmt.Sprintf(`WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < %d)
INSERT INTO calls (%s) SELECT %s FROM seq`, n, common, values(ts))
		eventsSQL = `WITH k(v) AS (VALUES (0), (1), (2), (3), (4))
INSERT INTO call_requests (call_ref, at, events)
SELECT c.id, c.started_at + k.v * 2000000, CAST(json_array(json_object(` + strings.Replace(eventCols, "AT_US", "c.started_at + k.v * 2000000", 1) + `)) AS BLOB)
FROM calls c CROSS JOIN k ORDER BY c.id, k.v`
	} else {
		ts := func(off string) string {
			return fmt.Sprintf("to_timestamp(%d + i::bigint * %d / %d + %s)", benchBase.Unix(), span, n, off)
		}
		callsSQL = fmt.Sprintf(`INSERT INTO calls (%s) SELECT %s FROM generate_series(1::bigint, %d) AS s(i)`, common, values(ts), n)
		eventsSQL = `INSERT INTO call_requests (call_ref, at, events)
SELECT c.id, c.started_at + k.v * interval '2 seconds', convert_to(json_build_array(json_build_object(` +
			strings.Replace(eventCols, "AT_US", "(extract(epoch FROM c.started_at) * 1000000)::bigint + k.v * 2000000", 1) + `))::text, 'UTF8')
FROM calls c CROSS JOIN (VALUES (0), (1), (2), (3), (4)) AS k(v) ORDER BY c.id, k.v`
	}
	for _, q := range []string{callsSQL, eventsSQL} {
		if _, err := d.exec(ctx, q); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	}
	if err := seedBenchRollup(ctx, d, n, span); err != nil {
		return err
	}
	// What the server's background compaction would have done by now
	// (PostgreSQL: fold the call-rollup deltas the triggers appended).
	if _, err := d.CompactInsights(ctx); err != nil {
		return err
	}
	// Statistics for the planner; on PostgreSQL VACUUM also marks the pages
	// all-visible, as autovacuum would, so index-only scans skip the heap.
	analyze := `ANALYZE`
	if d.driver == DriverPostgres {
		analyze = `VACUUM ANALYZE`
	}
	_, err := d.exec(ctx, analyze)
	return err
}

// seedBenchRollup writes insight_menu_days as the events above add up.
func seedBenchRollup(ctx context.Context, d *DB, n, span int) error {
	menus := []string{"main", "billing", "support", "sales", "directory"}
	counts := map[menuDayKey]int64{}
	for i := 1; i <= n; i++ {
		k := menuDayKey{day: (benchBase.Unix() + int64(i)*int64(span)/int64(n)) / 86400, provider: "twilio",
			to: "+1800000000" + strconv.Itoa(i%3), revision: "aaaaaaaaaaaa"}
		if i%4 == 0 {
			k.provider = "plivo"
		}
		if i*2 >= n {
			k.revision = "bbbbbbbbbbbb"
		}
		add := func(menu, kind, detail string) {
			k.menu, k.kind, k.detail = menu, kind, detail
			counts[k]++
		}
		lastMenu := menus[i%5]
		add("main", KindEnter, "")
		add("main", KindOption, strconv.Itoa(i%4+1))
		add(lastMenu, KindEnter, "")
		if i%2 == 0 {
			add(lastMenu, KindSilent, "")
		} else {
			add(lastMenu, KindInvalid, "")
		}
		switch i % 10 {
		case 5, 6:
			add(lastMenu, KindTransfer, "")
		case 7:
			add("", KindFallback, "flow")
		}
	}
	return d.write(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, upsertMenuDay)
		if err != nil {
			return err
		}
		defer st.Close()
		for k, c := range counts {
			if _, err := st.ExecContext(ctx, k.day, k.provider, k.to, k.revision, k.menu, k.kind, k.detail, c); err != nil {
				return fmt.Errorf("seed rollup: %w", err)
			}
		}
		return nil
	})
}
