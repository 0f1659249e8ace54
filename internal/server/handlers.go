package server

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
	"time"

	"github.com/ivr-project/ivr/internal/auth"
	"github.com/ivr-project/ivr/internal/ivr"
	"github.com/ivr-project/ivr/internal/store"
)

// handleVoice answers the answer URL and every action URL under
// /{provider}/voice/: verified parameters and the call state in the query go
// to the flow engine, its steps are rendered as the provider's XML, and what
// happened is queued for the call record (never waiting on the store).
func handleVoice(p *provider, flows *ivr.Source, events *store.Writer, urls auth.URLResolver, fail failer, logger *slog.Logger) http.Handler {
	prefix := "/" + p.name + "/voice"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		params := auth.Params(r.Context())
		call := ivr.Call{
			Provider: p.name,
			ID:       params.Get(p.callID),
			From:     params.Get("From"),
			To:       params.Get("To"),
			Now:      time.Now(),
		}
		req := ivr.Request{
			Call:  call,
			Path:  strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, prefix), "/"),
			Query: query(r.URL),
			Input: ivr.Input{Digits: params.Get(p.digits), Speech: params.Get(p.speech)},
		}
		req.DialStatus = firstOf(params, p.dialStatus...)
		req.RecordingURL = params.Get(p.recordingURL)
		res, err := flows.Flow().Step(req)
		if err == nil && res.Need != nil {
			err = fmt.Errorf("the flow needs lookup %s, which this server does not perform yet", res.Need)
		}
		if err != nil {
			fail.voice(w, r, "flow", err)
			return
		}
		body, err := p.render(voiceBase(urls, r, prefix), res.Steps)
		if err != nil {
			fail.voice(w, r, "render", err)
			return
		}
		if err := r.Context().Err(); err != nil {
			return // the deadline already answered the fallback
		}
		if events != nil && call.ID != "" && len(res.Events) > 0 {
			events.EnqueueOwned(p.name, call.ID, call.From, call.To, toStoreEvents(res.Events))
		}
		if logger.Enabled(r.Context(), slog.LevelDebug) { // the attributes would escape even when off
			logger.Debug("voice step", slog.String("provider", p.name), slog.String("call_id", call.ID),
				slog.String("path", req.Path), slog.String("request_id", info(r.Context()).id))
		}
		h := w.Header()
		h["Content-Type"] = p.contentTypeHeader[:1:1]
		h["Cache-Control"] = p.noStoreHeader[:1:1]
		w.Write(body)
	})
}

// voiceBase is the absolute URL the provider's next requests go to, on the
// same public origin the provider used for this one.
func voiceBase(urls auth.URLResolver, r *http.Request, prefix string) string {
	public := auth.URL(r.Context()) // resolved once, for the signature check
	if public == "" {
		public = urls.Resolve(r)
	}
	u, err := url.Parse(public)
	if err != nil || u.Host == "" {
		return prefix + "/"
	}
	base := u.Scheme + "://" + u.Host
	if i := strings.Index(u.Path, prefix); i > 0 { // a public path prefix, e.g. /ivr/twilio/voice
		base += u.Path[:i]
	}
	return base + prefix + "/"
}

// query is u.Query() without building an empty map for a URL without one
// (the flow engine only reads it).
func query(u *url.URL) url.Values {
	if u.RawQuery == "" {
		return nil
	}
	return u.Query()
}

func toStoreEvents(evs []ivr.Event) []store.Event {
	out := make([]store.Event, len(evs))
	for i, e := range evs {
		out[i] = store.Event{At: e.At, Menu: e.Menu, Input: e.Input, Action: e.Action}
	}
	return out
}

// handleStatus stores a Twilio status callback or a Plivo hangup callback and
// acknowledges it only once the record is committed: a 200 means stored.
func handleStatus(p *provider, db *store.DB, fail failer, metrics *Metrics, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := statusUpdate(p, r)
		if err != nil {
			fail.quiet(w, r, "bad_body", err)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if err := db.UpdateStatus(ctx, u); err != nil {
			metrics.StoreError.WithLabelValues("update_status").Inc()
			info(r.Context()).outcome = "store_error"
			logger.Error("status not stored; asking the provider to retry",
				slog.String("provider", p.name), slog.String("call_id", u.CallID), slog.String("error", err.Error()))
			releaseNonce(r, logger)
			http.Error(w, "record not stored, retry later", http.StatusServiceUnavailable)
			return
		}
		logger.Info("call status", slog.String("provider", p.name), slog.String("call_id", u.CallID),
			slog.String("status", u.Status), slog.Int("duration_seconds", u.DurationSeconds))
		w.Header().Set("Content-Type", p.contentType)
		w.Write(p.empty)
	})
}

func statusUpdate(p *provider, r *http.Request) (store.StatusUpdate, error) {
	params := auth.Params(r.Context())
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		// Twilio's JSON callbacks: the body is covered by bodySHA256.
		var m map[string]any
		if err := json.Unmarshal(auth.Body(r.Context()), &m); err != nil {
			return store.StatusUpdate{}, fmt.Errorf("status callback JSON: %w", err)
		}
		params = url.Values{}
		for k, v := range m {
			params.Set(k, fmt.Sprint(v))
		}
		if params.Get("CallStatus") == "" {
			params.Set("CallStatus", params.Get("Status"))
		}
	}
	u := store.StatusUpdate{
		Provider:    p.name,
		CallID:      params.Get(p.callID),
		From:        params.Get("From"),
		To:          params.Get("To"),
		Status:      params.Get("CallStatus"),
		At:          time.Now().UTC(),
		HangupCause: firstOf(params, "HangupCause", "HangupCauseName", "ErrorCode"),
	}
	if u.CallID == "" {
		return u, errors.New("status callback without " + p.callID)
	}
	if d := firstOf(params, "CallDuration", "Duration"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 {
			return u, fmt.Errorf("status callback duration %q: not a whole number", d)
		}
		u.DurationSeconds = n
	}
	switch u.Status {
	case "completed", "busy", "failed", "no-answer", "canceled", "timeout", "cancel":
		u.Final = true
	}
	if p.name == "plivo" && r.URL.Path == "/plivo/hangup" {
		u.Final = true
		if u.Status == "" {
			u.Status = "completed"
		}
	}
	return u, nil
}

// releaseNonce gives the request's nonce back before a 503, so the
// provider's retry of it is not refused as a replay.
func releaseNonce(r *http.Request, logger *slog.Logger) {
	if err := auth.ReleaseNonce(r.Context()); err != nil {
		logger.Warn("nonce not released; a retry with the same nonce will be refused",
			slog.String("request_id", info(r.Context()).id), slog.String("error", err.Error()))
	}
}

func firstOf(v url.Values, names ...string) string {
	for _, n := range names {
		if s := v.Get(n); s != "" {
			return s
		}
	}
	return ""
}

// handleMessage answers an SMS with the flow's keyword reply and keeps both
// messages. A refused or unanswerable message gets an empty document.
func handleMessage(p *provider, flows *ivr.Source, db *store.DB, urls auth.URLResolver, fail failer, metrics *Metrics) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		params := auth.Params(r.Context())
		in := store.Message{
			Provider: p.name, ID: params.Get(p.messageID), Direction: "in",
			From: params.Get("From"), To: params.Get("To"), Text: params.Get(p.messageText), At: time.Now().UTC(),
		}
		res, err := flows.Flow().Reply(ivr.SMS{From: in.From, To: in.To, Text: in.Text, Now: in.At})
		if err != nil {
			fail.quiet(w, r, "flow", err)
			return
		}
		body, err := p.render(voiceBase(urls, r, "/"+p.name+"/voice"), res.Steps)
		if err != nil {
			fail.quiet(w, r, "render", err)
			return
		}
		msgs := []store.Message{in}
		for _, s := range res.Steps {
			if m, ok := s.(ivr.Message); ok {
				msgs = append(msgs, store.Message{Provider: p.name, ID: in.ID, Direction: "out", From: in.To, To: in.From, Text: m.Text, At: in.At})
			}
		}
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		for _, m := range msgs {
			if err := db.AddMessage(ctx, m); err != nil {
				metrics.StoreError.WithLabelValues("add_message").Inc()
				info(r.Context()).outcome = "store_error"
				releaseNonce(r, fail.logger)
				http.Error(w, "message not stored, retry later", http.StatusServiceUnavailable)
				return
			}
		}
		w.Header().Set("Content-Type", p.contentType)
		w.Write(body)
	})
}

// handleHealthz says the process is up.
func handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
}

// handleReadyz says whether calls can be answered: a flow is loaded and the
// store is reachable (or its writer is buffering for it), and the process is
// not shutting down (draining, when draining is not nil).
func handleReadyz(flows *ivr.Source, db *store.DB, events *store.Writer, draining func() bool) http.Handler {
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
