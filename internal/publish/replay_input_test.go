package publish

import (
	"reflect"
	"testing"

	"github.com/ivr-project/ivr/internal/store"
	"github.com/ivr-project/ivr/internal/testutil/testflow"
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
	live := testflow.MustParse(t, replayLive)
	calls := []store.Call{
		record(t, live, "CA1", []input{{"keys", "*"}, {"keys", "1"}, {"keys", "9"}}, nil),                       // * was a wrong entry
		record(t, live, "CA2", []input{{"keys", "3"}, {"keys", "12345"}}, map[string][]bool{"account": {true}}), // looked up at once
		record(t, live, "CA3", []input{{"keys", "1"}, {"keys", "9"}}, nil),                                      // untouched
	}
	changed, unfaithful := Replay(live, testflow.MustParse(t, replayInput), calls)
	if unfaithful != 0 {
		t.Errorf("unfaithful = %d", unfaithful)
	}
	got := map[string]ReplayedCall{}
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
	live := testflow.MustParse(t, replayInput)
	calls := []store.Call{
		record(t, live, "CA1", []input{{"keys", "3"}, {"keys", "12345"}, {"keys", "1"}}, map[string][]bool{"account": {true}}),
		record(t, live, "CA2", []input{{"keys", "3"}, {"keys", "12345"}, {"keys", "2"}, {"keys", "1234"}, {"keys", "1"}}, map[string][]bool{"account": {false}}),
		record(t, live, "CA3", []input{{"keys", "*"}, {"keys", "1"}, {"keys", "9"}}, nil),
	}
	if changed, unfaithful := Replay(live, live, calls); len(changed) != 0 || unfaithful != 0 {
		t.Fatalf("replay on the same flow: changed %+v, unfaithful %d", changed, unfaithful)
	}
	changed, _ := Replay(live, testflow.MustParse(t, replayLive), calls)
	if len(changed) != 3 {
		t.Fatalf("changed = %+v, want all three", changed)
	}
}
