package simulate

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/ivr-project/ivr/internal/xml"
)

type simCase struct {
	name     string
	args     []string // after --url
	path     string   // answer path on the fake server
	stdin    string
	wantErr  string // substring of the error; "" = success
	requests []string
	out      []string // substrings of the transcript
}

func runSim(t *testing.T, srv *fakeServer, tc simCase) (string, error) {
	t.Helper()
	args := append([]string{"--url", srv.URL + tc.path}, tc.args...)
	var stdout, stderr bytes.Buffer
	err := Simulate(context.Background(), args, testEnv(), strings.NewReader(tc.stdin), &stdout, &stderr)
	return stdout.String(), err
}

func checkSim(t *testing.T, srv *fakeServer, tc simCase) {
	t.Helper()
	out, err := runSim(t, srv, tc)
	switch {
	case tc.wantErr == "" && err != nil:
		t.Fatalf("Simulate: %v\ntranscript:\n%s", err, out)
	case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
		t.Fatalf("Simulate error = %v, want it to contain %q\ntranscript:\n%s", err, tc.wantErr, out)
	}
	if len(srv.failures) > 0 {
		t.Errorf("signature failures: %q", srv.failures)
	}
	if tc.requests != nil {
		got := srv.lines()
		if strings.Join(got, "\n") != strings.Join(tc.requests, "\n") {
			t.Errorf("requests:\n  %s\nwant:\n  %s\ntranscript:\n%s", strings.Join(got, "\n  "), strings.Join(tc.requests, "\n  "), out)
		}
	}
	for _, s := range tc.out {
		if !strings.Contains(out, s) {
			t.Errorf("transcript lacks %q:\n%s", s, out)
		}
	}
}

func TestSimulateTwilio(t *testing.T) {
	cases := []simCase{{
		name: "billing agent: two gathers, relative actions, dial without action",
		path: "/twilio/voice",
		args: []string{"--digits", "1,1", "--expect", "transfer:+15005550007", "--expect-say", "press 1 for an agent"},
		requests: []string{
			"POST /twilio/voice",
			"POST /twilio/voice/menu/main Digits=1",
			"POST /twilio/voice/menu/billing Digits=1",
			"POST /twilio/status CallStatus=completed",
		},
		out: []string{
			"  Welcome to Acme.\n",
			"  caller presses 1\n",
			"  [transfer to +15005550007, +15005550008]\n",
			"call ended: transfer to +15005550007, +15005550008 after 3 requests\n",
			"expect transfer:+15005550007: ok\n",
			`expect say "press 1 for an agent": ok`,
		},
	}, {
		name: "billing agent unanswered: dial without action continues with the next verb",
		path: "/twilio/voice",
		args: []string{"--digits", "1,1", "--dial-status", "no-answer", "--expect", "hangup"},
		requests: []string{
			"POST /twilio/voice",
			"POST /twilio/voice/menu/main Digits=1",
			"POST /twilio/voice/menu/billing Digits=1",
			"POST /twilio/status CallStatus=completed",
		},
		out: []string{"  [dial no-answer]\n  Nobody is available.\n  [hangup]\n"},
	}, {
		name: "sales: dial action with completed status",
		path: "/twilio/voice",
		args: []string{"--digits", "2", "--expect", "transfer"},
		requests: []string{
			"POST /twilio/voice",
			"POST /twilio/voice/menu/main Digits=2",
			"POST /twilio/voice/action/dial-done?menu=sales DialCallStatus=completed",
			"POST /twilio/status CallStatus=completed",
		},
		out: []string{"  Thanks for calling.\n", "  [hangup]\n"},
	}, {
		name: "sales busy: dial action, record, voicemail action",
		path: "/twilio/voice",
		args: []string{"--digits", "2", "--dial-status", "busy", "--expect", "voicemail"},
		requests: []string{
			"POST /twilio/voice",
			"POST /twilio/voice/menu/main Digits=2",
			"POST /twilio/voice/action/dial-done?menu=sales DialCallStatus=busy",
			"POST /twilio/voice/action/voicemail-done Digits=# RecordingUrl",
			"POST /twilio/status CallStatus=completed",
		},
		out: []string{"  [dial busy]\n", "  [records voicemail]\n", "call ended: voicemail"},
	}, {
		name: "voicemail with a transcript: the transcription callback, then the record's action",
		path: "/twilio/voice",
		args: []string{"--digits", "4", "--expect", "voicemail"},
		requests: []string{
			"POST /twilio/voice",
			"POST /twilio/voice/menu/main Digits=4",
			"POST /twilio/voice/action/transcription?menu=main TranscriptionText=" + SimulatedTranscript,
			"POST /twilio/voice/action/voicemail-done Digits=# RecordingUrl",
			"POST /twilio/status CallStatus=completed",
		},
		out: []string{"  [the provider sends its transcript]\n"},
	}, {
		name: "silence twice: redirects after gathers, then goodbye",
		path: "/twilio/voice",
		args: []string{"--digits", "timeout,", "--expect", "hangup", "--expect-say", "goodbye"},
		requests: []string{
			"POST /twilio/voice",
			"POST /twilio/voice/menu/main?attempt=1",
			"POST /twilio/voice/menu/main?attempt=2",
			"POST /twilio/status CallStatus=completed",
		},
		out: []string{"  (caller stays silent)\n", "  Sorry, I did not get that.\n", "  Goodbye.\n"},
	}, {
		name: "back with # (finishOnKey off), GET redirect, then voicemail",
		path: "/twilio/voice",
		args: []string{"--digits", "1,#,3", "--expect", "voicemail"},
		requests: []string{
			"POST /twilio/voice",
			"POST /twilio/voice/menu/main Digits=1",
			"POST /twilio/voice/menu/billing Digits=#",
			"GET /twilio/voice/menu/main",
			"POST /twilio/voice/menu/main Digits=3",
			"POST /twilio/voice/action/voicemail-done Digits=# RecordingUrl",
			"POST /twilio/status CallStatus=completed",
		},
	}, {
		name: "# ends the gather before any key: no input, next verb",
		path: "/twilio/voice",
		args: []string{"--digits", "#,timeout", "--expect", "hangup"},
		requests: []string{
			"POST /twilio/voice",
			"POST /twilio/voice/menu/main?attempt=1",
			"POST /twilio/voice/menu/main?attempt=2",
			"POST /twilio/status CallStatus=completed",
		},
	}, {
		name: "more keys than numDigits: only numDigits are sent",
		path: "/twilio/voice",
		args: []string{"--digits", "12"},
		requests: []string{
			"POST /twilio/voice",
			"POST /twilio/voice/menu/main Digits=1",
			"POST /twilio/status CallStatus=completed",
		},
	}, {
		name:     "script runs out: the caller hangs up",
		path:     "/twilio/voice",
		args:     []string{"--digits", "1"},
		requests: []string{"POST /twilio/voice", "POST /twilio/voice/menu/main Digits=1", "POST /twilio/status CallStatus=completed"},
		out:      []string{"  [caller hangs up: no more scripted input]\n", "call ended: caller-hangup after 2 requests\n"},
	}, {
		name:     "speech gather",
		path:     "/twilio/voice/speech",
		args:     []string{"--speech", "billing please", "--expect-say", "you said billing please"},
		requests: []string{"POST /twilio/voice/speech", "POST /twilio/voice/speech-done SpeechResult=billing please", "POST /twilio/status CallStatus=completed"},
		out:      []string{`  caller says "billing please"`},
	}, {
		name:  "interactive: keys from stdin, bad line asked again",
		path:  "/twilio/voice",
		stdin: "1\nhello\n1\n",
		args:  []string{"--expect", "transfer:+15005550008"},
		requests: []string{
			"POST /twilio/voice",
			"POST /twilio/voice/menu/main Digits=1",
			"POST /twilio/voice/menu/billing Digits=1",
			"POST /twilio/status CallStatus=completed",
		},
	}, {
		name:     "interactive: end of input hangs up",
		path:     "/twilio/voice",
		args:     []string{"--expect", "caller-hangup"},
		requests: []string{"POST /twilio/voice", "POST /twilio/status CallStatus=completed"},
		out:      []string{"  [caller hangs up: end of input]\n"},
	}, {
		name:     "GET answer: parameters in the query, signed",
		path:     "/twilio/voice",
		args:     []string{"--method", "GET", "--digits", "1,1"},
		requests: []string{"GET /twilio/voice", "POST /twilio/voice/menu/main Digits=1", "POST /twilio/voice/menu/billing Digits=1", "POST /twilio/status CallStatus=completed"},
	}, {
		name: "tolerant XML: SSML text, plays, keys, pause, unknown verb, end of document",
		path: "/twilio/voice/odd",
		args: []string{"--expect", "hangup"},
		out: []string{
			"  Hello brave world\n",
			"  [plays https://example.com/a.mp3]\n",
			"  [sends keys ww12]\n",
			"  [pause 2s]\n",
			"  [unknown <Enqueue>]\n",
			"  [end of document: hangup]\n",
		},
	}, {
		name:    "step bound",
		path:    "/twilio/voice/loop",
		wantErr: "call did not end after 50 steps",
		out:     []string{"[pause 1s]"},
	}, {
		name:    "step bound from the flag",
		path:    "/twilio/voice/loop",
		args:    []string{"--max-steps", "3"},
		wantErr: "call did not end after 3 steps",
		requests: []string{
			"POST /twilio/voice/loop", "POST /twilio/voice/loop", "POST /twilio/voice/loop",
			"POST /twilio/status CallStatus=completed",
		},
	}, {
		name:     "malformed XML",
		path:     "/twilio/voice/broken",
		wantErr:  "answer is not valid TwiML: malformed XML",
		requests: []string{"POST /twilio/voice/broken", "POST /twilio/status CallStatus=completed"},
	}, {
		name:    "server error",
		path:    "/twilio/voice/error",
		wantErr: "HTTP 500",
	}, {
		name:    "expectations fail",
		path:    "/twilio/voice",
		args:    []string{"--digits", "1,1", "--expect", "voicemail", "--expect-say", "no such words"},
		wantErr: `expected voicemail, call ended with transfer to +15005550007, +15005550008; expected say "no such words", not heard`,
		out:     []string{"expect voicemail: FAILED (call ended with transfer to +15005550007, +15005550008)\n"},
	}, {
		name:    "expected number not dialed",
		path:    "/twilio/voice",
		args:    []string{"--digits", "1,1", "--expect", "transfer:+19999999999"},
		wantErr: "expected transfer:+19999999999",
	}, {
		name:     "no status callback",
		path:     "/twilio/voice",
		args:     []string{"--digits", "1,1", "--status-url", "none"},
		requests: []string{"POST /twilio/voice", "POST /twilio/voice/menu/main Digits=1", "POST /twilio/voice/menu/billing Digits=1"},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkSim(t, newFakeServer(t), tc)
		})
	}
}

func TestSimulatePlivo(t *testing.T) {
	cases := []simCase{{
		name: "billing by keys: GetDigits, GetInput with GET action, dial without action",
		path: "/plivo/voice",
		args: []string{"--provider", "plivo", "--digits", "1,1", "--expect", "transfer:+15005550007"},
		requests: []string{
			"POST /plivo/voice",
			"POST /plivo/voice/menu/main Digits=1",
			"GET /plivo/voice/menu/billing Digits=1 InputType=dtmf",
			"POST /plivo/hangup CallStatus=completed HangupCause=NORMAL_CLEARING",
		},
		out: []string{"  Welcome. Press 1 for billing, 2 for sales.\n", "  [transfer to 15005550007]\n"},
	}, {
		name: "billing by speech: keys script ran out, speech script answers GetInput",
		path: "/plivo/voice",
		args: []string{"--provider", "plivo", "--digits", "1", "--speech", "agent", "--expect", "transfer"},
		requests: []string{
			"POST /plivo/voice",
			"POST /plivo/voice/menu/main Digits=1",
			"GET /plivo/voice/menu/billing InputType=speech Speech=agent",
			"POST /plivo/hangup CallStatus=completed HangupCause=NORMAL_CLEARING",
		},
	}, {
		name: "sales busy: DialStatus to the action, then voicemail",
		path: "/plivo/voice",
		args: []string{"--provider", "plivo", "--digits", "2", "--dial-status", "busy", "--expect", "voicemail"},
		requests: []string{
			"POST /plivo/voice",
			"POST /plivo/voice/menu/main Digits=2",
			"POST /plivo/voice/action/dial-done DialStatus=busy",
			"POST /plivo/voice/action/voicemail-done RecordUrl",
			"POST /plivo/hangup CallStatus=completed HangupCause=NORMAL_CLEARING",
		},
		out: []string{"  [pause 1s]\n", "  Sales is busy. Leave a message.\n"},
	}, {
		name: "voicemail with a transcript (transcriptionUrl)",
		path: "/plivo/voice",
		args: []string{"--provider", "plivo", "--digits", "4", "--expect", "voicemail"},
		requests: []string{
			"POST /plivo/voice",
			"POST /plivo/voice/menu/main Digits=4",
			"POST /plivo/voice/action/transcription?menu=main transcription=" + SimulatedTranscript,
			"POST /plivo/voice/action/voicemail-done RecordUrl",
			"POST /plivo/hangup CallStatus=completed HangupCause=NORMAL_CLEARING",
		},
	}, {
		name: "silence: redirect, goodbye",
		path: "/plivo/voice",
		args: []string{"--provider", "plivo", "--digits", "timeout", "--expect", "hangup", "--expect-say", "Goodbye"},
		requests: []string{
			"POST /plivo/voice",
			"POST /plivo/voice/menu/main?attempt=1",
			"POST /plivo/hangup CallStatus=completed HangupCause=NORMAL_CLEARING",
		},
	}, {
		name: "billing silence: relative ../ record action",
		path: "/plivo/voice",
		args: []string{"--provider", "plivo", "--digits", "1,timeout", "--expect", "voicemail"},
		requests: []string{
			"POST /plivo/voice",
			"POST /plivo/voice/menu/main Digits=1",
			"POST /plivo/voice/menu/billing?attempt=1",
			"POST /plivo/voice/action/voicemail-done RecordUrl",
			"POST /plivo/hangup CallStatus=completed HangupCause=NORMAL_CLEARING",
		},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkSim(t, newFakeServer(t), tc)
		})
	}
}

// TestSimulateCallParams checks the parameters a provider sends with a call.
func TestSimulateCallParams(t *testing.T) {
	t.Run("twilio", func(t *testing.T) {
		srv := newFakeServer(t)
		checkSim(t, srv, simCase{path: "/twilio/voice", args: []string{"--digits", "1,1", "--from", "+15551230000", "--to", "+15559870000"}})
		reqs := srv.all()
		first, second, last := reqs[0].Params, reqs[1].Params, reqs[len(reqs)-1].Params
		for k, re := range map[string]string{
			"AccountSid": `^AC[0-9a-f]{32}$`, "CallSid": `^CA[0-9a-f]{32}$`, "From": `^\+15551230000$`, "To": `^\+15559870000$`,
			"CallStatus": `^ringing$`, "Direction": `^inbound$`, "ApiVersion": `^2010-04-01$`,
		} {
			if !regexp.MustCompile(re).MatchString(first.Get(k)) {
				t.Errorf("answer %s = %q, want %s", k, first.Get(k), re)
			}
		}
		if second.Get("CallStatus") != "in-progress" || second.Get("CallSid") != first.Get("CallSid") || second.Get("FinishedOnKey") != "" {
			t.Errorf("gather request params = %v", second)
		}
		if last.Get("CallStatus") != "completed" || !regexp.MustCompile(`^[0-9]+$`).MatchString(last.Get("CallDuration")) || last.Get("CallSid") != first.Get("CallSid") {
			t.Errorf("status callback params = %v", last)
		}
	})
	t.Run("plivo", func(t *testing.T) {
		srv := newFakeServer(t)
		checkSim(t, srv, simCase{path: "/plivo/voice", args: []string{"--provider", "plivo", "--digits", "1,1"}})
		reqs := srv.all()
		first, last := reqs[0].Params, reqs[len(reqs)-1].Params
		for k, re := range map[string]string{
			"CallUUID": `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, "From": `^14155550100$`, "To": `^14155550199$`,
			"CallStatus": `^ringing$`, "Direction": `^inbound$`, "Event": `^StartApp$`,
		} {
			if !regexp.MustCompile(re).MatchString(first.Get(k)) {
				t.Errorf("answer %s = %q, want %s", k, first.Get(k), re)
			}
		}
		if reqs[2].Method != "GET" || reqs[2].Query.Get("CallUUID") != first.Get("CallUUID") || reqs[2].Query.Get("CallStatus") != "in-progress" {
			t.Errorf("GET action query = %v", reqs[2].Query)
		}
		if last.Get("Duration") == "" || last.Get("HangupCause") != "NORMAL_CLEARING" || last.Get("CallUUID") != first.Get("CallUUID") {
			t.Errorf("hangup callback params = %v", last)
		}
	})
}

func TestSimulateBadSignatureIsReported(t *testing.T) {
	srv := newFakeServer(t)
	var stdout, stderr bytes.Buffer
	err := Simulate(context.Background(), []string{"--url", srv.URL + "/twilio/voice", "--digits", "1"},
		testEnv("TWILIO_AUTH_TOKEN", "wrong"), nil, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("err = %v, want the server's 403", err)
	}
}

func TestSimulateFlags(t *testing.T) {
	cases := []struct {
		args []string
		env  func(string) string
		want string
	}{
		{[]string{"--provider", "skype"}, testEnv(), `unknown provider "skype"`},
		{[]string{"--method", "PUT"}, testEnv(), `--method "PUT"`},
		{[]string{"--dial-status", "maybe"}, testEnv(), `--dial-status "maybe"`},
		{[]string{"--expect", "party"}, testEnv(), `--expect "party"`},
		{[]string{"--expect", "hangup:+1555"}, testEnv(), "only transfer takes numbers"},
		{[]string{"--expect", "transfer:"}, testEnv(), "no number"},
		{[]string{"--digits", "1,x"}, testEnv(), `--digits entry "x"`},
		{[]string{"--max-steps", "0"}, testEnv(), "--max-steps 0"},
		{[]string{"extra"}, testEnv(), `unexpected argument "extra"`},
		{nil, production, "TWILIO_AUTH_TOKEN is not set"},
		{[]string{"--provider", "plivo"}, production, "PLIVO_AUTH_TOKEN is not set"},
	}
	for _, tc := range cases {
		var stdout, stderr bytes.Buffer
		err := Simulate(context.Background(), tc.args, tc.env, nil, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Simulate(%q) = %v, want error with %q", tc.args, err, tc.want)
		}
	}
}

func TestDefaults(t *testing.T) {
	cases := []struct {
		env  []string
		want string
	}{
		{nil, "http://localhost:8080/twilio/voice"},
		{[]string{"IVR_ADDR", ":9090"}, "http://localhost:9090/twilio/voice"},
		{[]string{"IVR_ADDR", "127.0.0.1:7000"}, "http://127.0.0.1:7000/twilio/voice"},
		{[]string{"IVR_PUBLIC_URL", "https://abc.ngrok.app/", "IVR_ADDR", ":9090"}, "https://abc.ngrok.app/twilio/voice"},
	}
	for _, tc := range cases {
		if got := voiceURL(testEnv(tc.env...), "twilio"); got != tc.want {
			t.Errorf("voiceURL(%q) = %q, want %q", tc.env, got, tc.want)
		}
	}
	for _, tc := range []struct{ answer, provider, path, want string }{
		{"https://x.app/twilio/voice", "twilio", "/twilio/status", "https://x.app/twilio/status"},
		{"https://x.app/ivr/plivo/voice/?a=1", "plivo", "/plivo/hangup", "https://x.app/ivr/plivo/hangup"},
		{"http://localhost:8080/twilio/voice/menu/main", "twilio", "/twilio/status", "http://localhost:8080/twilio/status"},
	} {
		if got := callbackURL(tc.answer, tc.provider, tc.path); got != tc.want {
			t.Errorf("callbackURL(%q) = %q, want %q", tc.answer, got, tc.want)
		}
	}
}

func TestSecretFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := secret(testEnv("X_FILE", path), "X")
	if err != nil || got != "from-file" {
		t.Errorf("secret from file = %q, %v", got, err)
	}
	// Both set is refused, as the server's configuration refuses it.
	if _, err = secret(testEnv("X", "direct", "X_FILE", path), "X"); err == nil || !strings.Contains(err.Error(), "not both") {
		t.Errorf("secret with both: err = %v; want the server's refusal", err)
	}
	if _, err := secret(testEnv("X_FILE", filepath.Join(t.TempDir(), "missing")), "X"); err == nil || !strings.Contains(err.Error(), "X_FILE") {
		t.Errorf("missing file: err = %v", err)
	}
}

func TestResolve(t *testing.T) {
	for _, tc := range []struct{ doc, ref, want string }{
		{"https://h/twilio/voice", "voice/menu/main", "https://h/twilio/voice/menu/main"},
		{"https://h/twilio/voice/", "menu/main", "https://h/twilio/voice/menu/main"},
		{"https://h/twilio/voice/menu/main?attempt=1", "billing?attempt=2", "https://h/twilio/voice/menu/billing?attempt=2"},
		{"https://h/twilio/voice/menu/main", "../action/x", "https://h/twilio/voice/action/x"},
		{"https://h/twilio/voice/menu/main", "/twilio/status", "https://h/twilio/status"},
		{"https://h/twilio/voice/menu/main?attempt=1", "", "https://h/twilio/voice/menu/main?attempt=1"},
		{"https://h/a", "https://other/b", "https://other/b"},
	} {
		got, err := resolve(tc.doc, tc.ref)
		if err != nil || got != tc.want {
			t.Errorf("resolve(%q, %q) = %q, %v; want %q", tc.doc, tc.ref, got, err, tc.want)
		}
	}
	if _, err := resolve("https://h/a", "mailto:x@y"); err == nil {
		t.Error("resolve to mailto: no error")
	}
}

func TestPress(t *testing.T) {
	for _, tc := range []struct {
		finish     string
		num        int
		keys       string
		digits, on string
	}{
		{"#", 0, "1234#", "1234", "#"},
		{"#", 0, "#", "", "#"},
		{"", 0, "#", "#", ""},
		{"#", 1, "12", "1", ""},
		{"#", 3, "12", "12", ""},
		{"*", 0, "12*3", "12", "*"},
	} {
		d, on := xml.Gather{FinishOnKey: tc.finish, NumDigits: tc.num}.Press(tc.keys)
		if d != tc.digits || on != tc.on {
			t.Errorf("press(finish %q, num %d, %q) = %q, %q; want %q, %q", tc.finish, tc.num, tc.keys, d, on, tc.digits, tc.on)
		}
	}
}

func TestSimulateUnreachable(t *testing.T) {
	srv := newFakeServer(t)
	u := srv.URL
	srv.Close()
	var stdout, stderr bytes.Buffer
	err := Simulate(context.Background(), []string{"--url", u + "/twilio/voice"}, testEnv(), nil, &stdout, &stderr)
	if err == nil || strings.Contains(err.Error(), "status callback") || strings.Contains(stdout.String(), "/twilio/status") {
		t.Fatalf("err = %v; no status callback expected when the server never answered\n%s", err, stdout.String())
	}
}

func TestHearCleansControlCharacters(t *testing.T) {
	var out bytes.Buffer
	r := &runner{out: &out}
	r.hear(xml.Say{Text: "a\u009b31mb\x7f", Loop: 1})
	r.hear(xml.Unknown{Name: "X\u0085"})
	if got, want := out.String(), "  a?31mb?\n  [unknown <X?>]\n"; got != want {
		t.Errorf("hear printed %q, want %q", got, want)
	}
}

// promptWriter closes asked at the first write: the simulator is at a gather.
type promptWriter struct {
	once  sync.Once
	asked chan struct{}
}

func (w *promptWriter) Write(p []byte) (int, error) {
	w.once.Do(func() { close(w.asked) })
	return len(p), nil
}

// TestSimulateInterrupt: Ctrl-C at a gather ends the call; the provider
// still reports its end.
func TestSimulateInterrupt(t *testing.T) {
	srv := newFakeServer(t)
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	prompt := &promptWriter{asked: make(chan struct{})}
	var stdout bytes.Buffer
	go func() {
		done <- Simulate(ctx, []string{"--url", srv.URL + "/twilio/voice"}, testEnv(), pr, &stdout, prompt)
	}()
	<-prompt.asked
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if got := srv.lines(); len(got) != 2 || got[1] != "POST /twilio/status CallStatus=completed" {
		t.Errorf("requests = %q", got)
	}
}

// TestSimulateSpeechConfidence: a scripted "words@0.2" sends the
// recognizer's confidence the provider would (Twilio Confidence, Plivo
// SpeechConfidenceScore); plain speech sends the default.
func TestSimulateSpeechConfidence(t *testing.T) {
	for _, tc := range []struct {
		provider, path, args, param, want, say string
	}{
		{"twilio", "/twilio/voice/speech", "billing please@0.2", "Confidence", "0.2", `caller says "billing please" (confidence 0.2)`},
		{"twilio", "/twilio/voice/speech", "billing please", "Confidence", "0.92", `caller says "billing please"`},
		{"plivo", "/plivo/voice", "agent@0.35", "SpeechConfidenceScore", "0.35", `caller says "agent" (confidence 0.35)`},
	} {
		t.Run(tc.provider+" "+tc.args, func(t *testing.T) {
			srv := newFakeServer(t)
			args := []string{"--provider", tc.provider, "--speech", tc.args}
			if tc.provider == "plivo" {
				args = append(args, "--digits", "1")
			}
			out, err := runSim(t, srv, simCase{path: tc.path, args: args})
			if err != nil {
				t.Fatalf("Simulate: %v\n%s", err, out)
			}
			if !strings.Contains(out, tc.say) {
				t.Errorf("transcript lacks %q:\n%s", tc.say, out)
			}
			found := false
			for _, s := range srv.all() {
				if v := s.Params.Get(tc.param); v != "" {
					found = true
					if v != tc.want {
						t.Errorf("%s %s=%q, want %q", s.Path, tc.param, v, tc.want)
					}
				}
			}
			if !found {
				t.Errorf("no request carried %s", tc.param)
			}
		})
	}
}
