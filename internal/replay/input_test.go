package replay

import (
	"context"
	"reflect"
	"testing"

	"github.com/ivr-project/ivr/internal/ivr"
	"github.com/ivr-project/ivr/internal/store"
	"github.com/ivr-project/ivr/internal/testutil"
)

// replayInput is replayLive with the caller's input controls: a flow-wide
// repeat key and a read-back on the account number.
var replayInput = replaceAll(replayLive, map[string]string{
	"menus:\n":    "repeat_key: \"*\"\nmenus:\n",
	"      do:\n": "      confirm: \"You entered {{account | digits}}. Press 1 if that is right, 2 to try again.\"\n      do:\n",
})

// TestReplayInputControls: recorded calls replayed through a draft that
// adds a repeat key or a read-back report the calls whose path changes; the
// calls the draft does not touch are not reported.
func TestReplayInputControls(t *testing.T) {
	live := testutil.MustParse(t, ivr.Parse, replayLive)
	calls := []store.Call{
		record(t, live, "CA1", []input{{kind: "keys", value: "*"}, {kind: "keys", value: "1"}, {kind: "keys", value: "9"}}, nil),          // * was a wrong entry
		record(t, live, "CA2", []input{{kind: "keys", value: "3"}, {kind: "keys", value: "12345"}}, map[string][]bool{"account": {true}}), // looked up at once
		record(t, live, "CA3", []input{{kind: "keys", value: "1"}, {kind: "keys", value: "9"}}, nil),                                      // untouched
	}
	changed, unfaithful := Run(context.Background(), live, testutil.MustParse(t, ivr.Parse, replayInput), calls)
	if unfaithful != 0 {
		t.Errorf("unfaithful = %d", unfaithful)
	}
	got := map[string]Call{}
	for _, c := range changed {
		got[c.CallID] = c
	}
	if len(changed) != 2 || got["CA1"].CallID == "" || got["CA2"].CallID == "" {
		t.Fatalf("changed = %+v, want CA1 and CA2", changed)
	}
	if c := got["CA1"]; !reflect.DeepEqual(c.LivePath, []string{"main", "main: invalid", "billing", "(hangup)"}) || c.DivergesAt != 1 {
		t.Errorf("CA1 = %+v", c)
	}
	if c := got["CA2"]; !reflect.DeepEqual(c.LivePath, []string{"main", "account", "(hangup)"}) || c.DivergesAt != 2 {
		t.Errorf("CA2 = %+v", c)
	}
}

// TestReplayRecordedConfirm: calls recorded on a flow with a read-back and
// a repeat key replay faithfully through it, and a draft without them
// reports them.
func TestReplayRecordedConfirm(t *testing.T) {
	live := testutil.MustParse(t, ivr.Parse, replayInput)
	calls := []store.Call{
		record(t, live, "CA1", []input{{kind: "keys", value: "3"}, {kind: "keys", value: "12345"}, {kind: "keys", value: "1"}}, map[string][]bool{"account": {true}}),
		record(t, live, "CA2", []input{{kind: "keys", value: "3"}, {kind: "keys", value: "12345"}, {kind: "keys", value: "2"}, {kind: "keys", value: "1234"}, {kind: "keys", value: "1"}}, map[string][]bool{"account": {false}}),
		record(t, live, "CA3", []input{{kind: "keys", value: "*"}, {kind: "keys", value: "1"}, {kind: "keys", value: "9"}}, nil),
	}
	if changed, unfaithful := Run(context.Background(), live, live, calls); len(changed) != 0 || unfaithful != 0 {
		t.Fatalf("replay on the same flow: changed %+v, unfaithful %d", changed, unfaithful)
	}
	changed, _ := Run(context.Background(), live, testutil.MustParse(t, ivr.Parse, replayLive), calls)
	if len(changed) != 3 {
		t.Fatalf("changed = %+v, want all three", changed)
	}
}

// TestReplayErrorKinds: a recorded lookup replays with the failure its
// on_error saw, so a draft that switches on error takes the branch the
// call's failure takes: the 404 keeps going to billing, the timeout now
// hangs up.
func TestReplayErrorKinds(t *testing.T) {
	live := testutil.MustParse(t, ivr.Parse, replayLive)
	notFound := map[string][]outcome{"account": {{fail: ivr.FailNotFound}}}
	timeout := map[string][]outcome{"account": {{fail: ivr.FailTimeout}}}
	ins := []input{{kind: "keys", value: "3"}, {kind: "keys", value: "12345"}}
	calls := []store.Call{
		recordOutcomes(t, live, "CA1", ins, notFound),
		recordOutcomes(t, live, "CA2", ins, timeout),
	}
	if e := calls[1].Events; !hasFetchError(e, ivr.FailTimeout) {
		t.Fatalf("the fetch's event does not keep its error: %+v", e)
	}
	draft := testutil.MustParse(t, ivr.Parse, replaceOnce(replayLive, `on_error: [{say: "Sorry."}, {goto: billing}]`,
		`on_error: [{switch: [{if: 'error == "not_found"', do: {goto: billing}}, {else: hangup}]}]`))
	changed, unfaithful := Run(context.Background(), live, draft, calls)
	if unfaithful != 0 || len(changed) != 1 || changed[0].CallID != "CA2" {
		t.Fatalf("changed = %+v (unfaithful %d), want CA2 only", changed, unfaithful)
	}
	if got := changed[0].DraftPath; !reflect.DeepEqual(got, []string{"main", "account", "(hangup)"}) {
		t.Errorf("CA2 draft path %q", got)
	}
}

func hasFetchError(evs []store.Event, f ivr.Failure) bool {
	for _, e := range evs {
		if e.Kind == ivr.EventFetch && e.Failure() == f {
			return true
		}
	}
	return false
}

// TestReplaySpeechConfidence: a spoken answer keeps the recognizer's
// confidence in the call's events, so a draft adding min_confidence reports
// the calls whose answers it would now refuse.
func TestReplaySpeechConfidence(t *testing.T) {
	src := replaceAll(replayLive, map[string]string{
		`      "1": {goto: billing}`:                           "      \"1\": {do: {goto: billing}, words: [billing]}",
		"    greeting: \"1 billing, 2 support, 3 account.\"\n": "    greeting: \"1 billing, 2 support, 3 account.\"\n    speech: true\n",
	})
	live := testutil.MustParse(t, ivr.Parse, src)
	sure := recordSpeech(t, live, "CA1", 0.9)
	unsure := recordSpeech(t, live, "CA2", 0.2)
	draft := testutil.MustParse(t, ivr.Parse, replaceOnce(src, "speech: true", "speech: {min_confidence: 0.4}"))
	changed, _ := Run(context.Background(), live, draft, []store.Call{sure, unsure})
	if len(changed) != 1 || changed[0].CallID != "CA2" {
		t.Fatalf("changed = %+v, want CA2 only", changed)
	}
	if got := changed[0].DraftPath; len(got) < 2 || got[1] != "main: invalid" {
		t.Errorf("CA2 draft path %q", got)
	}
}

// recordSpeech records a call that says "billing" at main with the
// recognizer's confidence conf, then 9.
func recordSpeech(t *testing.T, f *ivr.Flow, id string, conf float64) store.Call {
	t.Helper()
	return record(t, f, id, []input{{kind: "speech", value: "billing", confidence: conf}, {kind: "keys", value: "9"}}, nil)
}
