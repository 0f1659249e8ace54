package voice

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/ivr-project/ivr/internal/auth"
	"github.com/ivr-project/ivr/internal/carrier"
	"github.com/ivr-project/ivr/internal/httpobs"
	"github.com/ivr-project/ivr/internal/ivr"
	"github.com/ivr-project/ivr/internal/store"
)

// Failer turns every failure on a provider's routes into the answer the
// contract asks for, logs it once with its reason and counts it:
//   - voice routes (and unknown paths, which may be a caller's): HTTP 200 with
//     the fallback XML that apologises and dials the call center;
//   - status/hangup callbacks and message routes: HTTP 200 with an empty
//     document, so nothing is stored and no reply is sent.
type Failer struct {
	p       *Provider
	logger  *slog.Logger
	metrics *httpobs.Metrics
	noToken bool // no auth token is configured: every outside request is refused as no_token
	// failures counts fallbacks and refusals in the store (nil: not counted);
	// events gets a "fallback <reason>" event for a verified call (nil: none).
	failures *store.FailureCounter
	events   *store.Writer
}

// errDeadline is the cause deadline cancels a late voice handler's context with.
var errDeadline = fmt.Errorf("voice handler deadline: %w", context.DeadlineExceeded)

// voice answers the fallback.
func (f Failer) voice(w http.ResponseWriter, r *http.Request, reason string, err error) {
	if errors.Is(context.Cause(r.Context()), errDeadline) {
		return // past the deadline: the deadline's timer has answered the fallback
	}
	w.Header().Set(carrier.HeaderFallback, reason)
	f.write(w, r, reason, err, f.p.fallback, "fallback")
	// The caller's answer goes out before the record of it, which may wait
	// for the record writer.
	http.NewResponseController(w).Flush()
	f.metrics.Fallbacks.WithLabelValues(f.p.Provider, reason).Inc()
	f.failures.Add(f.p.Provider, store.FailureFallback, reason)
	f.recordFallback(r, reason)
}

// recordFallback adds a fallback event to the call of a verified
// request, so the call's outcome is a fallback; it carries the call.fallback
// webhook event. A request whose signature was not verified changes no call
// record.
func (f Failer) recordFallback(r *http.Request, reason string) {
	params := auth.FormOf(r.Context())
	if f.events == nil || params == nil {
		return
	}
	id := params.Get(f.p.CallID)
	if id == "" {
		return
	}
	f.events.EnqueueOwned(f.p.Provider, id, params.Get("From"), params.Get("To"),
		[]store.Event{{Event: ivr.Event{At: time.Now(), Kind: ivr.EventFallback, More: &ivr.EventMore{Reason: reason}},
			Notice: &store.Notice{Type: store.EventCallFallback, Data: map[string]any{"reason": reason, "menu": chi.URLParam(r, "id")}}}})
}

// refused counts a request refused by signature, nonce or address checks.
func (f Failer) Refused(reason string) {
	f.metrics.Refused.WithLabelValues(f.p.Provider, reason).Inc()
	f.failures.Add(f.p.Provider, store.FailureRefused, reason)
}

// quiet answers the empty document.
func (f Failer) quiet(w http.ResponseWriter, r *http.Request, reason string, err error) {
	w.Header().Set(carrier.HeaderRefused, reason)
	f.write(w, r, reason, err, f.p.empty, "refused")
}

// byRoute picks voice or quiet from the path: only the status/hangup and
// message routes are quiet; anything else under the provider may be a call.
func (f Failer) ByRoute(w http.ResponseWriter, r *http.Request, reason string, err error) {
	if isCallback(f.p.Provider, r.URL.Path) {
		f.quiet(w, r, reason, err)
		return
	}
	f.voice(w, r, reason, err)
}

func isCallback(provider, path string) bool {
	rest := strings.TrimPrefix(path, "/"+provider+"/")
	return rest == "status" || rest == "hangup" || rest == "message"
}

func (f Failer) write(w http.ResponseWriter, r *http.Request, reason string, err error, body []byte, outcome string) {
	httpobs.SetOutcome(r.Context(), outcome)
	attrs := []any{
		slog.String("provider", f.p.Provider),
		slog.String("reason", reason),
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.String("request_id", httpobs.RequestID(r.Context())),
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
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// callID is the call's id when the verified parameters carry it, else (for
// logs only) what the query says.
func callID(r *http.Request, p *Provider) string {
	if params := auth.FormOf(r.Context()); params != nil {
		if id := params.Get(p.CallID); id != "" {
			return id
		}
		return params.Get(p.MessageID)
	}
	return r.URL.Query().Get(p.CallID)
}

// authFailure adapts an auth.Failure to the Failer, counting it as refused.
func (f Failer) AuthFailure(w http.ResponseWriter, r *http.Request, fail *auth.Failure) {
	if f.noToken {
		// The routes verify with an in-process secret only (see Tokens in
		// voice.go); say what is really wrong.
		fail = &auth.Failure{Reason: auth.ReasonNoToken, Scheme: fail.Scheme, URL: fail.URL,
			Diagnosis: "no auth token is configured for " + f.p.Provider + ": set " + strings.ToUpper(f.p.Provider) + "_AUTH_TOKEN"}
	}
	f.Refused(fail.Reason)
	if fail.Reason == auth.ReasonNonceStore && isCallback(f.p.Provider, r.URL.Path) {
		// Our failure, not the request's: a callback answered 200 would not
		// be sent again, and its record would be lost. Voice routes keep the
		// fallback (the caller is on the line).
		httpobs.SetOutcome(r.Context(), "store_error")
		f.logger.Error("webhook not checked: the nonce store failed; asking the provider to retry",
			slog.String("provider", f.p.Provider), slog.String("path", r.URL.Path),
			slog.String("request_id", httpobs.RequestID(r.Context())), slog.String("error", fail.Error()))
		http.Error(w, "nonce store unavailable, retry later", http.StatusServiceUnavailable)
		return
	}
	f.ByRoute(w, r, fail.Reason, fail) // fail.Error() carries the diagnosis
}

// recoverer turns a panic anywhere below into the failure answer.
func (f Failer) Recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				f.logger.Error("panic in handler", slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
				f.ByRoute(w, r, "panic", fmt.Errorf("panic: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// deadline answers the fallback when a voice handler runs past d, well
// before the provider's own timeout (Twilio waits 15 s). The handler runs
// inline (no goroutine per request); a timer that only fires on a late
// handler writes the complete fallback (with its Content-Length, flushed) so
// the provider has its answer while the handler is still stuck. Whichever
// comes first, the handler's answer or the timer's, is the only one written.
func (f Failer) Deadline(d time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// One timer per request: at d it cancels the handler's context
			// (cause: errDeadline; its Deadline says when, so lookups leave
			// their margin from the same start) and writes the fallback,
			// unless the handler has begun its answer. Only the deadline
			// cancels the handler: a client that closed its side of the
			// connection (the server then cancels the request's context)
			// may still read the answer, and the step it asked for is
			// recorded either way.
			cctx, cancel := context.WithCancelCause(context.WithoutCancel(r.Context()))
			defer cancel(nil)
			dl := &deadlineRun{deadlineCtx: deadlineCtx{cctx, time.Now().Add(d)}, cancel: cancel, f: &f, w: w, r: r, d: d}
			dl.tw.w = w
			tw := &dl.tw
			timer := time.AfterFunc(d, dl.fire)
			defer timer.Stop()
			defer func() {
				if v := recover(); v != nil {
					if v == http.ErrAbortHandler {
						panic(v)
					}
					tw.mu.Lock()
					defer tw.mu.Unlock()
					if tw.timedOut || tw.started {
						return
					}
					tw.started = true
					f.logger.Error("panic in handler", slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
					f.voice(w, r, "panic", fmt.Errorf("panic: %v", v))
				}
			}()
			next.ServeHTTP(tw, r.WithContext(dl))
			// Wait for a timer that is writing the fallback, and keep a late
			// one from writing after this handler has returned. A handler
			// that saw the deadline pass and returned without an answer
			// (the fallback is the timer's) may take tw.mu before the
			// timer does: the fallback is written here then.
			tw.mu.Lock()
			if errors.Is(context.Cause(dl), errDeadline) {
				dl.late()
			}
			tw.started = true
			tw.mu.Unlock()
			if r.Context().Err() != nil && context.Cause(dl) != errDeadline {
				f.logger.Info("voice answer written after the client closed its side of the connection",
					slog.String("provider", f.p.Provider), slog.String("path", r.URL.Path),
					slog.String("request_id", httpobs.RequestID(r.Context())))
			}
		})
	}
}

// deadlineCtx is a voice handler's context: cancelled (cause errDeadline)
// by the deadline's own timer, the one that also answers the fallback, it
// reports that deadline and, once it has passed, context.DeadlineExceeded,
// as context.WithDeadlineCause's would. What it saves on every voice answer
// against context.WithDeadlineCause plus a context.AfterFunc that answers
// the fallback (BenchmarkDeadline): the second timer, the AfterFunc and its
// place in the deadline context's map of children: 5 allocations (528 B)
// and about 40 % of the deadline's own time (15 to 10 allocations, 1,312 B
// to 784 B, 1.7-1.8 us to 1.0-1.1 us).
type deadlineCtx struct {
	context.Context // context.WithCancelCause's
	end             time.Time
}

func (c deadlineCtx) Deadline() (time.Time, bool) { return c.end, true }

func (c deadlineCtx) Err() error {
	err := c.Context.Err()
	if err != nil && context.Cause(c.Context) == errDeadline {
		return context.DeadlineExceeded
	}
	return err
}

// deadlineRun is one request's deadline: the handler's context (a pointer
// to it is the context, boxed without an allocation), what the timer
// needs to answer the fallback, and the handler's writer, in one
// allocation instead of one each and two closures (BenchmarkDeadline: 10
// to 8 allocations, 784 to 704 B).
type deadlineRun struct {
	deadlineCtx
	cancel context.CancelCauseFunc
	f      *Failer
	w      http.ResponseWriter
	r      *http.Request
	d      time.Duration
	tw     timeoutWriter
}

// fire is the timer's: it cancels the handler's context and answers the
// fallback unless an answer has begun.
func (dl *deadlineRun) fire() {
	dl.cancel(errDeadline)
	dl.tw.mu.Lock()
	defer dl.tw.mu.Unlock()
	dl.late()
}

// late writes the fallback (with tw.mu held) unless an answer has begun.
func (dl *deadlineRun) late() {
	if dl.tw.started || dl.tw.timedOut {
		return
	}
	dl.tw.timedOut = true
	dl.f.voice(dl.w, dl.r, "deadline", fmt.Errorf("handler still running after %s", dl.d))
}

// timeoutWriter passes the handler's answer through unless the deadline's
// fallback was written first. The handler's headers are its own (header,
// made when first asked for) until its answer starts: the timer's fallback
// may be writing w's meanwhile.
type timeoutWriter struct {
	w      http.ResponseWriter
	header http.Header
	clen   [1]string // the answer's Content-Length header, without a slice of its own

	mu       sync.Mutex
	started  bool // the handler's answer has begun: the timer stays quiet
	timedOut bool // the fallback was written: the handler's answer is dropped
}

func (t *timeoutWriter) Header() http.Header {
	if t.header == nil {
		t.header = make(http.Header)
	}
	return t.header
}

// answer writes a voice answer (body, with its content type, never
// cached, its length) and flushes it, as one step, unless the fallback was
// written first. It sets the headers on w's own header, without the
// handler's header map that Header and Write would need: what it saves on
// every voice answer (BenchmarkDeadlineAnswer): that map's 2 allocations
// (about 400 B) and about half the time of writing the answer.
func (t *timeoutWriter) answer(contentType, cacheControl []string, body []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.timedOut {
		return
	}
	if !t.started {
		t.started = true
		dst := t.w.Header()
		for k, v := range t.header {
			dst[k] = v
		}
		dst["Content-Type"], dst["Cache-Control"] = contentType, cacheControl
		t.clen[0] = strconv.Itoa(len(body))
		dst["Content-Length"] = t.clen[:]
		t.w.WriteHeader(http.StatusOK)
	}
	t.w.Write(body)
	http.NewResponseController(t.w).Flush()
}

func (t *timeoutWriter) WriteHeader(code int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.start(code)
}

func (t *timeoutWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.start(http.StatusOK) {
		return 0, http.ErrHandlerTimeout
	}
	return t.w.Write(p)
}

// Flush sends what the handler's answer has written so far (nothing once
// the fallback has answered).
func (t *timeoutWriter) Flush() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.started && !t.timedOut {
		http.NewResponseController(t.w).Flush()
	}
}

// start sends the header once; false when the fallback already answered.
func (t *timeoutWriter) start(code int) bool {
	if t.timedOut {
		return false
	}
	if !t.started {
		t.started = true
		dst := t.w.Header()
		for k, v := range t.header {
			dst[k] = v
		}
		t.w.WriteHeader(code)
	}
	return true
}
