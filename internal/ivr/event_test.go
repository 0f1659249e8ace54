package ivr

import (
	"bytes"
	"reflect"
	"testing"
	"time"
)

// eventCases are typed events with the text the call page shows for them.
var eventCases = []struct {
	e             Event
	input, action string
}{
	{Event{Kind: EventEnter, Menu: "main"}, "", "enter"},
	{Event{Kind: EventOption, Menu: "main", Heard: HeardKeys, Entry: "2", Key: "2"}, "2", "option 2"},
	{Event{Kind: EventOption, Heard: HeardSpeech, Entry: "billing please", Key: "1"}, "speech: billing please", "option 1"},
	{Event{Kind: EventInvalid, Heard: HeardBadKeys}, "unreadable keys", "invalid"},
	{Event{Kind: EventCollected, Heard: HeardDigits, Digits: 6, More: &EventMore{Var: "account"}}, "6 digits", "collected account"},
	{Event{Kind: EventCollected, Heard: HeardSpokenDigits, Digits: 4, More: &EventMore{Var: "pin"}}, "speech: 4 digits", "collected pin"},
	{Event{Kind: EventInvalid, Heard: HeardSpeechIgnored}, "speech", "invalid"},
	{Event{Kind: EventInvalid, Heard: HeardSpeechNoDigits}, "speech (no digits)", "invalid"},
	{Event{Kind: EventInvalid, Heard: HeardUnsureSpeech, Confidence: 0.2}, "speech (confidence 0.20)", "invalid"},
	{Event{Kind: EventTimeout, Heard: HeardSilence}, "timeout", "timeout"},
	{Event{Kind: EventMaxTimeouts}, "", "max_timeouts"},
	{Event{Kind: EventMaxFailures}, "", "max_failures"},
	{Event{Kind: EventRepeat}, "", "repeat"},
	{Event{Kind: EventSay}, "", "say"},
	{Event{Kind: EventPlay}, "", "play"},
	{Event{Kind: EventPause}, "", "pause"},
	{Event{Kind: EventSetLanguage, Target: "es-ES"}, "", "set_language es-ES"},
	{Event{Kind: EventSet, More: &EventMore{Vars: []string{"a", "b"}}}, "", "set a,b"},
	{Event{Kind: EventFetch, More: &EventMore{Request: "account"}}, "", "fetch account: ok"},
	{Event{Kind: EventFetch, More: &EventMore{Request: "account", Reason: "secret X is not set (IVR_SECRET_X)", Error: FailRefused}}, "", "fetch account: failed (secret X is not set (IVR_SECRET_X)), on_error"},
	{Event{Kind: EventFetch, More: &EventMore{Request: "account", Outcome: "ok", Status: 200, Duration: 35 * time.Millisecond}}, "", "fetch account: ok, HTTP 200, 35ms"},
	{Event{Kind: EventFetch, More: &EventMore{Request: "account", Outcome: "timeout", Duration: 3 * time.Second, Reason: "lookup failed", Error: FailTimeout}}, "", "fetch account: timeout, 3000ms, on_error"},
	{Event{Kind: EventFetch, More: &EventMore{Request: "a", Outcome: "ok", Status: 200, Duration: 7 * time.Millisecond, Reason: "no x in the answer"}}, "", "fetch a: failed (no x in the answer), HTTP 200, 7ms, on_error"},
	{Event{Kind: EventSwitch, More: &EventMore{Branch: 2, Cond: `plan == "gold"`}}, "", `switch: 2 plan == "gold"`},
	{Event{Kind: EventSwitchElse}, "", "switch: else"},
	{Event{Kind: EventSwitchFailed, More: &EventMore{Branch: 1}}, "", "switch: condition 1 failed, counted false"},
	{Event{Kind: EventSwitchNone}, "", "switch: no branch"},
	{Event{Kind: EventGoto, Target: "billing"}, "", "goto billing"},
	{Event{Kind: EventRedirect, Target: "billing"}, "", "redirect billing"},
	{Event{Kind: EventBack, Target: "main"}, "", "back main"},
	{Event{Kind: EventTop}, "", "top"},
	{Event{Kind: EventTransfer, More: &EventMore{Numbers: []string{"+15005550006", "+15005550007"}, Context: []ContextValue{{Name: "account", Value: "42"}, {Name: "plan", Value: "gold"}}}}, "", "transfer +15005550006,+15005550007"},
	{Event{Kind: EventNoAnswer, Heard: HeardDial, Entry: "busy"}, "dial busy", "no_answer"},
	{Event{Kind: EventHangup, Heard: HeardDial, Entry: "completed"}, "dial completed", "hangup"},
	{Event{Kind: EventVoicemail}, "", "voicemail"},
	{Event{Kind: EventVoicemailDone, Heard: HeardRecording, More: &EventMore{URL: "https://api.twilio.com/RE1"}}, "recording https://api.twilio.com/RE1", "voicemail done"},
	{Event{Kind: EventVoicemailDone, Heard: HeardRecording}, "recording", "voicemail done"},
	{Event{Kind: EventHangup}, "", "hangup"},
	{Event{Kind: EventClosed}, "", "closed"},
	{Event{Kind: EventFallback, More: &EventMore{Reason: "flow"}}, "", "fallback flow"},
	{Event{Kind: EventSMS, Key: "HELP", Heard: HeardKeyword, Entry: "HELP"}, "HELP", "sms HELP"},
	{Event{Kind: EventSMS}, "", "sms default"},
	{Event{Kind: EventSMSNoReply, Key: "STOP", Heard: HeardKeyword, Entry: "STOP"}, "STOP", "sms STOP (no reply)"},
	{Event{Kind: EventRepeatKey, Heard: HeardKeys, Entry: "*"}, "*", "repeat_key"},
	{Event{Kind: EventConfirm}, "", "confirm"},
	{Event{Kind: EventConfirmed, Heard: HeardSpeech, Entry: "yes"}, "speech: yes", "confirmed"},
	{Event{Kind: EventConfirmRejected, Heard: HeardKeys, Entry: "2"}, "2", "confirm rejected"},
	{Event{Kind: EventCallbackRequested, More: &EventMore{Numbers: []string{"+15551234567"}, Context: []ContextValue{{Name: "account", Value: "42"}}}}, "", "callback requested"},
	{Event{Kind: EventNextNumber, Heard: HeardDial, Entry: "no-answer", More: &EventMore{Numbers: []string{"+15005550007"}}}, "dial no-answer", "next number"},
	{Event{Kind: EventWhisper}, "", "whisper"},
	{Event{Kind: EventWhisperAccepted, Heard: HeardAgent, Entry: "1"}, "agent 1", "whisper accepted"},
	{Event{Kind: EventWhisperDeclined, Heard: HeardAgent}, "agent timeout", "whisper declined"},
	{Event{Kind: EventCallbackConfirm}, "", "callback confirm"},
	{Event{Kind: EventCallbackEnter}, "", "callback enter"},
	{Event{Kind: EventCallbackConfirmed, Heard: HeardKeys, Entry: "1"}, "1", "callback confirmed"},
	{Event{Kind: EventCallbackAnother, Heard: HeardKeys, Entry: "2"}, "2", "callback another number"},
	{Event{Kind: EventCallbackEntered, Heard: HeardDigits, Digits: 11}, "11 digits", "callback number entered"},
	{Event{Kind: EventCallbackNotTaken, Heard: HeardSilence}, "timeout", "callback not taken"},
	{Event{Kind: EventVariant, More: &EventMore{Label: "B"}}, "", "variant B"},
	{Event{Kind: EventClosure, More: &EventMore{Reason: "storm"}}, "", "closure storm"},
	{Event{Kind: EventStepLimit, More: &EventMore{Reason: "200 steps"}}, "", "step_limit"},
	{Event{Kind: EventVoicemailTranscribed, More: &EventMore{Text: "call me back"}}, "", "voicemail transcribed"},
	{Event{Kind: EventText, Heard: HeardText, Entry: "odd input", More: &EventMore{Text: "menu billing"}}, "odd input", "menu billing"},
}

func TestEventText(t *testing.T) {
	seen := map[EventKind]bool{}
	for _, tc := range eventCases {
		seen[tc.e.Kind] = true
		if in, a := tc.e.Input(), tc.e.Action(); in != tc.input || a != tc.action {
			t.Errorf("%s: input %q action %q, want %q %q", tc.e.Kind, in, a, tc.input, tc.action)
		}
	}
	for k := range eventKinds {
		if !seen[k] {
			t.Errorf("kind %s has no case", k)
		}
		if got, ok := ParseEventKind(k.String()); !ok || got != k {
			t.Errorf("ParseEventKind(%q) = %v, %v", k.String(), got, ok)
		}
	}
	if EventKind(200).String() != "kind(200)" {
		t.Errorf("unknown kind = %q", EventKind(200).String())
	}
}

func TestEventsRoundTrip(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 11, 0, 0, 123456000, time.UTC) // kept to the microsecond
	var evs []Event
	for i, tc := range eventCases {
		e := tc.e
		e.At = t0.Add(time.Duration(i/3) * time.Millisecond)
		e.Menu = "main"
		evs = append(evs, e)
	}
	evs = append(evs, Event{Kind: EventEnter}) // no time
	b := EncodeEvents(evs)
	got, err := DecodeEvents(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, evs) {
		for i := range evs {
			if !reflect.DeepEqual(got[i], evs[i]) {
				t.Errorf("event %d:\n got %#v\nwant %#v", i, got[i], evs[i])
			}
		}
	}
	// The same events give the same bytes.
	if again := AppendEvents(nil, got); !bytes.Equal(again, b) {
		t.Error("re-encoding the decoded events gives other bytes")
	}
	// A long event takes a longer length prefix.
	long := []Event{{Kind: EventText, More: &EventMore{Text: string(bytes.Repeat([]byte("x"), 300))}}, {Kind: EventHangup}}
	if got, err := DecodeEvents(EncodeEvents(long)); err != nil || !reflect.DeepEqual(got, long) {
		t.Errorf("long event: %v %#v", err, got)
	}
	if got, err := DecodeEvents(EncodeEvents(nil)); err != nil || len(got) != 0 {
		t.Errorf("no events: %v %v", err, got)
	}
}

// A reader skips fields it does not know (a newer version's), and refuses
// what is not a list of events.
func TestDecodeEventsForward(t *testing.T) {
	b := EncodeEvents([]Event{{Kind: EventGoto, Target: "billing"}})
	// Append field 60 (bytes "new") and field 61 (varint 5) to the event.
	extra := []byte{60<<1 | 1, 3, 'n', 'e', 'w', 0xf6, 0x01, 10}
	nb := append([]byte{b[0], b[1], b[2] + byte(len(extra))}, b[3:]...)
	nb = append(nb, extra...)
	got, err := DecodeEvents(nb)
	if err != nil || len(got) != 1 || got[0].Action() != "goto billing" {
		t.Fatalf("with unknown fields: %v %#v", err, got)
	}
	for name, bad := range map[string][]byte{
		"empty":       nil,
		"version":     {2, 0},
		"no count":    {1},
		"count":       {1, 5, 0},
		"cut":         {1, 1, 9, 2},
		"after":       {1, 0, 7},
		"bad string":  {1, 1, 2, tagMenu<<1 | 1, 9},
		"bad varint":  {1, 1, 2, tagKind << 1, 0x80},
		"bad context": {1, 1, 3, tagContext<<1 | 1, 1, 9},
	} {
		if _, err := DecodeEvents(bad); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func FuzzDecodeEvents(f *testing.F) {
	f.Add(EncodeEvents(nil))
	var all []Event
	for _, tc := range eventCases {
		all = append(all, tc.e)
	}
	f.Add(EncodeEvents(all))
	f.Add(EncodeEvents([]Event{{At: time.Unix(1e9, 0), Kind: EventOption, Menu: "main", Heard: HeardKeys, Entry: "1", Key: "1"}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		evs, err := DecodeEvents(b)
		if err != nil {
			return
		}
		for i := range evs {
			_, _ = evs[i].Input(), evs[i].Action()
		}
		again, err := DecodeEvents(EncodeEvents(evs))
		if err != nil || len(again) != len(evs) {
			t.Fatalf("decoded events do not encode back: %v", err)
		}
		for i := range evs {
			if again[i].Action() != evs[i].Action() || again[i].Input() != evs[i].Input() || !again[i].At.Equal(evs[i].At) {
				t.Fatalf("event %d changed: %#v -> %#v", i, evs[i], again[i])
			}
		}
	})
}

// oneRequest is what a typical answer records: an option chosen, a goto
// and the next menu entered.
func oneRequest() []Event {
	at := time.Date(2026, 12, 5, 11, 0, 0, 0, time.UTC)
	return []Event{
		{At: at, Kind: EventOption, Menu: "main", Heard: HeardKeys, Entry: "2", Key: "2"},
		{At: at, Kind: EventGoto, Menu: "main", Target: "support"},
		{At: at, Kind: EventEnter, Menu: "support"},
	}
}

func TestEncodedSize(t *testing.T) {
	b := EncodeEvents(oneRequest())
	if len(b) > 64 {
		t.Errorf("a typical request takes %d bytes, want at most 64", len(b))
	}
	t.Logf("a typical request's events: %d bytes", len(b))
}

func BenchmarkAppendEvents(b *testing.B) {
	evs := oneRequest()
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendEvents(buf[:0], evs)
	}
	b.ReportMetric(float64(len(buf)), "bytes/request")
}

func BenchmarkDecodeEvents(b *testing.B) {
	blob := EncodeEvents(oneRequest())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeEvents(blob); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEventText(b *testing.B) {
	evs := oneRequest()
	b.ReportAllocs()
	for b.Loop() {
		for i := range evs {
			_, _ = evs[i].Input(), evs[i].Action()
		}
	}
}
