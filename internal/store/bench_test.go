package store

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/testutil"
)

// BenchmarkUpdateStatus measures committed status callbacks per second: one
// writer, and many (RunParallel, GOMAXPROCS goroutines); "left" is a final
// status whose summary is left to a writer batch (the mixed load's: its
// call's answer and steps are still queued); "-x16": 16 goroutines per
// GOMAXPROCS, statuses arriving together as from the load's connections
// (PostgreSQL claims them together: status_group_postgres.go). It reports this process's CPU
// per status, and PostgreSQL's when its server runs on this machine.
func BenchmarkUpdateStatus(b *testing.B) {
	forEachStoreB(b, func(b *testing.B, d *DB) {
		ctx := context.Background()
		var n atomic.Int64
		leave := func(bool) bool { return true }
		update := func(later leaveSummary) error {
			i := n.Add(1)
			return d.updateStatus(ctx, StatusUpdate{Provider: "twilio", CallID: fmt.Sprintf("B%09d", i),
				From: "+15550001", To: "+15550002", Status: "completed", At: time.Now(), DurationSeconds: 7, Final: true}, later)
		}
		b.Run("serial", func(b *testing.B) {
			defer statusCPU(b, d)()
			for b.Loop() {
				if err := update(nil); err != nil {
					b.Fatal(err)
				}
			}
		})
		for _, bench := range []struct {
			name  string
			later leaveSummary
			par   int // goroutines per GOMAXPROCS
		}{{"parallel", nil, 1}, {"parallel-left", leave, 1}, {"parallel-left-x16", leave, 16}} {
			b.Run(bench.name, func(b *testing.B) {
				defer statusCPU(b, d)()
				b.SetParallelism(bench.par)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := update(bench.later); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	})
}

// statusCPU starts counting the CPU of a status benchmark; the function
// it returns reports it per op (cpu-ns/op; pg-cpu-ns/op: PostgreSQL's).
func statusCPU(b *testing.B, d *DB) func() {
	report := countCPU(b, d)
	return func() { report(b.N, "op") }
}

// countCPU starts counting this process's CPU and, when its server runs on
// this machine, PostgreSQL's; report(n, unit) reports each per n units
// (cpu-ns/UNIT, pg-cpu-ns/UNIT). This process's CPU is SQLite's work, or
// only the client's on PostgreSQL: steadier than wall time on a shared
// machine. PostgreSQL's: on a machine shared with ivr, the answers pay for
// it too.
func countCPU(b *testing.B, d *DB) (report func(n int, unit string)) {
	b.ReportAllocs()
	var serverCPU func() time.Duration
	if d.driver == DriverPostgres {
		serverCPU = testutil.PostgresCPU(b, testutil.PostgresBase(b))
	}
	var server0 time.Duration
	if serverCPU != nil {
		server0 = serverCPU()
	}
	cpu0 := testutil.ProcessCPU()
	return func(n int, unit string) {
		b.ReportMetric(float64(testutil.ProcessCPU()-cpu0)/float64(n), "cpu-ns/"+unit)
		if serverCPU != nil {
			b.ReportMetric(float64(serverCPU()-server0)/float64(n), "pg-cpu-ns/"+unit)
		}
	}
}

// BenchmarkAddEventBatch is the Writer's path: 50 calls of 4 events per
// transaction; ns/op is per batch.
func BenchmarkAddEventBatch(b *testing.B) {
	forEachStoreB(b, func(b *testing.B, d *DB) {
		ctx := context.Background()
		batch := make([]CallEvents, 50)
		for i := range batch {
			batch[i] = CallEvents{Provider: "twilio", CallID: fmt.Sprint("E", i), From: "+1", To: "+2", Events: seqEvents(i, 4)}
		}
		b.ReportAllocs()
		for b.Loop() {
			if err := d.AddEventBatch(ctx, batch); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkAddEventBatchDistinct is the Writer's path under load: a full
// batch of distinct new calls with 3 events each (an answer's records);
// ns/op is per batch, and calls/s is what one writer can store.
func BenchmarkAddEventBatchDistinct(b *testing.B) {
	// Distinct callers, as in scripts/load.sh.
	forEachStoreB(b, func(b *testing.B, d *DB) { benchNewCalls(b, d, func(n int) int { return n }) })
}

// BenchmarkAddEventBatchRepeatCallers is BenchmarkAddEventBatchDistinct
// with one call in five from a caller of the batch before (real traffic
// has repeat callers): each such call marks that caller's earlier call a
// repeat.
func BenchmarkAddEventBatchRepeatCallers(b *testing.B) {
	forEachStoreB(b, func(b *testing.B, d *DB) {
		benchNewCalls(b, d, func(n int) int {
			if n%5 == 0 && n > 1024 {
				return n - 1024
			}
			return n
		})
	})
}

// benchNewCalls writes batches of 1,024 new calls (answers: the Writer's
// EnqueueNew entries), the nth call's caller
// number caller(n), and reports calls/s and the CPU per call: this
// process's, and PostgreSQL's when its server runs on this machine.
func benchNewCalls(b *testing.B, d *DB, caller func(n int) int) {
	ctx := context.Background()
	const calls = 1024
	n := 0
	report := countCPU(b, d)
	for b.Loop() {
		batch := make([]CallEvents, calls)
		for i := range batch {
			n++
			batch[i] = CallEvents{Provider: "twilio", CallID: fmt.Sprint("CA", n), From: fmt.Sprint("+1415", caller(n)), To: "+14155550199", Events: benchEvents(n, 3), New: true}
		}
		if err := d.AddEventBatch(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "calls/s")
	report(n, "call")
}

// benchEvents is seqEvents of call n at n seconds after at(0): calls of one
// caller are then seconds to hours apart, within the repeat window.
func benchEvents(n, k int) []Event {
	ev := seqEvents(n, k)
	for i := range ev {
		ev[i].At = ev[i].At.Add(time.Duration(n) * time.Second)
	}
	return ev
}

// BenchmarkListCalls pages 50 calls with their events out of 2000.
func BenchmarkListCalls(b *testing.B) {
	forEachStoreB(b, func(b *testing.B, d *DB) {
		ctx := context.Background()
		batch := make([]CallEvents, 2000)
		for i := range batch {
			batch[i] = CallEvents{Provider: "twilio", CallID: fmt.Sprint("L", i), From: "+1", To: "+2", Events: seqEvents(i, 3)}
		}
		if err := d.AddEventBatch(ctx, batch); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			calls, _, err := d.ListCalls(ctx, ListOptions{Limit: 50})
			if err != nil || len(calls) != 50 {
				b.Fatal(len(calls), err)
			}
		}
	})
}
