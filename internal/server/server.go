// Package server is the HTTP layer's wiring: New, every route and the
// middleware order (routes.go). The provider side's handlers are in
// internal/voice, the admin side's in internal/admin, what both share to
// observe requests in internal/httpobs.
package server

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/go-chi/chi/v5"

	"github.com/ivr-project/ivr/internal/auth"
	"github.com/ivr-project/ivr/internal/buildinfo"
	"github.com/ivr-project/ivr/internal/config"
	"github.com/ivr-project/ivr/internal/httpobs"
	"github.com/ivr-project/ivr/internal/ivr"
	"github.com/ivr-project/ivr/internal/lookup"
	"github.com/ivr-project/ivr/internal/outbound"
	"github.com/ivr-project/ivr/internal/publish"
	"github.com/ivr-project/ivr/internal/store"
	"github.com/ivr-project/ivr/internal/voice"
	"github.com/ivr-project/ivr/internal/xml"
)

// Deps is everything the HTTP layer needs, passed in explicitly.
type Deps struct {
	Config config.Config
	Logger *slog.Logger
	Flows  *publish.Source
	// Publisher publishes flows and keeps the revisions (nil = one on
	// Flows and Store; the caller runs its Follow to see other instances'
	// publishes).
	Publisher *publish.Service
	Store     *store.DB     // call records; required
	Events    *store.Writer // async queue for flow events in front of Store
	// Failures counts fallbacks and refused requests into the store for the
	// insights (nil: only the in-memory metrics count them).
	Failures *store.FailureCounter
	Nonces   auth.NonceStore
	Metrics  *httpobs.Metrics
	// Draining reports that the process is shutting down: /readyz answers
	// 503 so a load balancer stops sending new calls. nil: never.
	Draining func() bool

	// Build is the running binary's identity for /healthz and the
	// ivr_build_info metric; zero = buildinfo.Read().
	Build buildinfo.Info
	// Lookups performs the flow's HTTP requests; nil = a client of the
	// server's own, counted in Metrics.
	Lookups *lookup.Client
	// Sealer seals the call's variables into the action URLs; nil = one
	// from Config.StateKey, or else a per-process random key.
	Sealer ivr.Sealer
	// DemoAPI is the base URL of this server's /demo routes as the flow's
	// lookups reach it (e.g. "http://127.0.0.1:8080/demo"), the flow's
	// {{demo_api}}; "" = none. Production mode serves no demo.
	DemoAPI string
	// LivePublicURL, when set and not empty, is the public base URL in
	// place of Config.PublicURL: the ngrok agent's tunnel, which may change
	// while the server runs. nil: Config.PublicURL only.
	LivePublicURL *auth.LiveBase

	// MediaClient and MediaAllowed fetch voicemail recordings for the
	// admin's inbox (tests point them at a local server); nil = a client with
	// a timeout, and only the providers' own media hosts.
	MediaClient  *http.Client
	MediaAllowed func(provider string, u *url.URL) bool

	// Outbound places callbacks' calls through the providers' REST APIs;
	// nil = a client on Config's accounts and API URLs.
	Outbound *outbound.Client

	// Render overrides the XML renderers (tests inject failures); nil = xml.Twilio / xml.Plivo.
	Render func(provider, base string, steps []ivr.Step) ([]byte, error)
}

// New returns the whole application as one http.Handler.
func New(d Deps) (http.Handler, error) {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	d.Logger = slog.New(httpobs.CapLogs(d.Logger.Handler())) // what a request sends is logged capped
	if d.Metrics == nil {
		d.Metrics = httpobs.NewMetrics(nil, nil)
	}
	if d.Build == (buildinfo.Info{}) {
		d.Build = buildinfo.Read()
	}
	d.Metrics.RegisterBuild(d.Build)
	if d.Publisher == nil {
		d.Publisher = publish.New(d.Flows, d.Store, d.Logger)
	}
	twilio, plivo, err := voice.NewProviders(xml.FallbackConfig{
		Text:     d.Config.FallbackText,
		Voice:    d.Config.FallbackVoice,
		Language: d.Config.FallbackLanguage,
		Number:   d.Config.CallCenter,
	}, d.Render)
	if err != nil {
		return nil, fmt.Errorf("render fallback: %w", err)
	}
	lk, err := voice.NewLookups(voice.LookupDeps{Config: d.Config, Logger: d.Logger, Metrics: d.Metrics,
		Client: d.Lookups, Sealer: d.Sealer, DemoAPI: d.DemoAPI})
	if err != nil {
		return nil, err
	}
	r := chi.NewRouter()
	if d.Outbound == nil {
		d.Outbound = newOutbound(d.Config)
	}
	addRoutes(r, deps{Deps: d, tokens: voice.SigningTokens(d.Config), lookups: lk}, twilio, plivo)
	return r, nil
}

// newOutbound is the REST client callbacks are placed with: the accounts
// and API URLs of cfg (a provider without its id or token places nothing).
func newOutbound(cfg config.Config) *outbound.Client {
	oc := outbound.Config{TwilioAccountSID: cfg.TwilioAccountSID, TwilioAPIURL: cfg.TwilioAPIURL,
		PlivoAuthID: cfg.PlivoAuthID, PlivoAuthToken: cfg.PlivoToken, PlivoAPIURL: cfg.PlivoAPIURL}
	if len(cfg.TwilioTokens) > 0 {
		oc.TwilioAuthToken = cfg.TwilioTokens[0]
	}
	return outbound.New(oc)
}

// deps is Deps plus what New derives from it.
type deps struct {
	Deps
	tokens  voice.Tokens
	lookups *voice.Lookups
}
