package server

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/ivr-project/ivr/internal/auth"
)

// failer turns every failure on a provider's routes into the answer the
// contract asks for, logs it once with its reason and counts it:
//   - voice routes (and unknown paths, which may be a caller's): HTTP 200 with
//     the fallback XML that apologises and dials the call center;
//   - status/hangup callbacks and message routes: HTTP 200 with an empty
//     document, so nothing is stored and no reply is sent.
type failer struct {
	p       *provider
	logger  *slog.Logger
	metrics *Metrics
}

// voice answers the fallback.
func (f failer) voice(w http.ResponseWriter, r *http.Request, reason string, err error) {
	f.write(w, r, reason, err, f.p.fallback, "fallback")
	f.metrics.Fallbacks.WithLabelValues(f.p.name, reason).Inc()
}

// quiet answers the empty document.
func (f failer) quiet(w http.ResponseWriter, r *http.Request, reason string, err error) {
	f.write(w, r, reason, err, f.p.empty, "refused")
}

// byRoute picks voice or quiet from the path: only the status/hangup and
// message routes are quiet; anything else under the provider may be a call.
func (f failer) byRoute(w http.ResponseWriter, r *http.Request, reason string, err error) {
	if isCallback(f.p.name, r.URL.Path) {
		f.quiet(w, r, reason, err)
		return
	}
	f.voice(w, r, reason, err)
}

func isCallback(provider, path string) bool {
	rest := strings.TrimPrefix(path, "/"+provider+"/")
	return rest == "status" || rest == "hangup" || rest == "message"
}

func (f failer) write(w http.ResponseWriter, r *http.Request, reason string, err error, body []byte, outcome string) {
	ri := info(r.Context())
	ri.outcome = outcome
	attrs := []any{
		slog.String("provider", f.p.name),
		slog.String("reason", reason),
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.String("request_id", ri.id),
	}
	if id := callID(r, f.p); id != "" {
		attrs = append(attrs, slog.String("call_id", id))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	f.logger.Warn("webhook "+outcome, attrs...)
	h := w.Header()
	h.Set("Content-Type", f.p.contentType)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// callID is the call's id when the verified parameters carry it, else (for
// logs only) what the query says.
func callID(r *http.Request, p *provider) string {
	if params := auth.Params(r.Context()); params != nil {
		if id := params.Get(p.callID); id != "" {
			return id
		}
		return params.Get(p.messageID)
	}
	return r.URL.Query().Get(p.callID)
}

// authFailure adapts an auth.Failure to the failer, counting it as refused.
func (f failer) authFailure(w http.ResponseWriter, r *http.Request, fail *auth.Failure) {
	f.metrics.Refused.WithLabelValues(f.p.name, fail.Reason).Inc()
	var err error = fail
	if fail.Diagnosis != "" {
		err = fmt.Errorf("%w; %s", fail, fail.Diagnosis)
	}
	f.byRoute(w, r, fail.Reason, err)
}

// recoverer turns a panic anywhere below into the failure answer.
func (f failer) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				f.logger.Error("panic in handler", slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
				f.byRoute(w, r, "panic", fmt.Errorf("panic: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// deadline answers the fallback when a voice handler runs past d, well
// before the provider's own timeout (Twilio waits 15 s). The handler writes
// into a buffer and runs in its own goroutine so a stuck handler cannot hold
// the response.
func (f failer) deadline(d time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(r.Context(), d)
			defer cancel()
			buf := &bufferedWriter{header: make(http.Header)}
			done := make(chan any, 1)
			go func() {
				defer func() { done <- recover() }()
				next.ServeHTTP(buf, r.WithContext(ctx))
			}()
			select {
			case p := <-done:
				if p != nil {
					f.logger.Error("panic in handler", slog.Any("panic", p))
					f.voice(w, r, "panic", fmt.Errorf("panic: %v", p))
					return
				}
				buf.copyTo(w)
			case <-ctx.Done():
				f.voice(w, r, "deadline", fmt.Errorf("handler still running after %s", d))
			}
		})
	}
}

// bufferedWriter holds a handler's response until it is complete.
type bufferedWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header { return b.header }
func (b *bufferedWriter) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}
func (b *bufferedWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

func (b *bufferedWriter) copyTo(w http.ResponseWriter) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	if b.status == 0 {
		b.status = http.StatusOK
	}
	w.WriteHeader(b.status)
	w.Write(b.body.Bytes())
}
