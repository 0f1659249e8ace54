package voice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ivr-project/ivr/internal/auth"
	"github.com/ivr-project/ivr/internal/buildinfo"
	"github.com/ivr-project/ivr/internal/carrier"
	"github.com/ivr-project/ivr/internal/httpobs"
	"github.com/ivr-project/ivr/internal/ivr"
	"github.com/ivr-project/ivr/internal/publish"
	"github.com/ivr-project/ivr/internal/store"
)

// HandleVoice answers the answer URL and every action URL under
// /{provider}/voice/: verified parameters and the call state in the query go
// to the flow engine, its steps are rendered as the provider's XML, and,
// once that answer is out, what happened is queued for the call record
// (never waiting on the store itself; the writer's backpressure may hold the
// connection's next request, never this answer).
//
// A callback the flow took is stored in callbacks (nil: not stored) before
// the answer goes out; the whisper route's events belong to the caller's
// call (ivr.Result.CallID).
func HandleVoice(p *Provider, flows *publish.Source, events *store.Writer, callbacks *store.DB, urls auth.URLResolver, lk *Lookups, fail Failer, logger *slog.Logger) http.Handler {
	prefix := "/" + p.Provider + "/voice"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		params := auth.FormOf(r.Context())
		call := ivr.Call{
			Provider: p.Provider,
			ID:       params.Get(p.CallID),
			From:     params.Get("From"),
			To:       params.Get("To"),
			Now:      time.Now(),
		}
		req := ivr.Request{
			Call:  call,
			Path:  strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, prefix), "/"),
			Query: query(r.URL),
			Input: ivr.Input{Digits: params.Get(p.Digits), Speech: params.Get(p.Speech)},
		}
		req.Input.Confidence, req.Input.HasConfidence = p.SpeechConfidence(params.Get)
		req.DialStatus = firstOf(params.Get, p.DialStatus...)
		req.RecordingURL = params.Get(p.RecordingURL)
		lk.prepare(&req)
		flow, draft := flows.Flow(), draftFlow(r.Context())
		if draft != nil {
			flow = draft
		} else if req.Path == "" {
			req.Closure = closureOf(flows, call.Now)
		}
		res, ran, err := lk.step(r.Context(), flow, req)
		// The lookups are counted and logged once the answer is out.
		defer lk.report(r.Context(), call, flow.Revision(), ran)
		if err != nil {
			fail.voice(w, r, "flow", err)
			return
		}
		bp := getXMLBuf()
		body, err := p.appendXML((*bp)[:0], p.voiceBase(urls, r, prefix), res.Steps)
		if err != nil {
			xmlBufs.Put(bp)
			fail.voice(w, r, "render", err)
			return
		}
		defer putXMLBuf(bp, body)
		if errors.Is(context.Cause(r.Context()), errDeadline) {
			return // the deadline already answered the fallback
		}
		var callbackID int64
		if res.Callback != nil && callbacks != nil && draft == nil && call.ID != "" {
			cb, err := storeCallback(r.Context(), callbacks, call, res.Callback)
			if err != nil {
				fail.voice(w, r, "store", fmt.Errorf("store the callback: %w", err))
				return
			}
			callbackID = cb.ID
		}
		// The answer goes out first, whole: the record below may wait for
		// the writer (its backpressure), and that wait must not spend what
		// is left of the voice deadline (the deadline's fallback would then
		// replace a flow's answer, on_error included).
		p.writeAnswer(w, body)
		if res.CallID != "" {
			call.ID = res.CallID // the whisper: the agent's leg reports the caller's call
		}
		if events != nil && call.ID != "" && len(res.Events) > 0 && draft == nil {
			evs := toStoreEvents(res.Events, flow.Revision())
			if req.Path == ivr.PathVoicemailDone && req.RecordingURL != "" {
				attachRecording(evs, req.RecordingURL, params.Get(p.RecordingDuration))
			}
			handoffNotices(evs, callbackID)
			if req.Path == "" && res.CallID == "" { // the answer URL: most likely a new call
				events.EnqueueNew(p.Provider, call.ID, call.From, call.To, evs)
			} else {
				events.EnqueueOwned(p.Provider, call.ID, call.From, call.To, evs)
			}
		}
		if logger.Enabled(r.Context(), slog.LevelDebug) { // the attributes would escape even when off
			logger.Debug("voice step", slog.String("provider", p.Provider), slog.String("call_id", call.ID),
				slog.String("path", req.Path), slog.String("request_id", httpobs.RequestID(r.Context())))
		}
	})
}

// closureOf is the line's closure switch for a new call at t, or nil.
func closureOf(flows *publish.Source, t time.Time) *ivr.Closure {
	c := flows.Closure(t)
	if c == nil {
		return nil
	}
	return &ivr.Closure{Message: c.Message, Then: c.Then}
}

// voiceBase is the absolute URL the provider's next requests go to, on the
// same public origin the provider used for this one.
func (p *Provider) voiceBase(urls auth.URLResolver, r *http.Request, prefix string) string {
	public := auth.URL(r.Context()) // resolved once, for the signature check
	if public == "" {
		public = urls.Resolve(r)
	}
	return p.bases.get(public, prefix)
}

// baseOf is voiceBase's answer for the public URL of a request.
func baseOf(public, prefix string) string {
	u, err := url.Parse(public)
	if err != nil || u.Host == "" {
		return prefix + "/"
	}
	base := u.Scheme + "://" + u.Host
	// A console URL pasted with "//" need not be copied into the next ones.
	path := collapseSlashes(u.Path)
	if i := strings.Index(path, prefix); i > 0 { // a public path prefix, e.g. /ivr/twilio/voice
		base += strings.TrimSuffix(path[:i], "/")
	}
	return base + prefix + "/"
}

// baseCache keeps baseOf's answers by prefix and public URL without its
// query (the sealed call state makes nearly every query different, and a
// query changes nothing in the answer), at most maxBases of them: parsing
// the URL was a tenth of a voice answer's handler. A URL with a fragment or
// a control byte (which url.Parse refuses wherever it is) is not kept.
type baseCache struct {
	m sync.Map // baseKey -> string
	n atomic.Int32
}

type baseKey struct{ prefix, public string }

// maxBases bounds baseCache: a line's public URLs are its few origins times
// its menus' paths.
const maxBases = 1024

// get is baseOf(public, prefix), from the cache when it holds it (a nil
// cache holds nothing).
func (c *baseCache) get(public, prefix string) string {
	key, _, _ := strings.Cut(public, "?")
	if c == nil || strings.IndexByte(public, '#') >= 0 || hasCTL(public) {
		return baseOf(public, prefix)
	}
	if b, ok := c.m.Load(baseKey{prefix, key}); ok {
		return b.(string)
	}
	b := baseOf(public, prefix)
	if c.n.Load() < maxBases && c.n.Add(1) <= maxBases {
		c.m.Store(baseKey{prefix, key}, b)
	}
	return b
}

// hasCTL reports whether s holds an ASCII control byte (url.Parse's refusal).
func hasCTL(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b < ' ' || b == 0x7f {
			return true
		}
	}
	return false
}

// query is u.Query() without building an empty map for a URL without one
// (the flow engine only reads it).
func query(u *url.URL) url.Values {
	if u.RawQuery == "" {
		return nil
	}
	return u.Query()
}

// toStoreEvents converts the engine's events for the store, each marked
// with the flow revision it ran on.
func toStoreEvents(evs []ivr.Event, revision string) []store.Event {
	out := make([]store.Event, len(evs))
	for i, e := range evs {
		out[i] = store.Event{Event: e, Revision: revision}
	}
	return out
}

// attachRecording puts the provider's recording (URL, duration in seconds)
// on the voicemail_done event, for the voicemail inbox, and asks for its
// voicemail.created webhook event.
func attachRecording(evs []store.Event, url, duration string) {
	secs, _ := callDuration(duration) // cleaned up, or 0 (unknown) when it cannot be a length
	for i := range evs {
		if evs[i].Kind == ivr.EventVoicemailDone {
			evs[i].Recording = &store.Recording{URL: url, DurationSeconds: secs}
			evs[i].Notice = &store.Notice{Type: store.EventVoicemailCreated,
				Data: map[string]any{"recording_url": url, "recording_duration_seconds": secs}}
		}
	}
}

// HandleStatus stores a Twilio status callback or a Plivo hangup callback and
// acknowledges it only once the record is committed: a 200 means stored.
// events is the writer of the call records (nil: none): a final status
// leaves the call's summary to it while it still holds the call's events.
func HandleStatus(p *Provider, db *store.DB, events *store.Writer, fail Failer, metrics *httpobs.Metrics, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, note, err := statusUpdate(p, r)
		if err != nil {
			fail.quiet(w, r, "bad_body", err)
			return
		}
		if note != "" {
			logger.Warn("status callback field adjusted; the rest is stored", slog.String("provider", p.Provider),
				slog.String("call_id", u.CallID), slog.String("adjusted", note), slog.String("request_id", httpobs.RequestID(r.Context())))
		}
		// A callback that arrived whole is stored even if the client has
		// closed its side of the connection since (it may still read the 200).
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
		defer cancel()
		if err := events.UpdateStatus(ctx, db, u); err != nil {
			metrics.StoreError.WithLabelValues("update_status").Inc()
			httpobs.SetOutcome(r.Context(), "store_error")
			logger.Error("status not stored; asking the provider to retry",
				slog.String("provider", p.Provider), slog.String("call_id", u.CallID), slog.String("error", err.Error()))
			releaseNonce(r, logger)
			http.Error(w, "record not stored, retry later", http.StatusServiceUnavailable)
			return
		}
		logger.Info("call status", slog.String("provider", p.Provider), slog.String("call_id", u.CallID),
			slog.String("status", u.Status), slog.Int("duration_seconds", u.DurationSeconds))
		w.Header().Set("Content-Type", p.contentType)
		w.Write(p.empty)
	})
}

// statusUpdate reads a status or hangup callback. A field that cannot be
// stored as sent is adjusted or dropped, and note says so (for the log): it
// never costs the rest of the callback.
func statusUpdate(p *Provider, r *http.Request) (u store.StatusUpdate, note string, err error) {
	get := auth.FormOf(r.Context()).Get // the form the signature covered, no map
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		// Twilio's JSON callbacks: the body is covered by bodySHA256.
		var m map[string]any
		if err := json.Unmarshal(auth.Body(r.Context()), &m); err != nil {
			return store.StatusUpdate{}, "", fmt.Errorf("status callback JSON: %w", err)
		}
		params := url.Values{}
		for k, v := range m {
			params.Set(k, fmt.Sprint(v))
		}
		if params.Get("CallStatus") == "" {
			params.Set("CallStatus", params.Get("Status"))
		}
		get = params.Get
	}
	u = store.StatusUpdate{
		Provider:    p.Provider,
		CallID:      get(p.CallID),
		From:        get("From"),
		To:          get("To"),
		Status:      get("CallStatus"),
		At:          time.Now().UTC(),
		HangupCause: firstOf(get, "HangupCause", "HangupCauseName", "ErrorCode"),
		ProviderAt:  providerTime(get),
		ProviderSeq: providerSeq(get),
	}
	if u.CallID == "" {
		return u, "", errors.New("status callback without " + p.CallID)
	}
	if d := firstOf(get, carrier.TwilioNames.Duration, carrier.PlivoNames.Duration); d != "" {
		u.DurationSeconds, note = callDuration(d)
		if note != "" {
			note = fmt.Sprintf("duration %q: %s", d, note)
		}
	}
	switch u.Status {
	case "completed", "busy", "failed", "no-answer", "canceled", "timeout", "cancel":
		u.Final = true
	}
	if p.Provider == carrier.Plivo && r.URL.Path == p.StatusPath { // Plivo calls it only once, at the end
		u.Final = true
		if u.Status == "" {
			u.Status = "completed"
		}
	}
	return u, note, nil
}

// providerTime is the provider's own time of a status callback: Twilio's
// Timestamp (RFC 1123 with a numeric zone), Plivo's EndTime (UTC,
// "2006-01-02 15:04:05"); zero when absent or unreadable.
func providerTime(get func(string) string) time.Time {
	if v := get("Timestamp"); v != "" {
		if t, err := time.Parse(time.RFC1123Z, v); err == nil {
			return t.UTC()
		}
	}
	if v := get("EndTime"); v != "" {
		if t, err := time.Parse(time.DateTime, v); err == nil {
			return t
		}
	}
	return time.Time{}
}

// providerSeq is Twilio's SequenceNumber of a status callback (the order
// the events fired in, from 0); nil when absent or not a number.
func providerSeq(get func(string) string) *int64 {
	n, err := strconv.ParseInt(get("SequenceNumber"), 10, 64)
	if err != nil || n < 0 {
		return nil
	}
	return &n
}

// releaseNonce gives the request's nonce back before a 503, so the
// provider's retry of it is not refused as a replay.
func releaseNonce(r *http.Request, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 3*time.Second)
	defer cancel()
	if err := auth.ReleaseNonce(ctx); err != nil {
		logger.Warn("nonce not released; a retry with the same nonce will be refused",
			slog.String("request_id", httpobs.RequestID(r.Context())), slog.String("error", err.Error()))
	}
}

// firstOf is the first of names' values that get finds set.
func firstOf(get func(string) string, names ...string) string {
	for _, n := range names {
		if s := get(n); s != "" {
			return s
		}
	}
	return ""
}

// HandleMessage answers an SMS with the flow's keyword reply and keeps both
// messages. A refused or unanswerable message gets an empty document.
func HandleMessage(p *Provider, flows *publish.Source, db *store.DB, urls auth.URLResolver, fail Failer, metrics *httpobs.Metrics) http.Handler {
	voicePrefix := "/" + p.Provider + "/voice"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		params := auth.FormOf(r.Context())
		in := store.Message{
			Provider: p.Provider, ID: params.Get(p.MessageID), Direction: "in",
			From: params.Get("From"), To: params.Get("To"), Text: params.Get(p.MessageText), At: time.Now().UTC(),
		}
		res, err := flows.Flow().Reply(ivr.SMS{From: in.From, To: in.To, Text: in.Text, Now: in.At})
		if err != nil {
			fail.quiet(w, r, "flow", err)
			return
		}
		body, err := p.render(p.voiceBase(urls, r, voicePrefix), res.Steps)
		if err != nil {
			fail.quiet(w, r, "render", err)
			return
		}
		msgs := []store.Message{in}
		for _, s := range res.Steps {
			if m, ok := s.(ivr.Message); ok {
				msgs = append(msgs, store.Message{Provider: p.Provider, ID: in.ID, Direction: "out", From: in.To, To: in.From, Text: m.Text, At: in.At})
			}
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 2*time.Second)
		defer cancel()
		for _, m := range msgs {
			if err := db.AddMessage(ctx, m); err != nil {
				metrics.StoreError.WithLabelValues("add_message").Inc()
				httpobs.SetOutcome(r.Context(), "store_error")
				releaseNonce(r, fail.logger)
				http.Error(w, "message not stored, retry later", http.StatusServiceUnavailable)
				return
			}
		}
		w.Header().Set("Content-Type", p.contentType)
		w.Write(body)
	})
}

// HandleHealthz says the process is up, and which build it is, as JSON:
// {"status":"ok","version":...,"revision":...,"time":...,"modified":...,"go_version":...}.
func HandleHealthz(build buildinfo.Info) http.Handler {
	body, _ := json.Marshal(struct { // strings and a bool: cannot fail
		Status string `json:"status"`
		buildinfo.Info
	}{"ok", build})
	body = append(body, '\n')
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
}

// HandleReadyz says whether calls can be answered: a flow is loaded and the
// store is reachable (or its writer is buffering for it), and the process is
// not shutting down (draining, when draining is not nil).
func HandleReadyz(flows *publish.Source, db *store.DB, events *store.Writer, draining func() bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		type check struct {
			Flow     string `json:"flow"`
			Store    string `json:"store"`
			Queued   int    `json:"queued_events"`
			Draining bool   `json:"draining"`
			Ready    bool   `json:"ready"`
		}
		c := check{Flow: "ok", Store: "ok", Ready: true}
		if draining != nil && draining() {
			c.Draining, c.Ready = true, false
		}
		if flows == nil || flows.Flow() == nil {
			c.Flow, c.Ready = "no flow loaded", false
		} else if err := flows.LastError(); err != nil {
			c.Flow = "serving the last good flow; the file on disk is broken: " + err.Error()
		}
		ctx, cancel := context.WithTimeout(r.Context(), time.Second)
		defer cancel()
		if err := db.Ping(ctx); err != nil {
			c.Store = "unreachable: " + err.Error()
			if events == nil {
				c.Ready = false
			} else {
				c.Store += " (buffering call events)"
			}
		}
		if events != nil {
			c.Queued = events.Depth()
		}
		w.Header().Set("Content-Type", "application/json")
		if !c.Ready {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		json.NewEncoder(w).Encode(c)
	})
}
