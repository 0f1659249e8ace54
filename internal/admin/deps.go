// Package admin is the admin side of the HTTP layer: the UI and its JSON
// API under /admin (sessions, CSRF, lockout, pages, the flow API, Try,
// insights, voicemails, webhooks). Its routes are registered by the server's
// routes.go; it gets everything it needs in Deps.
package admin

import (
	"log/slog"
	"net/http"
	"net/url"

	"github.com/ivr-project/ivr/internal/auth"
	"github.com/ivr-project/ivr/internal/config"
	"github.com/ivr-project/ivr/internal/httpobs"
	"github.com/ivr-project/ivr/internal/publish"
	"github.com/ivr-project/ivr/internal/store"
	"github.com/ivr-project/ivr/internal/voice"
)

// Deps is everything the admin side needs, passed in by the server.
type Deps struct {
	Config    config.Config
	Logger    *slog.Logger
	Flows     *publish.Source
	Publisher *publish.Service
	Store     *store.DB
	Events    *store.Writer
	Failures  *store.FailureCounter // nil: only the in-memory metrics count failures
	Metrics   *httpobs.Metrics
	// LivePublicURL is the ngrok tunnel's public URL when it may change (nil: Config.PublicURL).
	LivePublicURL *auth.LiveBase
	// MediaClient and MediaAllowed fetch voicemail recordings (nil: a client
	// with a timeout, and only the providers' own media hosts).
	MediaClient  *http.Client
	MediaAllowed func(provider string, u *url.URL) bool

	// Voice serves the provider routes (/twilio/..., /plivo/...) and nothing
	// else, as a provider reaches them: Try sends its signed requests
	// through it, middleware and all.
	Voice http.Handler
	// Tokens sign the Try page's calls as the provider routes verify them.
	Tokens voice.Tokens
	// Providers are the enabled providers, by name: Try plays calls on these only.
	Providers map[string]*voice.Provider
	// Outbound places callbacks' calls through the providers' REST APIs
	// (nil: "Call back" answers that outbound calls are not configured).
	Outbound Placer
}
