package store

import (
	"fmt"
	"reflect"
	"testing"
)

// TestFirstRequestInCallRow: the batch that creates a call keeps its events
// in the call's row (no call_requests row); later requests of the call are
// call_requests rows read after them, in order; a call created by a status
// callback has no events of its own, and its first request is a row. The
// call page, the list and the summary read the same events either way.
func TestFirstRequestInCallRow(t *testing.T) {
	forEachStore(t, func(t *testing.T, newDSN newDSN) {
		ctx := ctxT(t)
		d := openT(t, newDSN(t))
		first, second := seqEvents(1, 3), seqEvents(2, 2)
		if err := d.AddEventBatch(ctx, []CallEvents{{Provider: "twilio", CallID: "CAnew", From: "+1", To: "+2", Events: first}}); err != nil {
			t.Fatal(err)
		}
		if err := d.UpdateStatus(ctx, StatusUpdate{Provider: "twilio", CallID: "CAstatus", From: "+3", To: "+2", Status: "ringing", At: at(0)}); err != nil {
			t.Fatal(err)
		}
		// Two batches later: CAnew's second request, CAstatus's first.
		if err := d.AddEventBatch(ctx, []CallEvents{
			{Provider: "twilio", CallID: "CAnew", Events: second},
			{Provider: "twilio", CallID: "CAstatus", Events: first},
		}); err != nil {
			t.Fatal(err)
		}
		var inline, requests int
		if err := d.sql.QueryRowContext(ctx, `SELECT count(*) FROM calls WHERE events IS NOT NULL`).Scan(&inline); err != nil {
			t.Fatal(err)
		}
		if err := d.sql.QueryRowContext(ctx, `SELECT count(*) FROM call_requests`).Scan(&requests); err != nil {
			t.Fatal(err)
		}
		if inline != 1 || requests != 2 {
			t.Errorf("calls with their own events %d, call_requests rows %d; want 1 and 2", inline, requests)
		}
		want := map[string][]Event{"CAnew": append(append([]Event{}, first...), second...), "CAstatus": first}
		for id, evs := range want {
			for i := range evs {
				evs[i].Node = eventNode(&evs[i])
			}
			c, err := d.GetCall(ctx, "twilio", id)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c.Events, evs) {
				t.Errorf("GetCall(%s) events:\n%+v\nwant\n%+v", id, c.Events, evs)
			}
		}
		list, _, err := d.ListCalls(ctx, ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range list {
			if !reflect.DeepEqual(c.Events, want[c.CallID]) {
				t.Errorf("ListCalls %s events:\n%+v\nwant\n%+v", c.CallID, c.Events, want[c.CallID])
			}
		}
		// The summary reads the call's own events too: a call whose only
		// request is in its row ends in that request's menu.
		if err := d.AddEventBatch(ctx, []CallEvents{{Provider: "twilio", CallID: "CAone", From: "+4", To: "+2", Events: first}}); err != nil {
			t.Fatal(err)
		}
		if err := d.UpdateStatus(ctx, StatusUpdate{Provider: "twilio", CallID: "CAone", Status: "completed", Final: true, At: at(60)}); err != nil {
			t.Fatal(err)
		}
		var menu string
		if err := d.sql.QueryRowContext(ctx, `SELECT last_menu FROM calls WHERE call_id = 'CAone'`).Scan(&menu); err != nil {
			t.Fatal(err)
		}
		if menu != "call1" {
			t.Errorf("last menu %q, want call1 (from the call's own events)", menu)
		}
	})
}

// TestBatchCompletesExistingCall: a batch fills an existing call's empty
// numbers and revision and moves its start earlier, and changes nothing
// that is set already.
func TestBatchCompletesExistingCall(t *testing.T) {
	forEachStore(t, func(t *testing.T, newDSN newDSN) {
		ctx := ctxT(t)
		d := openT(t, newDSN(t))
		if err := d.UpdateStatus(ctx, StatusUpdate{Provider: "twilio", CallID: "CAx", Status: "ringing", At: at(100)}); err != nil {
			t.Fatal(err)
		}
		ev := []Event{{Event: legacyEvent(at(50), "main", "", "enter"), Revision: "r1"}}
		if err := d.AddEventBatch(ctx, []CallEvents{{Provider: "twilio", CallID: "CAx", From: "+1", To: "+2", Events: ev}}); err != nil {
			t.Fatal(err)
		}
		later := []Event{{Event: legacyEvent(at(200), "main", "", "enter"), Revision: "r2"}}
		if err := d.AddEventBatch(ctx, []CallEvents{{Provider: "twilio", CallID: "CAx", From: "+9", To: "+8", Events: later}}); err != nil {
			t.Fatal(err)
		}
		c, err := d.GetCall(ctx, "twilio", "CAx")
		if err != nil {
			t.Fatal(err)
		}
		var rev string
		if err := d.sql.QueryRowContext(ctx, `SELECT revision FROM calls WHERE call_id = 'CAx'`).Scan(&rev); err != nil {
			t.Fatal(err)
		}
		if c.From != "+1" || c.To != "+2" || !c.StartedAt.Equal(at(50)) || rev != "r1" || len(c.Events) != 2 {
			t.Errorf("call %+v revision %q; want from +1, to +2, started at %v, revision r1, 2 events", c, rev, at(50))
		}
	})
}

// TestBatchGuessedNewCalls: calls a batch expects new (CallEvents.New, the
// answers) are inserted without a lookup; those that exist after all (a
// retried answer, a call a status callback created) are found and written
// as any existing call's request, in the same batch as truly new ones, and
// every call reads back its events in order.
func TestBatchGuessedNewCalls(t *testing.T) {
	forEachStore(t, func(t *testing.T, newDSN newDSN) {
		ctx := ctxT(t)
		d := openT(t, newDSN(t))
		old := seqEvents(1, 2)
		if err := d.AddEventBatch(ctx, []CallEvents{{Provider: "twilio", CallID: "CAold", From: "+1", To: "+2", Events: old, New: true}}); err != nil {
			t.Fatal(err)
		}
		if err := d.UpdateStatus(ctx, StatusUpdate{Provider: "twilio", CallID: "CAstatus", Status: "ringing", At: at(100)}); err != nil {
			t.Fatal(err)
		}
		want := map[string][]Event{"CAold": old, "CAstatus": nil}
		var batch []CallEvents
		for i, id := range []string{"CAa", "CAold", "CAb", "CAstatus", "CAknown", "CAc"} {
			evs := seqEvents(10+i, 2)
			batch = append(batch, CallEvents{Provider: "twilio", CallID: id, From: fmt.Sprint("+9", i), To: "+2", Events: evs, New: id != "CAknown"})
			want[id] = append(append([]Event{}, want[id]...), evs...)
		}
		if err := d.AddEventBatch(ctx, batch); err != nil {
			t.Fatal(err)
		}
		for id, evs := range want {
			for i := range evs {
				evs[i].Node = eventNode(&evs[i])
			}
			c, err := d.GetCall(ctx, "twilio", id)
			if err != nil {
				t.Fatal(id, err)
			}
			if !reflect.DeepEqual(c.Events, evs) {
				t.Errorf("GetCall(%s) events:\n%+v\nwant\n%+v", id, c.Events, evs)
			}
			if id == "CAold" && c.From != "+1" || id == "CAstatus" && (c.From != "+93" || !c.StartedAt.Equal(at(0))) {
				t.Errorf("call %s: from %q, started %v", id, c.From, c.StartedAt)
			}
		}
		var inline, requests, calls int
		if err := d.sql.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE events IS NOT NULL), count(*) FROM calls`).Scan(&inline, &calls); err != nil {
			t.Fatal(err)
		}
		if err := d.sql.QueryRowContext(ctx, `SELECT count(*) FROM call_requests`).Scan(&requests); err != nil {
			t.Fatal(err)
		}
		if calls != 6 || inline != 5 || requests != 2 {
			t.Errorf("%d calls, %d with their own events, %d call_requests rows; want 6, 5 and 2", calls, inline, requests)
		}
	})
}
