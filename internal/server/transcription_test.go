package server

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/ivr"
	"github.com/ivr-project/ivr/internal/store"
	"github.com/ivr-project/ivr/internal/testutil"
	"github.com/ivr-project/ivr/internal/webhook"
)

// TestTranscription: on both providers, a voicemail's signed transcription
// callback puts its text on the voicemail in the API and the inbox (and
// its search), and its voicemail.transcribed event reaches the webhook
// receiver, signed; an unsigned (or forged) callback stores nothing.
func TestTranscription(t *testing.T) {
	e := newAdminEnv(t, "", map[string]string{"IVR_PUBLIC_URL": testPublic})
	e.db.EnableOutbox()
	cases := []struct {
		provider, callID string
		callIDKey        string
		transcript       url.Values
		text             string
	}{
		{"twilio", "CAvm0000000000000000000000000000a1", "CallSid",
			url.Values{"TranscriptionText": {"Hi, this is Dana, the roof is leaking again."}, "TranscriptionStatus": {"completed"},
				"TranscriptionSid": {"TR1"}, "RecordingSid": {"RE1"}, "RecordingUrl": {"https://api.twilio.com/rec/RE1"}},
			"Hi, this is Dana, the roof is leaking again."},
		{"plivo", "4f0c5b1e-0000-4000-8000-00000000a1b2", "call_uuid",
			url.Values{"transcription": {"Please call back about invoice 42."}, "transcription_charge": {"0.05"}, "transcription_rate": {"0.05"},
				"duration": {"9"}, "recording_id": {"rec-1"}, "error": {""}},
			"Please call back about invoice 42."},
	}
	for _, c := range cases {
		// The call leaves a voicemail that asks for a transcript.
		form := callForm(c.provider)
		form.Set(map[string]string{"twilio": "CallSid", "plivo": "CallUUID"}[c.provider], c.callID)
		form.Set(map[string]string{"twilio": "RecordingUrl", "plivo": "RecordUrl"}[c.provider], "https://media.example.com/"+c.callID+".mp3")
		form.Set("RecordingDuration", "9")
		r := signedRequest(c.provider, adminTryToken, testPublic, http.MethodPost, "/"+c.provider+"/voice/"+ivr.PathVoicemailDone, form)
		if w := e.do2(r); w.Code != 200 {
			t.Fatalf("%s voicemail-done: %d", c.provider, w.Code)
		}
		testutil.Eventually(10*time.Second, func() bool {
			vms, err := e.db.ListVoicemails(context.Background(), store.VoicemailFilter{})
			return err == nil && hasVoicemail(vms, c.callID)
		})
		tform := url.Values{c.callIDKey: {c.callID}}
		for k, v := range c.transcript {
			tform[k] = v
		}
		path := "/" + c.provider + "/voice/" + ivr.PathTranscription + "?menu=main"
		// Unsigned, then forged: refused, nothing stored.
		unsigned := httptest.NewRequest(http.MethodPost, path, strings.NewReader(tform.Encode()))
		unsigned.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		forged := signedRequest(c.provider, "not-the-token", testPublic, http.MethodPost, path, tform)
		for _, r := range []*http.Request{unsigned, forged} {
			w := e.do2(r)
			if w.Code != 200 || strings.Contains(w.Body.String(), "<Response/>") {
				t.Errorf("%s: an unsigned transcript callback got %d %s, want the fallback", c.provider, w.Code, w.Body)
			}
		}
		if vm := e.voicemailAPI(t, "", c.callID); vm.Transcript != "" {
			t.Fatalf("%s: unsigned callback stored %q", c.provider, vm.Transcript)
		}
		// Signed: stored.
		w := e.do2(signedRequest(c.provider, adminTryToken, testPublic, http.MethodPost, path, tform))
		if w.Code != 200 {
			t.Fatalf("%s transcript callback: %d %s", c.provider, w.Code, w.Body)
		}
		if vm := e.voicemailAPI(t, "", c.callID); vm.Transcript != c.text {
			t.Errorf("%s: GET /admin/api/voicemails transcript = %q, want %q", c.provider, vm.Transcript, c.text)
		}
	}
	// Search: by a word of each transcript, in the API and the inbox page.
	if vm := e.voicemailAPI(t, "ROOF", cases[0].callID); vm.Transcript != cases[0].text {
		t.Errorf("search roof: %+v", vm)
	}
	if vm := e.voicemailAPI(t, "invoice 42", cases[1].callID); vm.Transcript != cases[1].text {
		t.Errorf("search invoice 42: %+v", vm)
	}
	session, _ := e.login(t)
	page := e.do(t, "GET", "/admin/voicemails?q=invoice", "", withCookie(session)).Body.String()
	if !strings.Contains(page, "Please call back about invoice 42.") || strings.Contains(page, "roof is leaking") {
		t.Errorf("inbox search for invoice does not show just that transcript")
	}
	page = e.do(t, "GET", "/admin/voicemails", "", withCookie(session)).Body.String()
	if !strings.Contains(page, "Please call back about invoice 42.") || !strings.Contains(page, "the roof is leaking again.") {
		t.Errorf("inbox does not show the transcripts")
	}

	// The events reach a webhook receiver, signed.
	var mu sync.Mutex
	got := map[string]map[string]any{}
	secret := "whsec_" + "c2VjcmV0LWZvci10cmFuc2NyaXB0LXRlc3Q="
	key, err := webhook.ParseSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		id, ts := r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp")
		sec, _ := strconv.ParseInt(ts, 10, 64)
		if r.Header.Get("webhook-signature") != webhook.Sign(key, id, time.Unix(sec, 0), body) {
			http.Error(w, "bad signature", 400)
			return
		}
		var p struct {
			Type string         `json:"type"`
			Data map[string]any `json:"data"`
		}
		if json.Unmarshal(body, &p) != nil {
			http.Error(w, "bad", 400)
			return
		}
		if p.Type == store.EventVoicemailTranscribed {
			mu.Lock()
			got[p.Data["call_id"].(string)] = p.Data
			mu.Unlock()
		}
	}))
	defer recv.Close()
	wk, err := webhook.New(e.db, webhook.Config{URL: recv.URL, Secret: key, Poll: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { wk.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	testutil.Eventually(10*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == 2
	})
	mu.Lock()
	defer mu.Unlock()
	for _, c := range cases {
		if d := got[c.callID]; d == nil || d["transcript"] != c.text || d["provider"] != c.provider {
			t.Errorf("%s: voicemail.transcribed delivered = %v", c.provider, d)
		}
	}
}

func hasVoicemail(vms []store.Voicemail, callID string) bool {
	for _, v := range vms {
		if v.CallID == callID {
			return true
		}
	}
	return false
}

func (e *adminEnv) do2(r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}

// voicemailAPI is the voicemail of callID in GET /admin/api/voicemails?q=.
func (e *adminEnv) voicemailAPI(t *testing.T, q, callID string) store.Voicemail {
	t.Helper()
	w := e.do(t, "GET", "/admin/api/voicemails?q="+url.QueryEscape(q), "", withBearer(adminTestToken))
	var got struct {
		Voicemails []store.Voicemail `json:"voicemails"`
	}
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &got) != nil {
		t.Fatalf("GET /admin/api/voicemails: %d %s", w.Code, w.Body)
	}
	for _, v := range got.Voicemails {
		if v.CallID == callID {
			return v
		}
	}
	return store.Voicemail{}
}
