package store

import (
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/testutil"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestConcurrentBatchesDoNotDeadlock provokes the lock pattern that made
// two instances' event batches deadlock on PostgreSQL: both write the same
// calls (listed in opposite orders) and calls of one caller started seconds
// apart, so each batch's repeat-caller marking wants the rows the other
// batch's call upsert holds. Every round starts from unmarked calls, so
// every round takes those locks again. It also checks the outcome: every
// call but the caller's last one of the round is marked repeated.
func TestConcurrentBatchesDoNotDeadlock(t *testing.T) {
	for _, shared := range []bool{false, true} {
		t.Run(fmt.Sprintf("shared=%v", shared), func(t *testing.T) { concurrentBatches(t, shared) })
	}
}

// concurrentBatches: with shared, both batches also hold calls of the other
// (in the opposite order); without, only the repeat marking crosses.
func concurrentBatches(t *testing.T, shared bool) {
	forEachStore(t, func(t *testing.T, newDSN newDSN) {
		dsn := newDSN(t)
		dbs := []*DB{openT(t, dsn), openT(t, dsn)}
		ctx := ctxT(t)
		const rounds, perKind = 16, 6
		for r := range rounds {
			from := fmt.Sprintf("+1666%04d", r)
			base := at(r * 100000)
			// call ids by start: shared S-k at base+3k, worker w's own at base+3k+1+w.
			type call struct {
				id    string
				start time.Time
			}
			var all []call
			for k := range perKind {
				all = append(all, call{fmt.Sprintf("S%d-%d", r, k), base.Add(time.Duration(3*k) * time.Second)})
				for w := range dbs {
					all = append(all, call{fmt.Sprintf("W%d-%d-%d", w, r, k), base.Add(time.Duration(3*k+1+w) * time.Second)})
				}
			}
			// Seed the latest call first: no call is marked yet.
			for i := len(all) - 1; i >= 0; i-- {
				c := all[i]
				ev := Event{Event: legacyEvent(c.start, "main", "", "enter"), Revision: "r"}
				if err := dbs[0].AddEvents(ctx, "twilio", c.id, from, "+1999", []Event{ev}); err != nil {
					t.Fatal(err)
				}
			}
			var wg sync.WaitGroup
			errs := make(chan error, len(dbs))
			for w, d := range dbs {
				var batch []CallEvents
				for _, c := range all {
					if (shared && c.id[0] == 'S') || c.id[1] == byte('0'+w) {
						ev := Event{Event: legacyEvent(c.start.Add(time.Second), "main", "", "option 1"), Revision: "r"}
						batch = append(batch, CallEvents{Provider: "twilio", CallID: c.id, From: from, To: "+1999", Events: []Event{ev}})
					}
				}
				if w == 1 {
					slices.Reverse(batch)
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs <- d.AddEventBatch(ctx, batch)
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatalf("round %d: %v", r, err)
				}
			}
			var repeated, calls int
			if err := dbs[0].sql.QueryRowContext(ctx, `SELECT coalesce(sum(repeated), 0), count(*) FROM calls WHERE from_number = $1`, from).Scan(&repeated, &calls); err != nil {
				t.Fatal(err)
			}
			if calls != len(all) || repeated != len(all)-1 {
				t.Fatalf("round %d: %d calls, %d repeated; want %d calls, all but the last repeated", r, calls, repeated, len(all))
			}
		}
	})
}

// TestWriteRetryRetriesDeadlockVictims: a transaction PostgreSQL aborted as
// a deadlock victim or serialization failure runs again, a bounded number
// of times; other errors are returned at once.
func TestWriteRetryRetriesDeadlockVictims(t *testing.T) {
	d := openT(t, sqliteDSN(t))
	ctx := ctxT(t)
	for _, tc := range []struct {
		name      string
		failures  int   // attempts that fail with err
		err       error // what they fail with
		wantTries int
		wantErr   bool
	}{
		{"deadlock once", 1, &pgconn.PgError{Code: "40P01"}, 2, false},
		{"serialization twice", 2, fmt.Errorf("mark repeat callers: %w", &pgconn.PgError{Code: "40001"}), 3, false},
		{"deadlock every time", 99, &pgconn.PgError{Code: "40P01"}, batchAttempts, true},
		{"other error", 99, &pgconn.PgError{Code: "23505"}, 1, true},
		{"not a database error", 99, errors.New("boom"), 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tries := 0
			err := d.writeRetry(ctx, "test", func(tx *sql.Tx) error {
				tries++
				if tries <= tc.failures {
					return tc.err
				}
				return nil
			})
			if tries != tc.wantTries || (err != nil) != tc.wantErr {
				t.Fatalf("tries %d, err %v; want %d tries, error %v", tries, err, tc.wantTries, tc.wantErr)
			}
		})
	}
}

// TestMixedWritersDoNotDeadlock runs every writer of two instances at once
// on PostgreSQL on one small set of calls: event batches (in random orders,
// with outbox notices), status callbacks, stale-call closing, outbox claims,
// rollup compaction and retention. No write may fail: the lock order leaves
// only rare deadlocks, whose victims are run again.
func TestMixedWritersDoNotDeadlock(t *testing.T) {
	testutil.PostgresBase(t)
	dsn := testutil.PostgresURL(t)
	dbs := []*DB{openT(t, dsn), openT(t, dsn)}
	ctx := ctxT(t)
	const batches = 30 // per writer; the other writers run until they are done
	call := func(r *rand.Rand) (id, from string, start time.Time) {
		k := r.IntN(200)
		return fmt.Sprintf("M%d", k), fmt.Sprintf("+1777%02d", k%15), at(k * 600)
	}
	var (
		writers, others sync.WaitGroup
		done            = make(chan struct{})
		mu              sync.Mutex
		failures        []string
	)
	fail := func(what string, err error) {
		mu.Lock()
		defer mu.Unlock()
		failures = append(failures, fmt.Sprintf("%s: %v", what, err))
	}
	loop := func(what string, seed uint64, fn func(r *rand.Rand) error) {
		others.Add(1)
		go func() {
			defer others.Done()
			r := rand.New(rand.NewPCG(seed, 2))
			for {
				select {
				case <-done:
					return
				default:
				}
				if err := fn(r); err != nil {
					fail(what, err)
					return
				}
			}
		}()
	}
	for w, d := range dbs {
		d.EnableOutbox()
		for g := range 2 {
			writers.Add(1)
			go func() {
				defer writers.Done()
				r := rand.New(rand.NewPCG(uint64(w*10+g), 1))
				for range batches {
					var b []CallEvents
					for range 1 + r.IntN(30) {
						id, from, start := call(r)
						ev := Event{Event: legacyEvent(start.Add(time.Duration(r.IntN(60))*time.Second), "main", "", "option 1"), Revision: "r"}
						if r.IntN(5) == 0 {
							ev.Notice = &Notice{Type: "call.menu"}
						}
						b = append(b, CallEvents{Provider: "twilio", CallID: id, From: from, To: "+1999", Events: []Event{ev}})
					}
					if err := d.AddEventBatch(ctx, b); err != nil {
						fail("event batch", err)
						return
					}
				}
			}()
		}
		loop("status", uint64(w+100), func(r *rand.Rand) error {
			id, from, start := call(r)
			return d.UpdateStatus(ctx, StatusUpdate{Provider: "twilio", CallID: id, From: from, Status: "completed", Final: r.IntN(2) == 0, At: start.Add(90 * time.Second)})
		})
		loop("stale calls", uint64(w+200), func(r *rand.Rand) error {
			_, err := d.CloseStaleCalls(ctx, at(r.IntN(200)*600), 10)
			return err
		})
		loop("compaction", uint64(w+300), func(*rand.Rand) error {
			_, err := d.CompactInsights(ctx)
			return err
		})
		loop("outbox claim", uint64(w+400), func(*rand.Rand) error {
			_, err := d.ClaimOutbox(ctx, fmt.Sprint("owner", w), 20, time.Second)
			return err
		})
		loop("retention", uint64(w+500), func(r *rand.Rand) error {
			_, err := d.DeleteOlderThan(ctx, at(r.IntN(10)*600))
			return err
		})
	}
	writers.Wait()
	close(done)
	others.Wait()
	for _, f := range failures {
		t.Error(f)
	}
}
