package voice

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/httpobs"
	"github.com/ivr-project/ivr/internal/ivr"
	"github.com/ivr-project/ivr/internal/xml"
)

// BenchmarkVoiceHeaders is setting the answer's two headers: Header().Set
// (canonicalises the key, allocates a slice) against assigning the
// provider's preallocated slices, as HandleVoice does.
func BenchmarkVoiceHeaders(b *testing.B) {
	ct, ns := []string{"text/xml"}, []string{"no-store"}
	b.Run("Set", func(b *testing.B) {
		h := http.Header{}
		b.ReportAllocs()
		for b.Loop() {
			clear(h)
			h.Set("Content-Type", "text/xml")
			h.Set("Cache-Control", "no-store")
		}
	})
	b.Run("assigned", func(b *testing.B) {
		h := http.Header{}
		b.ReportAllocs()
		for b.Loop() {
			clear(h)
			h["Content-Type"] = ct[:1:1]
			h["Cache-Control"] = ns[:1:1]
		}
	})
}

// BenchmarkVoiceAnswerBody is a menu answer's document rendered and
// written: into a new slice each time (render) against a pooled buffer
// (getXMLBuf, as HandleVoice does).
func BenchmarkVoiceAnswerBody(b *testing.B) {
	twilio, _, err := NewProviders(xml.FallbackConfig{Text: "Sorry.", Number: "+15550100000"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	say := ivr.Say{Text: "For billing, press 1 or say billing. For support, press 2 or say support. To hear this again, press 9."}
	steps := []ivr.Step{ivr.Gather{Action: ivr.Target{Path: "menu/main", Query: "attempt=1"}, DTMF: true, Speech: true,
		TimeoutSeconds: 5, Prompts: []ivr.Step{ivr.Say{Text: "Welcome to Example Company."}, say}},
		ivr.Redirect{Target: ivr.Target{Path: "menu/main", Query: "attempt=2"}}}
	const base = "https://ivr.example.com/twilio/voice/"
	w := discardWriter{http.Header{}}
	b.Run("render", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			body, err := twilio.render(base, steps)
			if err != nil {
				b.Fatal(err)
			}
			twilio.writeAnswer(w, body)
		}
	})
	b.Run("pooled", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			bp := getXMLBuf()
			body, err := twilio.appendXML((*bp)[:0], base, steps)
			if err != nil {
				b.Fatal(err)
			}
			twilio.writeAnswer(w, body)
			putXMLBuf(bp, body)
		}
	})
}

type discardWriter struct{ h http.Header }

func (d discardWriter) Header() http.Header         { return d.h }
func (d discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d discardWriter) WriteHeader(int)             {}

// BenchmarkDeadlineAnswer is a voice answer written through the deadline's
// timeoutWriter: its headers set on the handler's own header map, then
// Write and Flush (as any handler does), against timeoutWriter.answer (as
// writeAnswer does).
func BenchmarkDeadlineAnswer(b *testing.B) {
	ct, ns := []string{"text/xml"}, []string{"no-store"}
	body := []byte("<Response/>")
	w := discardWriter{http.Header{}}
	b.Run("Header", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			clear(w.h)
			tw := &timeoutWriter{w: w}
			h := tw.Header()
			h["Content-Type"], h["Cache-Control"] = ct, ns
			h["Content-Length"] = []string{strconv.Itoa(len(body))}
			tw.Write(body)
			tw.Flush()
		}
	})
	b.Run("answer", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			clear(w.h)
			tw := &timeoutWriter{w: w}
			tw.answer(ct, ns, body)
		}
	})
}

// BenchmarkDeadline is one voice answer through the deadline (Failer.Deadline):
// its context, its timer and its writer, around a handler that only writes
// its answer.
func BenchmarkDeadline(b *testing.B) {
	twilio, _, err := NewProviders(xml.FallbackConfig{Text: "Sorry.", Number: "+15550100000"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	metrics := httpobs.NewMetrics(func() float64 { return 0 }, func() float64 { return 0 })
	f := NewFailer(twilio, slog.New(slog.DiscardHandler), metrics, false, nil, nil)
	body := []byte("<Response/>")
	h := f.Deadline(10 * time.Second)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		twilio.writeAnswer(w, body)
	}))
	r := httptest.NewRequest(http.MethodPost, "/twilio/voice", nil)
	w := flushWriter{discardWriter{http.Header{}}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}

// flushWriter is a discardWriter that can flush, as the server's writers do.
type flushWriter struct{ discardWriter }

func (flushWriter) Flush() {}
