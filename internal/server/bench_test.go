package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/auth"
	"github.com/ivr-project/ivr/internal/httpobs"
	"github.com/ivr-project/ivr/internal/testutil"
)

// The benchmarks below drive one request at a time through the real router
// (server.New on a real SQLite store, the bundled example flow, the call-event
// writer running in the background and writing to SQLite, metrics on). They
// start at the handler: the net/http server's own work (accept, parsing the
// request line and headers, writing the response) is not in them; the load
// script (scripts/load.sh) measures that end to end.
//
// A request is built once and shallow-copied per iteration with a fresh body
// reader; the response goes to a writer that keeps nothing, so the figures
// are the application's cost, not httptest's. Each benchmark checks the
// first answer and, at the end, that no request fell back.

// benchWriter is a ResponseWriter that only remembers the status and size.
type benchWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *benchWriter) Header() http.Header { return w.h }
func (w *benchWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *benchWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.n += len(p)
	return len(p), nil
}

func (w *benchWriter) reset() {
	clear(w.h)
	w.status, w.n = 0, 0
}

// formPost is a form POST to opsPublicURL+path with the given headers.
func formPost(path, body string, headers map[string]string) *http.Request {
	r, err := http.NewRequest(http.MethodPost, opsPublicURL+path, nil)
	if err != nil {
		panic(err)
	}
	// As the server sees it: origin-form request URI, Host header, no scheme.
	r.RequestURI = path
	r.Host = strings.TrimPrefix(opsPublicURL, "https://")
	r.URL.Scheme, r.URL.Host = "", ""
	r.RemoteAddr = "127.0.0.1:40000"
	r.ContentLength = int64(len(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range headers {
		r.Header.Set(k, v)
	}
	return r
}

// serve sends a copy of r with body through h.
func serve(h http.Handler, w *benchWriter, r *http.Request, body string) {
	r2 := *r
	r2.Body = io.NopCloser(strings.NewReader(body))
	w.reset()
	h.ServeHTTP(w, &r2)
}

// serveN serves r (with body) b.N times on the clock and returns the
// writer, holding the last answer.
func serveN(b *testing.B, e *opsEnv, r *http.Request, body string) *benchWriter {
	b.Helper()
	w := &benchWriter{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		serve(e.h, w, r, body)
	}
	b.StopTimer()
	return w
}

// checkFirst serves r once and fails unless the answer is the menu (no fallback).
func checkFirst(b *testing.B, e *opsEnv, r *http.Request, body, want string) {
	b.Helper()
	rec := &recordingWriter{benchWriter: benchWriter{h: http.Header{}}}
	r2 := *r
	r2.Body = io.NopCloser(strings.NewReader(body))
	e.h.ServeHTTP(rec, &r2)
	if rec.status != 200 || !strings.Contains(rec.body.String(), want) || strings.Contains(rec.body.String(), "<Dial") {
		b.Fatalf("first answer: %d %s", rec.status, rec.body.String())
	}
}

type recordingWriter struct {
	benchWriter
	body strings.Builder
}

func (w *recordingWriter) Write(p []byte) (int, error) {
	w.benchWriter.Write(p)
	return w.body.Write(p)
}

// noFallbacks fails the benchmark if any request was answered with the fallback.
func noFallbacks(b *testing.B, e *opsEnv) {
	b.Helper()
	if n := counterSum(e.metrics, "ivr_fallbacks_total"); n != 0 {
		b.Fatalf("%v requests fell back during the benchmark", n)
	}
}

// counterSum adds every sample of a counter family in the registry.
func counterSum(m *httpobs.Metrics, name string) float64 {
	mfs, err := m.Registry.Gather()
	if err != nil {
		panic(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, mt := range mf.GetMetric() {
			sum += mt.GetCounter().GetValue()
		}
	}
	return sum
}

func twilioRequest(path string, form url.Values) (*http.Request, string) {
	body := form.Encode()
	return formPost(path, body, map[string]string{
		"X-Twilio-Signature": auth.SignTwilio(opsTwilioToken, opsPublicURL+path, form),
	}), body
}

// BenchmarkTwilioAnswer is a signed Twilio answer (POST /twilio/voice): the
// call is answered and the main menu rendered as TwiML.
func BenchmarkTwilioAnswer(b *testing.B) {
	e := newOpsEnv(b, false)
	r, body := twilioRequest("/twilio/voice", twilioCall("CA0123456789abcdef0123456789abcdef"))
	checkFirst(b, e, r, body, "<Gather")
	w := serveN(b, e, r, body)
	if w.status != 200 {
		b.Fatalf("status %d", w.status)
	}
	noFallbacks(b, e)
}

// BenchmarkTwilioAnswerParallel is the same from GOMAXPROCS goroutines.
func BenchmarkTwilioAnswerParallel(b *testing.B) {
	e := newOpsEnv(b, false)
	r, body := twilioRequest("/twilio/voice", twilioCall("CA0123456789abcdef0123456789abcdef"))
	checkFirst(b, e, r, body, "<Gather")
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		w := &benchWriter{h: http.Header{}}
		for pb.Next() {
			serve(e.h, w, r, body)
		}
	})
	b.StopTimer()
	noFallbacks(b, e)
}

// BenchmarkTwilioMenuAction is a caller pressing 1 in the main menu (POST
// /twilio/voice/menu/main?attempt=1 with Digits=1): the billing menu.
func BenchmarkTwilioMenuAction(b *testing.B) {
	e := newOpsEnv(b, false)
	form := twilioCall("CA0123456789abcdef0123456789abcdef")
	form.Set("CallStatus", "in-progress")
	form.Set("Digits", "1")
	form.Set("FinishedOnKey", "")
	r, body := twilioRequest("/twilio/voice/menu/main?attempt=1", form)
	checkFirst(b, e, r, body, "menu/billing")
	serveN(b, e, r, body)
	noFallbacks(b, e)
}

// BenchmarkPlivoAnswer is a signed Plivo answer (POST /plivo/voice) with the
// real in-memory nonce store: every request carries a fresh nonce, so b.N
// requests are signed before the timer starts.
func BenchmarkPlivoAnswer(b *testing.B) {
	e := newOpsEnv(b, false)
	const path = "/plivo/voice"
	form := url.Values{
		"CallUUID":    {"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"},
		"From":        {"14155550100"},
		"To":          {"14155550199"},
		"CallStatus":  {"ringing"},
		"Direction":   {"inbound"},
		"Event":       {"StartApp"},
		"BillRate":    {"0.0085"},
		"CallerName":  {"+14155550100"},
		"RequestUUID": {"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"},
	}
	body := form.Encode()
	sign := func(i int) *http.Request {
		nonce := "bench" + strconv.Itoa(i) + "-34567890123456789"
		return formPost(path, body, map[string]string{
			"X-Plivo-Signature-V3":       auth.SignPlivoV3(opsPlivoToken, opsPublicURL+path, nonce, http.MethodPost, form),
			"X-Plivo-Signature-V3-Nonce": nonce,
		})
	}
	checkFirst(b, e, sign(-1), body, "<GetInput")
	reqs := make([]*http.Request, b.N)
	for i := range reqs {
		reqs[i] = sign(i)
	}
	w := &benchWriter{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		serve(e.h, w, reqs[i], body)
	}
	b.StopTimer()
	noFallbacks(b, e)
}

// BenchmarkTwilioForged is a forged answer (bad signature): the fallback path.
func BenchmarkTwilioForged(b *testing.B) {
	e := newOpsEnv(b, false)
	form := twilioCall("CA0123456789abcdef0123456789abcdef")
	body := form.Encode()
	r := formPost("/twilio/voice", body, map[string]string{
		"X-Twilio-Signature": auth.SignTwilio("not-the-token", opsPublicURL+"/twilio/voice", form),
	})
	serveN(b, e, r, body)
	if n := counterSum(e.metrics, "ivr_fallbacks_total"); n < float64(b.N) {
		b.Fatalf("%v fallbacks for %d forged requests", n, b.N)
	}
}

// BenchmarkTwilioAnswerDistinct is the load test's traffic: signed answers
// of b.N distinct calls (each its own CallSid and caller), records on. The
// writer's queue is flushed inside the timed region, so ns/op includes
// storing each call's record. "norecords" is the same without the writer.
func BenchmarkTwilioAnswerDistinct(b *testing.B) {
	for _, records := range []bool{true, false} {
		name := "records"
		if !records {
			name = "norecords"
		}
		b.Run(name, func(b *testing.B) {
			e := newOpsEnv(b, !records)
			reqs := make([]*http.Request, b.N)
			bodies := make([]string, b.N)
			for i := range reqs {
				form := twilioCall(fmt.Sprintf("CA%032d", i))
				form.Set("From", fmt.Sprintf("+1%010d", 2000000000+i))
				reqs[i], bodies[i] = twilioRequest("/twilio/voice", form)
			}
			w := &benchWriter{h: http.Header{}}
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := testutil.ProcessCPU()
			for i := range b.N {
				serve(e.h, w, reqs[i], bodies[i])
			}
			if records {
				if err := e.events.Flush(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			reportCPU(b, cpu0)
			if w.status != 200 {
				b.Fatalf("status %d", w.status)
			}
			noFallbacks(b, e)
			if records && e.events.Dropped() != 0 {
				b.Fatalf("%d events dropped", e.events.Dropped())
			}
		})
	}
}

// reportCPU reports the process CPU time since cpu0 per operation.
func reportCPU(b *testing.B, cpu0 time.Duration) {
	b.ReportMetric(float64(testutil.ProcessCPU()-cpu0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkTwilioStatusDistinct is the status callback of b.N distinct
// calls (completed, with a duration), from 32 × GOMAXPROCS goroutines as a
// provider's concurrent callbacks: each is answered only once committed.
func BenchmarkTwilioStatusDistinct(b *testing.B) {
	e := newOpsEnv(b, false)
	reqs := make([]*http.Request, b.N)
	bodies := make([]string, b.N)
	for i := range reqs {
		form := twilioCall(fmt.Sprintf("CA%032d", i))
		form.Set("CallStatus", "completed")
		form.Set("CallDuration", "42")
		reqs[i], bodies[i] = twilioRequest("/twilio/status", form)
	}
	var next atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(32)
	b.ResetTimer()
	cpu0 := testutil.ProcessCPU()
	b.RunParallel(func(pb *testing.PB) {
		w := &benchWriter{h: http.Header{}}
		for pb.Next() {
			i := next.Add(1) - 1
			serve(e.h, w, reqs[i], bodies[i])
			if w.status != 200 {
				b.Errorf("status %d", w.status)
				return
			}
		}
	})
	b.StopTimer()
	reportCPU(b, cpu0)
}
