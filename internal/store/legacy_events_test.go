package store

import (
	"reflect"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/ivr"
)

// Rows written before events were typed read back as typed events that
// render exactly their stored text.
func TestLegacyEvent(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		input, action string
		want          ivr.Event // Menu and At are added
	}{
		{"", "enter", ivr.Event{Kind: ivr.EventEnter}},
		{"2", "option 2", ivr.Event{Kind: ivr.EventOption, Key: "2", Heard: ivr.HeardKeys, Entry: "2"}},
		{"speech: billing", "option 1", ivr.Event{Kind: ivr.EventOption, Key: "1", Heard: ivr.HeardSpeech, Entry: "billing"}},
		{"speech: 4 digits", "collected pin", ivr.Event{Kind: ivr.EventCollected, Heard: ivr.HeardSpokenDigits, Digits: 4, More: &ivr.EventMore{Var: "pin"}}},
		{"6 digits", "collected account", ivr.Event{Kind: ivr.EventCollected, Heard: ivr.HeardDigits, Digits: 6, More: &ivr.EventMore{Var: "account"}}},
		{"unreadable keys", "invalid", ivr.Event{Kind: ivr.EventInvalid, Heard: ivr.HeardBadKeys}},
		{"speech", "invalid", ivr.Event{Kind: ivr.EventInvalid, Heard: ivr.HeardSpeechIgnored}},
		{"speech (no digits)", "invalid", ivr.Event{Kind: ivr.EventInvalid, Heard: ivr.HeardSpeechNoDigits}},
		{"speech (confidence 0.25)", "invalid", ivr.Event{Kind: ivr.EventInvalid, Heard: ivr.HeardUnsureSpeech, Confidence: 0.25}},
		{"timeout", "timeout", ivr.Event{Kind: ivr.EventTimeout, Heard: ivr.HeardSilence}},
		{"", "max_timeouts", ivr.Event{Kind: ivr.EventMaxTimeouts}},
		{"", "max_failures", ivr.Event{Kind: ivr.EventMaxFailures}},
		{"", "repeat", ivr.Event{Kind: ivr.EventRepeat}},
		{"", "say", ivr.Event{Kind: ivr.EventSay}},
		{"", "set_language es-ES", ivr.Event{Kind: ivr.EventSetLanguage, Target: "es-ES"}},
		{"", "set a,b", ivr.Event{Kind: ivr.EventSet, More: &ivr.EventMore{Vars: []string{"a", "b"}}}},
		{"", "goto billing", ivr.Event{Kind: ivr.EventGoto, Target: "billing"}},
		{"", "redirect billing", ivr.Event{Kind: ivr.EventRedirect, Target: "billing"}},
		{"", "back main", ivr.Event{Kind: ivr.EventBack, Target: "main"}},
		{"", "top", ivr.Event{Kind: ivr.EventTop}},
		{"", "transfer +15005550006,+15005550007", ivr.Event{Kind: ivr.EventTransfer, More: &ivr.EventMore{Numbers: []string{"+15005550006", "+15005550007"}}}},
		{"dial no-answer", "no_answer", ivr.Event{Kind: ivr.EventNoAnswer, Heard: ivr.HeardDial, Entry: "no-answer"}},
		{"dial completed", "hangup", ivr.Event{Kind: ivr.EventHangup, Heard: ivr.HeardDial, Entry: "completed"}},
		{"", "voicemail", ivr.Event{Kind: ivr.EventVoicemail}},
		{"recording https://api.twilio.com/RE1", "voicemail done", ivr.Event{Kind: ivr.EventVoicemailDone, Heard: ivr.HeardRecording, More: &ivr.EventMore{URL: "https://api.twilio.com/RE1"}}},
		{"recording", "voicemail done", ivr.Event{Kind: ivr.EventVoicemailDone, Heard: ivr.HeardRecording}},
		{"", "closed", ivr.Event{Kind: ivr.EventClosed}},
		{"", "fallback flow", ivr.Event{Kind: ivr.EventFallback, More: &ivr.EventMore{Reason: "flow"}}},
		{"", "fallback", ivr.Event{Kind: ivr.EventFallback}},
		{"", "switch: else", ivr.Event{Kind: ivr.EventSwitchElse}},
		{"", "switch: no branch", ivr.Event{Kind: ivr.EventSwitchNone}},
		{"", `switch: 2 plan == "gold"`, ivr.Event{Kind: ivr.EventSwitch, More: &ivr.EventMore{Branch: 2, Cond: `plan == "gold"`}}},
		{"", "switch: condition 3 failed, counted false", ivr.Event{Kind: ivr.EventSwitchFailed, More: &ivr.EventMore{Branch: 3}}},
		{"*", "repeat_key", ivr.Event{Kind: ivr.EventRepeatKey, Heard: ivr.HeardKeys, Entry: "*"}},
		{"", "confirm", ivr.Event{Kind: ivr.EventConfirm}},
		{"speech: yes", "confirmed", ivr.Event{Kind: ivr.EventConfirmed, Heard: ivr.HeardSpeech, Entry: "yes"}},
		{"2", "confirm rejected", ivr.Event{Kind: ivr.EventConfirmRejected, Heard: ivr.HeardKeys, Entry: "2"}},
		{"agent 1", "whisper accepted", ivr.Event{Kind: ivr.EventWhisperAccepted, Heard: ivr.HeardAgent, Entry: "1"}},
		{"agent timeout", "whisper declined", ivr.Event{Kind: ivr.EventWhisperDeclined, Heard: ivr.HeardAgent}},
		{"dial busy", "next number", ivr.Event{Kind: ivr.EventNextNumber, Heard: ivr.HeardDial, Entry: "busy"}},
		{"11 digits", "callback number entered", ivr.Event{Kind: ivr.EventCallbackEntered, Heard: ivr.HeardDigits, Digits: 11}},
		{"", "callback requested", ivr.Event{Kind: ivr.EventCallbackRequested}},
		{"", "closure voicemail", ivr.Event{Kind: ivr.EventClosure, More: &ivr.EventMore{Reason: "voicemail"}}},
		{"", "variant B", ivr.Event{Kind: ivr.EventVariant, More: &ivr.EventMore{Label: "B"}}},
		{"", "fetch account: ok", ivr.Event{Kind: ivr.EventFetch, More: &ivr.EventMore{Request: "account"}}},
		{"", "fetch account: failed (secret CRM is not set (IVR_SECRET_CRM)), on_error", ivr.Event{Kind: ivr.EventFetch, More: &ivr.EventMore{Request: "account", Reason: "secret CRM is not set (IVR_SECRET_CRM)"}}},
		{"", "fetch account: ok, HTTP 200, 35ms", ivr.Event{Kind: ivr.EventFetch, More: &ivr.EventMore{Request: "account", Outcome: "ok", Status: 200, Duration: 35 * ms}}},
		{"", "fetch account: timeout, 3000ms, on_error", ivr.Event{Kind: ivr.EventFetch, More: &ivr.EventMore{Request: "account", Outcome: "timeout", Duration: 3000 * ms, Reason: "lookup failed"}}},
		{"", "fetch account: status, HTTP 500, 12ms", ivr.Event{Kind: ivr.EventFetch, More: &ivr.EventMore{Request: "account", Outcome: "status", Status: 500, Duration: 12 * ms}}},
		{"", "fetch a: failed (no x, y in the answer), HTTP 200, 7ms, on_error", ivr.Event{Kind: ivr.EventFetch, More: &ivr.EventMore{Request: "a", Outcome: "ok", Status: 200, Duration: 7 * ms, Reason: "no x, y in the answer"}}},
		// Text it cannot read is kept as it is.
		{"", "menu billing", ivr.Event{Kind: ivr.EventText, More: &ivr.EventMore{Text: "menu billing"}}},
		{"odd", "answer", ivr.Event{Kind: ivr.EventText, Heard: ivr.HeardText, Entry: "odd", More: &ivr.EventMore{Text: "answer"}}},
		{"", "transfer", ivr.Event{Kind: ivr.EventText, More: &ivr.EventMore{Text: "transfer"}}},
		{"", "fetch x", ivr.Event{Kind: ivr.EventText, More: &ivr.EventMore{Text: "fetch x"}}},
		{"", "fetch x: what, 3s", ivr.Event{Kind: ivr.EventText, More: &ivr.EventMore{Text: "fetch x: what, 3s"}}},
		{"", "switch: x y", ivr.Event{Kind: ivr.EventText, More: &ivr.EventMore{Text: "switch: x y"}}},
		{"speech: 007 digits", "invalid", ivr.Event{Kind: ivr.EventInvalid, Heard: ivr.HeardText, Entry: "speech: 007 digits"}},
		{"\uFFFD", "ünïcødé ☎", ivr.Event{Kind: ivr.EventText, Heard: ivr.HeardText, Entry: "\uFFFD", More: &ivr.EventMore{Text: "ünïcødé ☎"}}},
	}
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	for _, tc := range tests {
		got := legacyEvent(at, "main", tc.input, tc.action)
		want := tc.want
		want.At, want.Menu = at, "main"
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q %q:\n got %#v\nwant %#v", tc.input, tc.action, got, want)
		}
		if got.Input() != tc.input || got.Action() != tc.action {
			t.Errorf("%q %q renders %q %q", tc.input, tc.action, got.Input(), got.Action())
		}
	}
}

// Whatever text a row holds, its event renders it back unchanged.
func FuzzLegacyEvent(f *testing.F) {
	for _, s := range []string{"enter", "option 1", "fetch a: ok, HTTP 200, 5ms, on_error", "fetch a: failed (x), on_error", "switch: 1 a", "speech: 3 digits", "dial busy", "recording x"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, input, action string) {
		e := legacyEvent(time.Time{}, "m", input, action)
		if e.Input() != input || e.Action() != action {
			t.Fatalf("%q %q renders %q %q", input, action, e.Input(), e.Action())
		}
	})
}
