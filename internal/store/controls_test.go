package store

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestClosureRevisions(t *testing.T) {
	forEachStore(t, func(t *testing.T, newDSN newDSN) {
		ctx := ctxT(t)
		d := openT(t, newDSN(t))
		if _, err := d.SetClosure(ctx, &Closure{Then: "hangup"}, "ann", "x"); !errors.Is(err, ErrNoFlow) {
			t.Fatalf("closure before any flow: %v, want ErrNoFlow", err)
		}
		if _, err := d.PublishFlow(ctx, 0, FlowRevision{Author: "ivr", Hash: "h1", Text: "one"}); err != nil {
			t.Fatal(err)
		}
		until := time.Date(2026, 12, 24, 18, 0, 0, 0, time.UTC)
		set := &Closure{Message: "Storm.", Then: "voicemail", Until: &until, By: "ann", At: at(0)}
		r2, err := d.SetClosure(ctx, set, "ann", "closure set")
		if err != nil || r2.ID != 2 || r2.Text != "one" || r2.Hash != "h1" {
			t.Fatalf("SetClosure = %+v, %v", r2, err)
		}
		live, err := d.LatestFlow(ctx)
		if err != nil || live.Closure == nil || live.Closure.Message != "Storm." || !live.Closure.Until.Equal(until) || live.Author != "ann" {
			t.Fatalf("LatestFlow after set = %+v (closure %+v), %v", live, live.Closure, err)
		}
		// A publish carries the closure on.
		r3, err := d.PublishFlow(ctx, 2, FlowRevision{Author: "bob", Hash: "h2", Text: "two"})
		if err != nil || r3.Closure == nil {
			t.Fatalf("publish during a closure: %+v, %v", r3, err)
		}
		if live, _ := d.LatestFlow(ctx); live.Closure == nil || live.Closure.Then != "voicemail" || live.Text != "two" {
			t.Fatalf("after a publish: %+v", live)
		}
		r4, err := d.SetClosure(ctx, nil, "carl", "closure lifted")
		if err != nil || r4.ID != 4 || r4.Text != "two" {
			t.Fatalf("lift = %+v, %v", r4, err)
		}
		if live, _ := d.LatestFlow(ctx); live.Closure != nil {
			t.Fatalf("after lifting: closure %+v", live.Closure)
		}
		hist, err := d.FlowRevisions(ctx, 10)
		if err != nil || len(hist) != 4 || hist[0].Author != "carl" || hist[0].Note != "closure lifted" || hist[2].Author != "ann" {
			t.Fatalf("history = %+v, %v", hist, err)
		}
	})
}

func TestClosureOnAt(t *testing.T) {
	until := at(60)
	var none *Closure
	for _, c := range []struct {
		c    *Closure
		t    time.Time
		want bool
	}{
		{none, at(0), false},
		{&Closure{}, at(0), true},
		{&Closure{Until: &until}, at(59), true},
		{&Closure{Until: &until}, at(60), false},
	} {
		if got := c.c.OnAt(c.t); got != c.want {
			t.Errorf("%+v OnAt %v = %v, want %v", c.c, c.t, got, c.want)
		}
	}
}

func TestTranscripts(t *testing.T) {
	forEachStore(t, func(t *testing.T, newDSN newDSN) {
		d := openT(t, newDSN(t))
		d.EnableOutbox()
		ctx := ctxT(t)
		if err := d.SetTranscript(ctx, "twilio", "CA404", "hello"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("transcript of an unknown call: %v, want ErrNotFound", err)
		}
		for _, c := range []struct{ provider, id, from, text string }{
			{"twilio", "CA1", "+15551110001", "Please call me back about the ROOF leak."},
			{"plivo", "uuid-2", "15552220002", "Wrong number, sorry. 100% sure."},
		} {
			vm := Event{Event: legacyEvent(at(10), "main", "recording", "voicemail done"),
				Recording: &Recording{URL: "https://rec.example.com/" + c.id, DurationSeconds: 12}}
			if err := d.AddEvents(ctx, c.provider, c.id, c.from, "+15550000000", []Event{vm}); err != nil {
				t.Fatal(err)
			}
			if err := d.SetTranscript(ctx, c.provider, c.id, c.text); err != nil {
				t.Fatal(err)
			}
		}
		// A second transcript replaces the first.
		if err := d.SetTranscript(ctx, "plivo", "uuid-2", "  Wrong number, sorry. 100% sure!  "); err != nil {
			t.Fatal(err)
		}
		all, err := d.ListVoicemails(ctx, VoicemailFilter{})
		if err != nil || len(all) != 2 {
			t.Fatalf("voicemails = %+v, %v", all, err)
		}
		byCall := map[string]string{}
		for _, v := range all {
			byCall[v.CallID] = v.Transcript
		}
		if byCall["CA1"] != "Please call me back about the ROOF leak." || byCall["uuid-2"] != "Wrong number, sorry. 100% sure!" {
			t.Errorf("transcripts = %q", byCall)
		}
		for q, want := range map[string]string{"roof": "CA1", "100%": "uuid-2", "5552220002": "uuid-2", "1_0": "", "nothing": ""} {
			got, err := d.ListVoicemails(ctx, VoicemailFilter{Search: q})
			if err != nil {
				t.Fatal(err)
			}
			if (want == "" && len(got) != 0) || (want != "" && (len(got) != 1 || got[0].CallID != want)) {
				t.Errorf("search %q = %+v, want %q", q, got, want)
			}
		}
		evs, err := d.ListOutbox(ctx, OutboxListOptions{Type: EventVoicemailTranscribed})
		if err != nil || len(evs) != 3 {
			t.Fatalf("outbox voicemail.transcribed = %d, %v; want 3", len(evs), err)
		}
		var body struct {
			Type string         `json:"type"`
			Data map[string]any `json:"data"`
		}
		if err := json.Unmarshal(evs[0].Payload, &body); err != nil {
			t.Fatal(err)
		}
		if body.Type != EventVoicemailTranscribed || body.Data["transcript"] != "Wrong number, sorry. 100% sure!" || body.Data["call_id"] != "uuid-2" || body.Data["from"] != "15552220002" {
			t.Errorf("event = %s", evs[0].Payload)
		}
	})
}
