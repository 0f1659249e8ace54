package store

import (
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/testutil"
)

// holdClaims makes the next leader of d's claims wait until n claims are
// pending, so that they run in one statement (status_group_postgres.go).
func holdClaims(t *testing.T, d *DB, n int) {
	t.Helper()
	var once sync.Once
	claimGroupHook = func() {
		once.Do(func() {
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
				d.claims.mu.Lock()
				got := len(d.claims.pending)
				d.claims.mu.Unlock()
				if got >= n {
					return
				}
			}
			t.Errorf("only some of %d claims came", n)
		})
	}
	t.Cleanup(func() { claimGroupHook = nil })
}

// claimedRows is every call's row as the claims leave it (all but its id).
func claimedRows(t *testing.T, d *DB) []string {
	t.Helper()
	return queryStrings(t, d, `SELECT concat_ws('|', provider, call_id, from_number, to_number, status, final, started_at, ended_at, duration_seconds,
        hangup_cause, provider_at, provider_seq, completed_sent, event_seq, summarised, last_menu) FROM calls ORDER BY provider, call_id`)
}

// TestFinalStatusesGrouped (PostgreSQL): final statuses arriving together
// are claimed in one statement and leave every call as claiming each on
// its own does: new calls and answered ones, with and without the
// provider's sequence, timestamp, duration and hangup cause, a retry of
// one of them (its next statement's: a repeat), and calls whose summary
// is left to a batch or is the status's.
func TestFinalStatusesGrouped(t *testing.T) {
	seq := int64(7)
	var updates []StatusUpdate
	for i := range 6 {
		u := StatusUpdate{Provider: "twilio", CallID: fmt.Sprintf("CAg%d", i), Status: "completed", Final: true, At: at(60 + i)}
		switch i {
		case 1:
			u.DurationSeconds, u.HangupCause, u.From = 42, "normal", "+1777"
		case 2:
			u.ProviderSeq, u.ProviderAt, u.Status = &seq, at(59), "no-answer"
		case 3:
			u.Provider = "plivo"
		}
		updates = append(updates, u)
	}
	updates = append(updates, updates[1]) // the provider's retry
	// The even calls were answered before their status; the summary of
	// calls 0-3 is left to a batch (that never runs here).
	leave := func(u StatusUpdate) leaveSummary {
		if u.CallID >= "CAg4" {
			return func(bool) bool { return false }
		}
		return func(bool) bool { return true }
	}
	apply := func(t *testing.T, grouped bool) []string {
		d := openT(t, testutil.PostgresURL(t))
		ctx := ctxT(t)
		for i, u := range updates[:6] {
			if i%2 == 0 {
				if err := d.AddEvents(ctx, u.Provider, u.CallID, "", "+1999", []Event{revEvent(i, "main", "enter")}); err != nil {
					t.Fatal(err)
				}
			}
		}
		if !grouped {
			for _, u := range updates {
				if err := d.updateStatus(ctx, u, leave(u)); err != nil {
					t.Fatal(err)
				}
			}
			if n := d.claims.statements.Load(); n != 0 {
				t.Errorf("%d statements of several claims, one status at a time", n)
			}
			return claimedRows(t, d)
		}
		holdClaims(t, d, len(updates))
		errs := make(chan error, len(updates))
		for _, u := range updates {
			go func() { errs <- d.updateStatus(ctx, u, leave(u)) }()
		}
		for range updates {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		if n := d.claims.statements.Load(); n != 1 {
			t.Errorf("%d statements of several claims, want 1 (the retry goes alone, after)", n)
		}
		return claimedRows(t, d)
	}
	alone, together := apply(t, false), apply(t, true)
	if len(alone) != 6 || !reflect.DeepEqual(alone, together) {
		t.Errorf("claimed together:\n%q\nwant, as each on its own:\n%q", together, alone)
	}
}

// TestGroupedStatusWaitsForBatch (PostgreSQL): a statement of claims that
// meets a call a writer batch holds (its row locked until the batch
// commits) waits for it, and commits every claim of the statement then,
// each call final and claimed once.
func TestGroupedStatusWaitsForBatch(t *testing.T) {
	d := openT(t, testutil.PostgresURL(t))
	ctx := ctxT(t)
	answered(t, d, "CAheld")
	batch, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer batch.Rollback()
	if _, err := batch.ExecContext(ctx, `SELECT id FROM calls WHERE call_id = 'CAheld' FOR NO KEY UPDATE`); err != nil {
		t.Fatal(err)
	}
	holdClaims(t, d, 2)
	errs := make(chan error, 2)
	for _, call := range []string{"CAheld", "CAfree"} {
		go func() {
			errs <- d.updateStatus(ctx, StatusUpdate{Provider: "twilio", CallID: call, Status: "completed", Final: true, At: at(30)},
				func(bool) bool { return true })
		}()
	}
	select {
	case err := <-errs:
		t.Fatalf("a claim returned (%v) while the batch held one of the statement's calls", err)
	case <-time.After(200 * time.Millisecond):
	}
	if err := batch.Commit(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for _, call := range []string{"CAheld", "CAfree"} {
		if final, sent, seq := callClaim(t, d, call); final != 1 || sent != 1 || seq != 1 {
			t.Errorf("%s: final %d, completed_sent %d, event_seq %d; want 1, 1, 1", call, final, sent, seq)
		}
	}
	if n := d.claims.statements.Load(); n != 1 {
		t.Errorf("%d statements of several claims, want 1", n)
	}
}

// TestGroupedStatusesMixedCalls (PostgreSQL): whole calls as the mixed
// load sends them (answer, two steps, final status, in order per
// connection) through a running Writer, their statuses claimed in groups:
// every call is stored final, claimed once and summarised, with all its
// events, and counted once in the insights.
func TestGroupedStatusesMixedCalls(t *testing.T) {
	d := openT(t, testutil.PostgresURL(t))
	ctx := ctxT(t)
	w := runWriter(t, d, 5*time.Millisecond)
	w.capacity, w.pressure = 10000, 10000
	const conns, per = 8, 15
	holdClaims(t, d, 4)
	var wg sync.WaitGroup
	for c := range conns {
		wg.Go(func() {
			for i := range per {
				id, start := fmt.Sprintf("CAm%d-%02d", c, i), 10*i
				w.EnqueueNew("twilio", id, "+1555", "+1999", []Event{revEvent(start, "main", "enter")})
				w.EnqueueOwned("twilio", id, "+1555", "+1999", []Event{revEvent(start+1, "main", "option 1")})
				w.EnqueueOwned("twilio", id, "+1555", "+1999", []Event{revEvent(start+2, "sales", "option 2")})
				if err := w.UpdateStatus(ctx, d, StatusUpdate{Provider: "twilio", CallID: id, Status: "completed", Final: true,
					DurationSeconds: 42, At: at(start + 3)}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var calls, bad int
	if err := d.sql.QueryRow(`SELECT count(*), count(*) FILTER (WHERE final <> 1 OR completed_sent <> 1 OR event_seq <> 1 OR summarised <> 1
        OR last_menu <> 'sales' OR status <> 'completed') FROM calls`).Scan(&calls, &bad); err != nil {
		t.Fatal(err)
	}
	if calls != conns*per || bad != 0 {
		t.Errorf("%d calls, %d not final, claimed and summarised once; want %d, 0", calls, bad, conns*per)
	}
	if in := insightsT(t, d); in.Calls != conns*per || in.Abandoned != conns*per || in.InProgress != 0 {
		t.Errorf("insights: %+v; want %d calls, all abandoned", in, conns*per)
	}
	if n := storedEvents(t, d); n != 3*conns*per {
		t.Errorf("%d events stored, want %d", n, 3*conns*per)
	}
	if d.claims.statements.Load() == 0 {
		t.Error("no statement claimed several statuses")
	}
}

// TestClaimColumnsRefuseOtherArguments: a status whose arguments are not
// statusArgs' is refused, not stored wrong.
func TestClaimColumnsRefuseOtherArguments(t *testing.T) {
	d := &DB{driver: DriverPostgres, now: time.Now}
	args := d.statusArgs(StatusUpdate{Provider: "twilio", CallID: "CA1", Status: "completed", Final: true, At: at(0)})
	if _, err := claimColumns([]*claimOp{{key: callKey{"twilio", "CA1"}, args: args}}); err != nil {
		t.Fatalf("statusArgs refused: %v", err)
	}
	args[8] = int64(3)
	if _, err := claimColumns([]*claimOp{{key: callKey{"twilio", "CA1"}, args: args}}); err == nil {
		t.Error("a duration of another type was taken")
	}
}
