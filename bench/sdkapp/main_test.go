package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ivr-project/ivr/internal/auth"
	"github.com/ivr-project/ivr/internal/testutil"
)

const (
	testToken = "sdkapp-test-token"
	testBase  = "http://sdkapp.test"
)

// signed is a signed answer request of call id, as Twilio sends it.
func signed(id string) (*http.Request, string) {
	form := url.Values{
		"AccountSid": {"ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}, "ApiVersion": {"2010-04-01"}, "CallSid": {id},
		"CallStatus": {"ringing"}, "Direction": {"inbound"}, "From": {"+12000000000"}, "To": {"+14155550199"},
	}
	body := form.Encode()
	r := httptest.NewRequest(http.MethodPost, testBase+"/twilio/voice", nil)
	r.RequestURI = "/twilio/voice" // origin form, as a server reads it
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("X-Twilio-Signature", auth.SignTwilio(testToken, testBase+"/twilio/voice", form))
	return r, body
}

func serve(h http.Handler, r *http.Request, body string) *httptest.ResponseRecorder {
	r2 := *r
	r2.Body = io.NopCloser(strings.NewReader(body))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, &r2)
	return w
}

func TestAnswer(t *testing.T) {
	db, err := openCallLog(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "log.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, log := range []*callLog{nil, db} {
		h := newRouter(testToken, log)
		r, body := signed("CA1")
		if w := serve(h, r, body); w.Code != 200 || !strings.Contains(w.Body.String(), `action="/twilio/voice/menu/main?attempt=1"`) {
			t.Errorf("signed answer: %d %s", w.Code, w.Body)
		}
		r.Header.Set("X-Twilio-Signature", "forged")
		if w := serve(h, r, body); w.Code != http.StatusForbidden {
			t.Errorf("forged answer: %d, want 403", w.Code)
		}
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM call_log WHERE call_sid = 'CA1'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("call log rows: %d (%v), want 1", n, err)
	}
}

// BenchmarkAnswerDistinct is the answer of b.N distinct signed calls, as
// internal/server's BenchmarkTwilioAnswerDistinct drives ivr: "nolog"
// stores nothing, "calllog" commits a call log row per request (SQLite).
func BenchmarkAnswerDistinct(b *testing.B) {
	for _, logged := range []bool{false, true} {
		name := "nolog"
		if logged {
			name = "calllog"
		}
		b.Run(name, func(b *testing.B) {
			var db *callLog
			if logged {
				var err error
				if db, err = openCallLog(context.Background(), "sqlite:"+filepath.Join(b.TempDir(), "log.db")); err != nil {
					b.Fatal(err)
				}
				defer db.Close()
			}
			h := newRouter(testToken, db)
			reqs, bodies := make([]*http.Request, b.N), make([]string, b.N)
			for i := range reqs {
				reqs[i], bodies[i] = signed(fmt.Sprintf("CA%032d", i))
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := testutil.ProcessCPU()
			var w *httptest.ResponseRecorder
			for i := range b.N {
				w = serve(h, reqs[i], bodies[i])
			}
			b.StopTimer()
			b.ReportMetric(float64(testutil.ProcessCPU()-cpu0)/float64(b.N), "cpu-ns/op")
			if w.Code != 200 {
				b.Fatalf("status %d", w.Code)
			}
		})
	}
}
