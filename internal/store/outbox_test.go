package store

import (
	"encoding/json"
	"sync"
	"testing"
	"time"
)

// payloadOf decodes an outbox event's body.
type payload struct {
	Type      string         `json:"type"`
	Timestamp time.Time      `json:"timestamp"`
	Data      map[string]any `json:"data"`
}

func payloadOf(t *testing.T, e OutboxEvent) payload {
	t.Helper()
	var p payload
	if err := json.Unmarshal(e.Payload, &p); err != nil {
		t.Fatalf("payload of %d: %v: %s", e.ID, err, e.Payload)
	}
	return p
}

func listAll(t *testing.T, d *DB, typ string) []OutboxEvent {
	t.Helper()
	evs, err := d.ListOutbox(ctxT(t), OutboxListOptions{Type: typ, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func mustStatus(t *testing.T, d *DB, u StatusUpdate) {
	t.Helper()
	if err := d.UpdateStatus(ctxT(t), u); err != nil {
		t.Fatal(err)
	}
}

// Duplicate, late and out-of-order status callbacks: one call.completed,
// and a non-final status after the final one does not reopen the call.
func TestOutboxCallCompletedOnce(t *testing.T) {
	forEachStore(t, func(t *testing.T, dsn newDSN) {
		d := openT(t, dsn(t))
		d.EnableOutbox()
		u := StatusUpdate{Provider: "twilio", CallID: "CA1", From: "+1555", To: "+1666"}
		st := func(status string, final bool, sec int) StatusUpdate {
			v := u
			v.Status, v.Final, v.At, v.ProviderAt = status, final, at(sec), at(sec)
			return v
		}
		mustStatus(t, d, st("in-progress", false, 2))
		mustStatus(t, d, st("ringing", false, 1)) // late: older than in-progress
		c, err := d.GetCall(ctxT(t), "twilio", "CA1")
		if err != nil || c.Status != "in-progress" {
			t.Fatalf("after a late ringing: status %q, %v; want in-progress", c.Status, err)
		}
		done := st("completed", true, 60)
		done.DurationSeconds = 58
		mustStatus(t, d, done)
		mustStatus(t, d, done)                        // the provider retries
		mustStatus(t, d, st("in-progress", false, 3)) // a late earlier status
		mustStatus(t, d, st("in-progress", false, 90))
		c, _ = d.GetCall(ctxT(t), "twilio", "CA1")
		if c.Status != "completed" || c.EndedAt == nil {
			t.Fatalf("call reopened: %+v", c)
		}
		evs := listAll(t, d, EventCallCompleted)
		if len(evs) != 1 {
			t.Fatalf("call.completed events = %d, want 1", len(evs))
		}
		p := payloadOf(t, evs[0])
		if p.Type != EventCallCompleted || p.Data["status"] != "completed" || p.Data["call_id"] != "CA1" ||
			p.Data["from"] != "+1555" || p.Data["closed_by"] != "provider" || p.Data["duration_seconds"] != 58.0 {
			t.Errorf("payload = %s", evs[0].Payload)
		}
		if p.Data["sequence"] != 1.0 || evs[0].Seq != 1 {
			t.Errorf("sequence = %v (%d), want 1", p.Data["sequence"], evs[0].Seq)
		}
		if p.Data["provider_timestamp"] != at(60).Format(time.RFC3339) {
			t.Errorf("provider_timestamp = %v, want %s", p.Data["provider_timestamp"], at(60).Format(time.RFC3339))
		}
		if evs[0].State != OutboxPending || evs[0].EventID == "" {
			t.Errorf("event = %+v", evs[0])
		}
	})
}

// Without EnableOutbox, nothing is written (and enabling it later does not
// report calls that ended before).
func TestOutboxDisabled(t *testing.T) {
	d := openT(t, sqliteDSN(t))
	mustStatus(t, d, StatusUpdate{Provider: "plivo", CallID: "u1", Status: "completed", Final: true})
	d.EnableOutbox()
	mustStatus(t, d, StatusUpdate{Provider: "plivo", CallID: "u1", Status: "completed", Final: true})
	if evs := listAll(t, d, ""); len(evs) != 0 {
		t.Fatalf("outbox has %d events, want none", len(evs))
	}
}

// Two final callbacks racing on a new call (PostgreSQL runs them
// concurrently): one call.completed.
func TestOutboxConcurrentFinals(t *testing.T) {
	forEachStore(t, func(t *testing.T, dsn newDSN) {
		d := openT(t, dsn(t))
		d.EnableOutbox()
		const calls, dup = 20, 4
		var wg sync.WaitGroup
		for i := range calls {
			for range dup {
				wg.Add(1)
				go func() {
					defer wg.Done()
					u := StatusUpdate{Provider: "twilio", CallID: "CA" + padNum(i), Status: "completed", Final: true}
					if err := d.UpdateStatus(ctxT(t), u); err != nil {
						t.Error(err)
					}
				}()
			}
		}
		wg.Wait()
		seen := map[string]int{}
		for _, e := range listAll(t, d, EventCallCompleted) {
			seen[e.CallID]++
		}
		if len(seen) != calls {
			t.Errorf("calls reported = %d, want %d", len(seen), calls)
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("%s: %d call.completed, want 1", id, n)
			}
		}
	})
}

func padNum(i int) string { return string(rune('a'+i/26)) + string(rune('a'+i%26)) }

// A call whose final callback never comes is closed as "unknown" and still
// gets its call.completed; a final callback after that changes the status
// but sends no second call.completed.
func TestCloseStaleCalls(t *testing.T) {
	forEachStore(t, func(t *testing.T, dsn newDSN) {
		d := openT(t, dsn(t))
		clk := &clock{t: at(0)}
		d.now = clk.now
		d.EnableOutbox()
		ctx := ctxT(t)
		if err := d.AddEvents(ctx, "twilio", "CAold", "+1555", "+1666", []Event{{Event: legacyEvent(at(0), "main", "", "enter")}}); err != nil {
			t.Fatal(err)
		}
		clk.t = at(3000)
		if err := d.AddEvents(ctx, "twilio", "CAnew", "+1555", "+1666", []Event{{Event: legacyEvent(at(3000), "main", "", "enter")}}); err != nil {
			t.Fatal(err)
		}
		mustStatus(t, d, StatusUpdate{Provider: "twilio", CallID: "CAdone", Status: "completed", Final: true, At: at(10)})
		clk.t = at(3600)
		n, err := d.CloseStaleCalls(ctx, at(3600).Add(-time.Hour+time.Second), 100)
		if err != nil || n != 1 {
			t.Fatalf("CloseStaleCalls = %d, %v; want 1 (only CAold)", n, err)
		}
		if n, _ := d.CloseStaleCalls(ctx, at(3600).Add(-time.Hour+time.Second), 100); n != 0 {
			t.Fatalf("second CloseStaleCalls closed %d, want 0", n)
		}
		c, _ := d.GetCall(ctx, "twilio", "CAold")
		if c.Status != StatusUnknown || c.EndedAt == nil || !c.EndedAt.Equal(at(3600)) {
			t.Fatalf("closed call = %+v", c)
		}
		mustStatus(t, d, StatusUpdate{Provider: "twilio", CallID: "CAold", Status: "completed", Final: true, At: at(3700)})
		c, _ = d.GetCall(ctx, "twilio", "CAold")
		if c.Status != "completed" {
			t.Errorf("late final status not recorded: %q", c.Status)
		}
		var old []OutboxEvent
		for _, e := range listAll(t, d, EventCallCompleted) {
			if e.CallID == "CAold" {
				old = append(old, e)
			}
		}
		if len(old) != 1 {
			t.Fatalf("CAold call.completed events = %d, want 1", len(old))
		}
		p := payloadOf(t, old[0])
		if p.Data["status"] != StatusUnknown || p.Data["closed_by"] != "ivr" {
			t.Errorf("payload = %s", old[0].Payload)
		}
	})
}

// A Notice on an event writes its outbox event with the event, and the
// call's events are numbered in order.
func TestOutboxNotice(t *testing.T) {
	forEachStore(t, func(t *testing.T, dsn newDSN) {
		d := openT(t, dsn(t))
		d.EnableOutbox()
		ctx := ctxT(t)
		vm := Event{Event: legacyEvent(at(5), "sales", "", "voicemail done"),
			Notice: &Notice{Type: EventVoicemailCreated, Data: map[string]any{"recording_url": "https://r.example/1"}}}
		err := d.AddEventBatch(ctx, []CallEvents{
			{Provider: "plivo", CallID: "u1", From: "+1555", To: "+1666", Events: []Event{{Event: legacyEvent(at(1), "main", "", "enter")}, vm}},
		})
		if err != nil {
			t.Fatal(err)
		}
		mustStatus(t, d, StatusUpdate{Provider: "plivo", CallID: "u1", Status: "completed", Final: true})
		evs := listAll(t, d, "")
		if len(evs) != 2 {
			t.Fatalf("events = %d, want 2", len(evs))
		}
		v, c := evs[1], evs[0] // newest first
		p := payloadOf(t, v)
		if v.Type != EventVoicemailCreated || v.Seq != 1 || p.Data["recording_url"] != "https://r.example/1" ||
			p.Data["menu"] != "sales" || p.Data["from"] != "+1555" {
			t.Errorf("voicemail event = %+v %s", v, v.Payload)
		}
		if c.Type != EventCallCompleted || c.Seq != 2 {
			t.Errorf("completed event = %+v", c)
		}
	})
}

// Claiming leases events to one owner; a failed attempt comes back at its
// next time; delivered and given-up events are not claimed; retry makes an
// event due again.
func TestClaimOutbox(t *testing.T) {
	forEachStore(t, func(t *testing.T, dsn newDSN) {
		d := openT(t, dsn(t))
		clk := &clock{t: at(0)}
		d.now = clk.now
		d.EnableOutbox()
		ctx := ctxT(t)
		for _, id := range []string{"a", "b", "c"} {
			mustStatus(t, d, StatusUpdate{Provider: "twilio", CallID: id, Status: "completed", Final: true})
		}
		got, err := d.ClaimOutbox(ctx, "one", 2, time.Minute)
		if err != nil || len(got) != 2 {
			t.Fatalf("claim = %d, %v; want 2", len(got), err)
		}
		other, _ := d.ClaimOutbox(ctx, "two", 10, time.Minute)
		if len(other) != 1 || other[0].ID == got[0].ID || other[0].ID == got[1].ID {
			t.Fatalf("second claimer got %+v", other)
		}
		if err := d.OutboxDelivered(ctx, got[0].ID, 204); err != nil {
			t.Fatal(err)
		}
		if err := d.OutboxFailed(ctx, got[1].ID, "one", 500, "HTTP 500", at(30), false); err != nil {
			t.Fatal(err)
		}
		if err := d.OutboxFailed(ctx, other[0].ID, "two", 0, "timeout", at(0), true); err != nil {
			t.Fatal(err)
		}
		if again, _ := d.ClaimOutbox(ctx, "one", 10, time.Minute); len(again) != 0 {
			t.Fatalf("claimed before the next attempt is due: %+v", again)
		}
		clk.t = at(31)
		again, _ := d.ClaimOutbox(ctx, "two", 10, time.Minute)
		if len(again) != 1 || again[0].ID != got[1].ID || again[0].Attempts != 1 || again[0].LastStatus != 500 {
			t.Fatalf("after the backoff: %+v", again)
		}
		// A lease that ran out (its owner died) is claimed by another.
		clk.t = at(100)
		stolen, _ := d.ClaimOutbox(ctx, "one", 10, time.Minute)
		if len(stolen) != 1 || stolen[0].ID != got[1].ID {
			t.Fatalf("expired lease not reclaimed: %+v", stolen)
		}
		// The old owner's late report does not overwrite the new owner's lease.
		if err := d.OutboxFailed(ctx, got[1].ID, "two", 500, "late", at(100), true); err != nil {
			t.Fatal(err)
		}
		counts, _ := d.OutboxCounts(ctx)
		if counts[OutboxDelivered] != 1 || counts[OutboxFailed] != 1 || counts[OutboxPending] != 1 {
			t.Errorf("counts = %v", counts)
		}
		if n, err := d.OutboxPending(ctx); n != 1 || err != nil {
			t.Errorf("OutboxPending = %d, %v; want 1", n, err)
		}
		if err := d.RetryOutbox(ctx, other[0].ID); err != nil {
			t.Fatal(err)
		}
		retried, _ := d.ClaimOutbox(ctx, "two", 10, time.Minute)
		if len(retried) != 1 || retried[0].ID != other[0].ID {
			t.Fatalf("retried event not due: %+v", retried)
		}
		if err := d.RetryOutbox(ctx, 99999); err == nil {
			t.Error("RetryOutbox of a missing event: no error")
		}
	})
}

// Retention deletes delivered and failed events older than its date, and
// keeps those still to deliver whatever their age.
func TestRetentionKeepsPendingEvents(t *testing.T) {
	d := openT(t, sqliteDSN(t))
	clk := &clock{t: at(0)}
	d.now = clk.now
	d.EnableOutbox()
	ctx := ctxT(t)
	for _, id := range []string{"a", "b"} {
		mustStatus(t, d, StatusUpdate{Provider: "twilio", CallID: id, Status: "completed", Final: true})
	}
	evs, _ := d.ClaimOutbox(ctx, "x", 1, time.Minute)
	if err := d.OutboxDelivered(ctx, evs[0].ID, 200); err != nil {
		t.Fatal(err)
	}
	clk.t = at(100)
	if _, err := d.DeleteOlderThan(ctx, at(50)); err != nil {
		t.Fatal(err)
	}
	left := listAll(t, d, "")
	if len(left) != 1 || left[0].State != OutboxPending {
		t.Fatalf("after retention: %+v", left)
	}
}

// Two instances closing stale calls at once close and report each call once.
func TestCloseStaleCallsTwoInstances(t *testing.T) {
	forEachStore(t, func(t *testing.T, dsn newDSN) {
		name := dsn(t)
		a, b := openT(t, name), openT(t, name)
		a.EnableOutbox()
		b.EnableOutbox()
		ctx := ctxT(t)
		const n = 40
		for i := range n {
			if err := a.AddEvents(ctx, "plivo", "u"+padNum(i), "", "", []Event{{Event: legacyEvent(at(0), "main", "", "enter")}}); err != nil {
				t.Fatal(err)
			}
		}
		var (
			wg     sync.WaitGroup
			closed [2]int
		)
		for i, d := range []*DB{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					c, err := d.CloseStaleCalls(ctx, at(0).Add(time.Hour), 7)
					if err != nil {
						t.Error(err)
						return
					}
					closed[i] += c
					if c == 0 {
						return
					}
				}
			}()
		}
		wg.Wait()
		if closed[0]+closed[1] != n {
			t.Errorf("closed %d + %d, want %d in all", closed[0], closed[1], n)
		}
		seen := map[string]int{}
		for _, e := range listAll(t, a, EventCallCompleted) {
			seen[e.CallID]++
		}
		if len(seen) != n {
			t.Errorf("calls reported = %d, want %d", len(seen), n)
		}
		for id, c := range seen {
			if c != 1 {
				t.Errorf("%s reported %d times", id, c)
			}
		}
	})
}

// Callbacks fired within one second are ordered by the provider's sequence
// number when they carry one.
func TestStatusOrderBySequence(t *testing.T) {
	forEachStore(t, func(t *testing.T, dsn newDSN) {
		d := openT(t, dsn(t))
		d.EnableOutbox()
		seq := func(n int64) *int64 { return &n }
		u := StatusUpdate{Provider: "twilio", CallID: "CA1", ProviderAt: at(1)}
		for _, s := range []struct {
			status string
			seq    int64
		}{{"in-progress", 2}, {"ringing", 1}, {"initiated", 0}} {
			v := u
			v.Status, v.ProviderSeq = s.status, seq(s.seq)
			mustStatus(t, d, v)
		}
		c, _ := d.GetCall(ctxT(t), "twilio", "CA1")
		if c.Status != "in-progress" {
			t.Fatalf("status = %q, want in-progress (sequence 2 of 0..2)", c.Status)
		}
		v := u
		v.Status, v.Final, v.ProviderSeq = "completed", true, seq(3)
		mustStatus(t, d, v)
		evs := listAll(t, d, EventCallCompleted)
		if len(evs) != 1 || payloadOf(t, evs[0]).Data["provider_sequence"] != 3.0 {
			t.Fatalf("call.completed: %+v", evs)
		}
	})
}
