package voice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ivr-project/ivr/internal/auth"
	"github.com/ivr-project/ivr/internal/httpobs"
	"github.com/ivr-project/ivr/internal/store"
)

// HandleTranscription stores a voicemail's transcript: the provider posts
// it to ivr.PathTranscription (Twilio transcribeCallback, Plivo
// transcriptionUrl) minutes after the call, signed like every webhook (the
// route's middleware refused an unsigned one before this runs). The text
// goes on the call's voicemail with a voicemail.transcribed event; a failed
// transcription stores nothing. It answers the provider's empty document
// once stored, and 503 when the store fails, so the provider retries.
func HandleTranscription(p *Provider, db *store.DB, fail Failer, metrics *httpobs.Metrics, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		params, err := transcriptParams(r)
		if err != nil {
			fail.quiet(w, r, "bad_body", err)
			return
		}
		callID, text := params.Get(p.TranscriptCallID), strings.TrimSpace(params.Get(p.Transcript))
		if callID == "" {
			fail.quiet(w, r, "bad_body", fmt.Errorf("transcript callback without %s", p.TranscriptCallID))
			return
		}
		ok := p.TranscriptOK(params.Get(p.TranscriptFailed))
		if ok && text != "" {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
			defer cancel()
			err := db.SetTranscript(ctx, p.Provider, callID, text)
			switch {
			case errors.Is(err, store.ErrNotFound):
				logger.Warn("transcript for a call not on record; dropped", slog.String("provider", p.Provider), slog.String("call_id", callID))
			case err != nil:
				metrics.StoreError.WithLabelValues("set_transcript").Inc()
				httpobs.SetOutcome(r.Context(), "store_error")
				logger.Error("transcript not stored; asking the provider to retry",
					slog.String("provider", p.Provider), slog.String("call_id", callID), slog.String("error", err.Error()))
				releaseNonce(r, logger)
				http.Error(w, "transcript not stored, retry later", http.StatusServiceUnavailable)
				return
			default:
				logger.Info("voicemail transcribed", slog.String("provider", p.Provider), slog.String("call_id", callID), slog.Int("chars", len(text)))
			}
		} else {
			logger.Info("voicemail transcription failed or empty", slog.String("provider", p.Provider), slog.String("call_id", callID))
		}
		w.Header().Set("Content-Type", p.contentType)
		w.Write(p.empty)
	})
}

// transcriptParams are the callback's verified parameters: the form, or a
// JSON body's fields (covered by the signature like the form).
func transcriptParams(r *http.Request) (url.Values, error) {
	params := auth.Params(r.Context())
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		return params, nil
	}
	var m map[string]any
	if err := json.Unmarshal(auth.Body(r.Context()), &m); err != nil {
		return nil, fmt.Errorf("transcript callback JSON: %w", err)
	}
	out := url.Values{}
	for k, v := range m {
		out.Set(k, fmt.Sprint(v))
	}
	return out, nil
}
