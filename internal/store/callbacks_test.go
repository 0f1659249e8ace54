package store

import (
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/ivr"
)

func TestCallbacks(t *testing.T) {
	forEachStore(t, func(t *testing.T, newDSN newDSN) {
		ctx := ctxT(t)
		d := openT(t, newDSN(t))
		at := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
		ctxv := []ivr.ContextValue{{Name: "account", Value: "123456"}, {Name: "intent", Value: "billing"}}
		c, created, err := d.AddCallback(ctx, Callback{Provider: "twilio", CallID: "CA1", Number: "+15551234567", To: "+15550009999", RequestedAt: at, Context: ctxv})
		if err != nil || !created || c.ID == 0 || c.State != CallbackOpen || !reflect.DeepEqual(c.Context, ctxv) || !c.RequestedAt.Equal(at) {
			t.Fatalf("add: %+v, %v, %v", c, created, err)
		}
		again, created, err := d.AddCallback(ctx, Callback{Provider: "twilio", CallID: "CA1", Number: "+15559999999"})
		if err != nil || created || again.ID != c.ID || again.Number != "+15551234567" {
			t.Fatalf("a retried webhook adds a second request: %+v, %v, %v", again, created, err)
		}
		if _, _, err := d.AddCallback(ctx, Callback{Provider: "plivo", CallID: "u-2", Number: "+15557654321", RequestedAt: at.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		all, err := d.ListCallbacks(ctx, "", 0)
		if err != nil || len(all) != 2 || all[0].Provider != "plivo" || len(all[0].Context) != 0 {
			t.Fatalf("list: %+v, %v", all, err)
		}
		if _, err := d.ListCallbacks(ctx, "bogus", 0); err == nil {
			t.Error("an unknown state is listed")
		}

		// A failed attempt leaves it open with the error; a retry claims again.
		cl, err := d.ClaimCallback(ctx, c.ID, "+15550001111")
		if err != nil || cl.State != CallbackCalling || cl.Attempts != 1 || cl.Agent != "+15550001111" {
			t.Fatalf("claim: %+v, %v", cl, err)
		}
		if _, err := d.ClaimCallback(ctx, c.ID, "+15550002222"); !errors.Is(err, ErrCallbackBusy) {
			t.Fatalf("second claim while calling: %v, want ErrCallbackBusy", err)
		}
		if err := d.CallbackNotPlaced(ctx, c.ID, "twilio: create call: HTTP 500"); err != nil {
			t.Fatal(err)
		}
		if got, _ := d.GetCallback(ctx, c.ID); got.State != CallbackOpen || got.LastError != "twilio: create call: HTTP 500" {
			t.Fatalf("after a failed placement: %+v", got)
		}
		if n, _ := d.CountCallbacks(ctx, at, at.Add(24*time.Hour), "", ""); n != (CallbackCounts{Requested: 2}) {
			t.Errorf("counts before any call placed: %+v", n)
		}
		if _, err := d.ClaimCallback(ctx, c.ID, "+15550001111"); err != nil {
			t.Fatal(err)
		}
		if err := d.CallbackPlaced(ctx, c.ID, "CA-out-2"); err != nil {
			t.Fatal(err)
		}
		// A report about another call changes nothing; the caller not reached fails it.
		if err := d.CallbackOutcome(ctx, c.ID, "CA-old", true, ""); err != nil {
			t.Fatal(err)
		}
		if got, _ := d.GetCallback(ctx, c.ID); got.State != CallbackCalling || got.ProviderCallID != "CA-out-2" || got.Attempts != 2 {
			t.Fatalf("after a stale report: %+v", got)
		}
		if err := d.CallbackOutcome(ctx, c.ID, "CA-out-2", false, "the caller did not answer (no-answer)"); err != nil {
			t.Fatal(err)
		}
		if got, _ := d.GetCallback(ctx, c.ID); got.State != CallbackFailed || got.LastError == "" {
			t.Fatalf("after no answer: %+v", got)
		}
		if got, err := d.ClaimCallback(ctx, c.ID, "+15550001111"); err != nil || got.Attempts != 3 || got.LastError != "" {
			t.Fatalf("retry of a failed callback: %+v, %v", got, err)
		}
		if err := d.CallbackPlaced(ctx, c.ID, "CA-out-3"); err != nil {
			t.Fatal(err)
		}
		if err := d.CallbackOutcome(ctx, c.ID, "CA-out-3", true, ""); err != nil {
			t.Fatal(err)
		}
		if got, _ := d.ListCallbacks(ctx, CallbackDone, 0); len(got) != 1 || got[0].ID != c.ID {
			t.Fatalf("done: %+v", got)
		}
		if _, err := d.ClaimCallback(ctx, c.ID, "x"); !errors.Is(err, ErrCallbackBusy) {
			t.Errorf("claim of a done callback: %v", err)
		}
		if _, err := d.ClaimCallback(ctx, 999, "x"); !errors.Is(err, ErrNotFound) {
			t.Errorf("claim of no callback: %v", err)
		}
		if _, err := d.CallbackDone(ctx, 999); !errors.Is(err, ErrNotFound) {
			t.Errorf("done of no callback: %v", err)
		}
		n, err := d.CountCallbacks(ctx, at, at.Add(24*time.Hour), "+15550009999", "twilio")
		if err != nil || n != (CallbackCounts{Requested: 1, Made: 1}) {
			t.Errorf("counts: %+v, %v", n, err)
		}
	})
}

// Two admins pressing "Call back" at once: exactly one claim wins.
func TestClaimCallbackOnce(t *testing.T) {
	forEachStore(t, func(t *testing.T, newDSN newDSN) {
		ctx := ctxT(t)
		d := openT(t, newDSN(t))
		c, _, err := d.AddCallback(ctx, Callback{Provider: "plivo", CallID: "u-1", Number: "+15551234567"})
		if err != nil {
			t.Fatal(err)
		}
		const n = 8
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := d.ClaimCallback(ctx, c.ID, "+1555000000"+string(rune('0'+i)))
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		won := 0
		for err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, ErrCallbackBusy):
				t.Errorf("claim: %v", err)
			}
		}
		if won != 1 {
			t.Fatalf("%d claims won, want 1", won)
		}
		if got, _ := d.GetCallback(ctx, c.ID); got.Attempts != 1 {
			t.Errorf("attempts %d, want 1", got.Attempts)
		}
	})
}
