package store

import (
	"errors"
	"github.com/ivr-project/ivr/internal/ivr"
	"reflect"
	"testing"
	"time"
)

func TestInsights(t *testing.T) {
	forEachStore(t, func(t *testing.T, dsn newDSN) {
		t.Run("Aggregates", func(t *testing.T) { testInsightAggregates(t, dsn) })
		t.Run("Failures", func(t *testing.T) { testInsightFailures(t, dsn) })
		t.Run("Voicemails", func(t *testing.T) { testVoicemails(t, dsn) })
		t.Run("Collect", func(t *testing.T) { testInsightCollect(t, dsn) })
		t.Run("StepLimit", func(t *testing.T) { testInsightStepLimit(t, dsn) })
	})
}

// seedInsightCalls stores five calls, one per outcome, plus a repeat:
//
//	CA1 (+1001, rev r1): main enter, invalid, option 1 -> sales enter, hangup      contained, repeated by CA5
//	CA2 (+1002, rev r1): main enter, timeout, option 2, transfer, dial completed   transferred
//	CA3 (+1003, rev r2): main enter, option 1, sales enter; final status           abandoned in sales
//	CA4 (+1004, rev r2, plivo): main enter, fallback flow                          fallback
//	CA5 (+1001, rev r2): main enter, option 3 voicemail, voicemail done            contained (an hour after CA1)
func seedInsightCalls(t *testing.T, d *DB) {
	ctx := ctxT(t)
	ev := func(sec int, rev, menu, input, action string) Event {
		return Event{Event: legacyEvent(at(sec), menu, input, action), Revision: rev}
	}
	add := func(provider, id, from string, evs ...Event) {
		t.Helper()
		if err := d.AddEvents(ctx, provider, id, from, "+1999", evs); err != nil {
			t.Fatal(err)
		}
	}
	add("twilio", "CA1", "+1001", ev(0, "r1", "main", "", "enter"), ev(5, "r1", "main", "7", "invalid"))
	add("twilio", "CA1", "", ev(10, "r1", "main", "1", "option 1"), ev(10, "r1", "main", "", "goto sales"),
		ev(10, "r1", "sales", "", "enter"), ev(20, "r1", "sales", "", "say"), ev(20, "r1", "sales", "", "hangup"))
	add("twilio", "CA2", "+1002", ev(100, "r1", "main", "", "enter"))
	add("twilio", "CA2", "+1002", ev(110, "r1", "main", "timeout", "timeout"))
	add("twilio", "CA2", "+1002", ev(120, "r1", "main", "2", "option 2"), ev(120, "r1", "main", "", "transfer +1555"))
	add("twilio", "CA2", "+1002", ev(200, "r1", "main", "dial completed", "hangup"))
	add("twilio", "CA3", "+1003", ev(300, "r2", "main", "", "enter"))
	add("twilio", "CA3", "+1003", ev(305, "r2", "main", "1", "option 1"), ev(305, "r2", "sales", "", "enter"))
	if err := d.UpdateStatus(ctx, StatusUpdate{Provider: "twilio", CallID: "CA3", Status: "completed", Final: true, At: at(330)}); err != nil {
		t.Fatal(err)
	}
	add("plivo", "CA4", "+1004", ev(400, "r2", "main", "", "enter"))
	add("plivo", "CA4", "+1004", Event{Event: legacyEvent(at(401), "", "", "fallback flow"), Revision: "r2"})
	add("twilio", "CA5", "+1001", ev(3600, "r2", "main", "", "enter"), ev(3610, "r2", "main", "3", "option 3"), ev(3610, "r2", "main", "", "voicemail"))
	vm := ev(3650, "r2", "main", "recording https://api.twilio.com/rec/RE1", "voicemail done")
	vm.Recording = &Recording{URL: "https://api.twilio.com/rec/RE1", DurationSeconds: 38}
	add("twilio", "CA5", "", vm, ev(3650, "r2", "main", "", "hangup"))
}

func testInsightAggregates(t *testing.T, newDSN newDSN) {
	d := openT(t, newDSN(t))
	seedInsightCalls(t, d)
	ctx := ctxT(t)
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	in, err := d.Insights(ctx, InsightFilter{Since: day, Until: day.AddDate(0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	got := [8]int64{in.Calls, in.Contained, in.Transferred, in.Abandoned, in.Fallbacks, in.InProgress, in.RepeatCallers, in.ContainedNotRepeated}
	if want := [8]int64{5, 2, 1, 1, 1, 0, 1, 1}; got != want {
		t.Errorf("calls, contained, transferred, abandoned, fallbacks, in progress, repeat, contained-not-repeated = %v, want %v", got, want)
	}
	main := in.Menus["main"]
	if main == nil || main.Entered != 5 || main.Chose != 4 || main.Invalid != 1 || main.Silent != 1 || main.HungUp != 0 {
		t.Errorf("menu main = %+v, want entered 5, chose 4, invalid 1, silent 1, hung up 0", main)
	}
	if want := map[string]int64{"1": 2, "2": 1, "3": 1}; main != nil && !reflect.DeepEqual(main.Options, want) {
		t.Errorf("main options = %v, want %v", main.Options, want)
	}
	if sales := in.Menus["sales"]; sales == nil || sales.Entered != 2 || sales.HungUp != 1 {
		t.Errorf("menu sales = %+v, want entered 2, hung up 1", sales)
	}
	if want := map[string]int64{"completed": 1}; !reflect.DeepEqual(in.Transfers, want) {
		t.Errorf("transfers = %v, want %v", in.Transfers, want)
	}
	if len(in.Hours) != 2 || in.Hours[0].Calls != 4 || in.Hours[1].Calls != 1 || in.Hours[1].Contained != 1 {
		t.Errorf("hours = %+v, want 4 calls at 12:00, 1 contained at 13:00", in.Hours)
	}
	// Flow times: 20, 100, 5, 1, 50 seconds.
	if in.FlowCalls != 5 || in.FlowSecondsAvg != 35.2 {
		t.Errorf("flow: %d calls, avg %v; want 5, 35.2", in.FlowCalls, in.FlowSecondsAvg)
	}
	if in.FlowSecondsP90 < 45 || in.FlowSecondsP90 > 120 {
		t.Errorf("flow p90 = %v, want within the 90-120 s bucket range", in.FlowSecondsP90)
	}
	if want := []string{"r1", "r2"}; !reflect.DeepEqual(in.Revisions, want) {
		t.Errorf("revisions = %v, want %v", in.Revisions, want)
	}
	// Folding PostgreSQL's rollup deltas changes no figure.
	if _, err := d.CompactInsights(ctx); err != nil {
		t.Fatal(err)
	}
	again, err := d.Insights(ctx, InsightFilter{Since: day, Until: day.AddDate(0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again, in) {
		t.Errorf("after compaction:\n%+v\nwant\n%+v", again, in)
	}

	// Filters: by revision, provider, number, and an empty period.
	r1, err := d.Insights(ctx, InsightFilter{Since: day, Until: day.AddDate(0, 0, 1), Revision: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	if r1.Calls != 2 || r1.Menus["main"].Entered != 2 || r1.Menus["main"].Chose != 2 {
		t.Errorf("revision r1: %d calls, main %+v; want 2 calls, entered 2, chose 2", r1.Calls, r1.Menus["main"])
	}
	pl, err := d.Insights(ctx, InsightFilter{Provider: "plivo"})
	if err != nil {
		t.Fatal(err)
	}
	if pl.Calls != 1 || pl.Fallbacks != 1 {
		t.Errorf("plivo: %d calls, %d fallbacks; want 1, 1", pl.Calls, pl.Fallbacks)
	}
	none, err := d.Insights(ctx, InsightFilter{Since: day.AddDate(0, 0, 1), Until: day.AddDate(0, 0, 2), To: "+1999"})
	if err != nil {
		t.Fatal(err)
	}
	if none.Calls != 0 || len(none.Menus) != 0 || len(none.Hours) != 0 || none.FlowSecondsP90 != 0 {
		t.Errorf("empty period: %+v", none)
	}
	if len(in.Days) != 1 || in.Days[0].Calls != 5 {
		t.Errorf("days = %+v, want one day of 5 calls", in.Days)
	}
	// Deleted calls (retention) leave the figures.
	if _, err := d.DeleteOlderThan(ctx, day.AddDate(0, 0, 2)); err != nil {
		t.Fatal(err)
	}
	gone, err := d.Insights(ctx, InsightFilter{Since: day, Until: day.AddDate(0, 0, 30)})
	if err != nil {
		t.Fatal(err)
	}
	if gone.Calls != 0 || gone.Abandoned != 0 || gone.FlowCalls != 0 || len(gone.Days) != 0 {
		t.Errorf("after deleting every call: %+v", gone)
	}
}

func testInsightFailures(t *testing.T, newDSN newDSN) {
	dsn := newDSN(t)
	ctx := ctxT(t)
	// Two instances count into one database; counts survive a reopen.
	for i := 0; i < 2; i++ {
		d := openT(t, dsn)
		c := NewFailureCounter(d, nil)
		c.now = func() time.Time { return at(0) }
		c.Add("twilio", FailureFallback, "flow")
		c.Add("twilio", FailureRefused, "bad_signature")
		c.Add("twilio", FailureRefused, "bad_signature")
		if err := c.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if err := c.Flush(ctx); err != nil { // nothing new: adds nothing
			t.Fatal(err)
		}
		d.Close()
	}
	d := openT(t, dsn)
	in, err := d.Insights(ctx, InsightFilter{})
	if err != nil {
		t.Fatal(err)
	}
	h := at(0).Truncate(time.Hour)
	want := []FailureCount{
		{Hour: h, Kind: FailureFallback, Provider: "twilio", Reason: "flow", Count: 2},
		{Hour: h, Kind: FailureRefused, Provider: "twilio", Reason: "bad_signature", Count: 4},
	}
	if !reflect.DeepEqual(in.Failures, want) {
		t.Errorf("failures = %+v, want %+v", in.Failures, want)
	}
}

func testVoicemails(t *testing.T, newDSN newDSN) {
	d := openT(t, newDSN(t))
	seedInsightCalls(t, d)
	ctx := ctxT(t)
	// A provider retrying the same webhook does not add a second row.
	vm := Event{Event: legacyEvent(at(3650), "main", "recording", "voicemail done"),
		Recording: &Recording{URL: "https://api.twilio.com/rec/RE1", DurationSeconds: 38}}
	if err := d.AddEvents(ctx, "twilio", "CA5", "", "", []Event{vm}); err != nil {
		t.Fatal(err)
	}
	all, err := d.ListVoicemails(ctx, VoicemailFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 {
		t.Fatalf("voicemails = %+v, want 1", all)
	}
	v := all[0]
	if v.From != "+1001" || v.CallID != "CA5" || v.Menu != "main" || v.DurationSeconds != 38 || !v.At.Equal(at(3650)) || v.HandledAt != nil {
		t.Errorf("voicemail = %+v", v)
	}
	if err := d.SetVoicemailHandled(ctx, v.ID, true); err != nil {
		t.Fatal(err)
	}
	for filter, want := range map[string]int{"yes": 1, "no": 0, "": 1} {
		got, err := d.ListVoicemails(ctx, VoicemailFilter{Handled: filter})
		if err != nil || len(got) != want {
			t.Errorf("ListVoicemails(handled=%q) = %d rows, %v; want %d", filter, len(got), err, want)
		}
	}
	if err := d.SetVoicemailHandled(ctx, v.ID, false); err != nil {
		t.Fatal(err)
	}
	if g, err := d.GetVoicemail(ctx, v.ID); err != nil || g.HandledAt != nil {
		t.Errorf("after unmarking: %+v, %v", g, err)
	}
	if err := d.SetVoicemailHandled(ctx, 999, true); !errors.Is(err, ErrNotFound) {
		t.Errorf("mark unknown voicemail: %v, want ErrNotFound", err)
	}
	if _, err := d.ListVoicemails(ctx, VoicemailFilter{Handled: "maybe"}); err == nil {
		t.Error("handled=maybe accepted")
	}
}

// A collect menu's valid entry counts as its choice (option "collect"), a
// wrong length as invalid: the funnel of a collect menu is not all hang-ups.
func testInsightCollect(t *testing.T, newDSN newDSN) {
	d := openT(t, newDSN(t))
	ctx := ctxT(t)
	ev := func(sec int, menu, input, action string) Event {
		return Event{Event: legacyEvent(at(sec), menu, input, action), Revision: "r1"}
	}
	if err := d.AddEvents(ctx, "twilio", "CA1", "+1001", "+1999", []Event{
		ev(0, "account", "", "enter"), ev(5, "account", "3 digits", "invalid"),
		ev(9, "account", "6 digits", "collected account"), ev(9, "account", "", "fetch account: ok"), ev(9, "account", "", "hangup"),
	}); err != nil {
		t.Fatal(err)
	}
	in, err := d.Insights(ctx, InsightFilter{})
	if err != nil {
		t.Fatal(err)
	}
	m := in.Menus["account"]
	if m == nil || m.Entered != 1 || m.Chose != 1 || m.Invalid != 1 || m.Options[CollectOption] != 1 || m.HungUp != 0 {
		t.Errorf("collect menu = %+v, want entered 1, chose 1 (option collect), invalid 1, hung up 0", m)
	}
}

// testInsightStepLimit: calls the step limit ended are counted in the menu
// where it was reached.
func testInsightStepLimit(t *testing.T, newDSN newDSN) {
	d := openT(t, newDSN(t))
	ctx := ctxT(t)
	for _, id := range []string{"CA1", "CA2"} {
		if err := d.AddEvents(ctx, "twilio", id, "+1001", "+1999", []Event{
			{Event: ivr.Event{At: at(0), Kind: ivr.EventEnter, Menu: "b"}},
			{Event: ivr.Event{At: at(9), Kind: ivr.EventMaxTimeouts, Menu: "b"}},
			{Event: ivr.Event{At: at(9), Kind: ivr.EventStepLimit, Menu: "b", More: &ivr.EventMore{Reason: "11 menus ran out of tries"}}},
			{Event: ivr.Event{At: at(9), Kind: ivr.EventHangup, Menu: "b"}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	in, err := d.Insights(ctx, InsightFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if m := in.Menus["b"]; m == nil || m.StepLimits != 2 || in.StepLimits != 2 {
		t.Errorf("menu b = %+v, calls %d step-limited; want 2 and 2", m, in.StepLimits)
	}
}

// TestPercentileFirstBucket: a p90 in the first bucket (every call under
// 5 s) is reported as "under 5 s", not interpolated to 4.5 s; above it the
// p90 is interpolated inside its bucket.
func TestPercentileFirstBucket(t *testing.T) {
	hist := make([]int64, len(flowBuckets)+1)
	hist[0] = 10
	if v, under := percentile(hist, 10, 0.9); v != 5 || !under {
		t.Errorf("all under 5 s: p90 = %v (under %v), want under 5", v, under)
	}
	hist[0], hist[1] = 1, 9 // 1 under 5 s, 9 between 5 and 10 s
	if v, under := percentile(hist, 10, 0.9); under || v <= 5 || v > 10 {
		t.Errorf("p90 = %v (under %v), want in (5, 10]", v, under)
	}
}
