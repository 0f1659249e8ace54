package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/testutil"
)

// TestStatusGroupCommit: status callbacks that arrive while a write runs
// are committed together, each caller returning once its own change is
// stored; a caller whose change fails gets the error and the others are
// stored without it.
func TestStatusGroupCommit(t *testing.T) {
	d := openT(t, sqliteDSN(t))
	d.wsem <- struct{}{} // hold the write lock: callbacks pile up
	const n = 20
	errs := make([]error, n+1)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = d.UpdateStatus(ctxT(t), StatusUpdate{Provider: "twilio", CallID: fmt.Sprint("G", i),
				From: "+1", To: "+2", Status: "completed", Final: true, DurationSeconds: 5, At: at(i)})
		})
	}
	canceled, cancel := context.WithCancel(context.Background())
	wg.Go(func() {
		errs[n] = d.UpdateStatus(canceled, StatusUpdate{Provider: "twilio", CallID: "gone", Status: "ringing", At: at(0)})
	})
	// Every callback has joined the group: the leader took the ones pending
	// when it came (at least its own) and waits for the lock, the others
	// wait in pending. (Counting pending alone raced: a leader that took
	// two or more left fewer than n pending, and the wait never ended.)
	testutil.WaitFor(t, "callbacks waiting", func() bool { return d.group.joined.Load() >= n+1 })
	cancel()
	<-d.wsem
	wg.Wait()
	for i, err := range errs[:n] {
		if err != nil {
			t.Errorf("UpdateStatus %d: %v", i, err)
		}
		c, err := d.GetCall(ctxT(t), "twilio", fmt.Sprint("G", i))
		if err != nil || c.Status != "completed" || c.EndedAt == nil || !c.EndedAt.Equal(at(i)) || !c.StartedAt.Equal(at(i).Add(-5*time.Second)) {
			t.Errorf("call G%d: %+v %v", i, c, err)
		}
	}
	if errs[n] == nil {
		t.Error("the canceled callback reported success")
	}
	if txs := d.group.txs.Load(); txs == 0 || txs > 3 {
		t.Errorf("%d callbacks in %d group transactions, want them together", n, txs)
	}
}
