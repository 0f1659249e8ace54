package store

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// TestRepeatMarkingMatchesRule: after batches of new and existing calls of
// a few callers (answers marked New or not, later requests of calls already
// stored, calls created by a status callback), a call is marked repeated
// exactly when a batch wrote a request of another call with the same caller
// number starting in the RepeatWindow after it, as an in-memory replay of
// that rule says.
// On SQLite the batch's new calls are marked from their rows in one
// statement, the others by query rows (markRepeatsSQLite).
func TestRepeatMarkingMatchesRule(t *testing.T) {
	forEachStore(t, func(t *testing.T, newDSN newDSN) {
		ctx := ctxT(t)
		d := openT(t, newDSN(t))
		type call struct {
			from     string
			start    time.Time
			repeated bool
		}
		calls := map[string]*call{}
		rng := rand.New(rand.NewPCG(23, 5))
		hour := func() time.Time { return at(rng.IntN(20) * 3 * 3600) }
		for b := range 30 {
			if b%3 == 0 { // a call a status callback creates: no caller known yet
				id := fmt.Sprint("S", b)
				st := hour()
				if err := d.UpdateStatus(ctx, StatusUpdate{Provider: "twilio", CallID: id, Status: "ringing", At: st}); err != nil {
					t.Fatal(err)
				}
				calls[id] = &call{start: st.Truncate(time.Microsecond)}
			}
			var batch []CallEvents
			seen := map[string]bool{}
			for k := range 1 + rng.IntN(8) {
				id := fmt.Sprint("C", b, "-", k) // mostly new calls, as answers are
				switch rng.IntN(8) {
				case 0: // a later request of a call stored already
					id = fmt.Sprint("C", rng.IntN(b+1), "-", rng.IntN(3))
				case 1:
					id = fmt.Sprint("S", rng.IntN(b+1)/3*3)
				}
				if seen[id] {
					continue
				}
				seen[id] = true
				from := fmt.Sprint("+1", rng.IntN(40))
				st := hour()
				batch = append(batch, CallEvents{Provider: "twilio", CallID: id, From: from, To: "+2",
					Events: []Event{{Event: legacyEvent(st, "main", "", "enter")}}, New: rng.IntN(2) == 0})
			}
			if err := d.AddEventBatch(ctx, batch); err != nil {
				t.Fatal(err)
			}
			// The rule, replayed: first the batch's calls are stored (a
			// number fills an empty one, a start moves earlier), then each
			// marks the earlier calls of its caller in its window.
			for _, e := range batch {
				c := calls[e.CallID]
				st := e.Events[0].At
				if _, ok := calls[e.CallID]; !ok {
					c = &call{from: e.From, start: st}
					calls[e.CallID] = c
				}
				if c.from == "" {
					c.from = e.From
				}
				if st.Before(c.start) {
					c.start = st
				}
			}
			for _, e := range batch { // the request's caller and start, as the batch saw them
				from, st := e.From, e.Events[0].At
				for id, c := range calls {
					if id != e.CallID && c.from == from && !c.start.Before(st.Add(-RepeatWindow)) && c.start.Before(st) {
						c.repeated = true
					}
				}
			}
		}
		marked := 0
		for id, c := range calls {
			var got int
			if err := d.sql.QueryRowContext(ctx, `SELECT repeated FROM calls WHERE provider = 'twilio' AND call_id = $1`, id).Scan(&got); err != nil {
				t.Fatal(id, err)
			}
			if (got != 0) != c.repeated {
				t.Errorf("call %s (from %s, started %v): repeated %d, want %v", id, c.from, c.start, got, c.repeated)
			}
			if c.repeated {
				marked++
			}
		}
		t.Logf("%d of %d marked", marked, len(calls))
		if marked == 0 || marked == len(calls) {
			t.Errorf("%d of %d calls repeated: the test does not tell marked from unmarked", marked, len(calls))
		}
	})
}
