// Package server is the HTTP layer: every route (routes.go), the middleware
// order, the handlers, and the fallback rule: whatever goes wrong on a voice
// route, the answer is HTTP 200 with the provider's apology-and-dial XML.
package server

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/ivr-project/ivr/internal/auth"
	"github.com/ivr-project/ivr/internal/buildinfo"
	"github.com/ivr-project/ivr/internal/config"
	"github.com/ivr-project/ivr/internal/httpobs"
	"github.com/ivr-project/ivr/internal/ivr"
	"github.com/ivr-project/ivr/internal/lookup"
	"github.com/ivr-project/ivr/internal/publish"
	"github.com/ivr-project/ivr/internal/seal"
	"github.com/ivr-project/ivr/internal/store"
	"github.com/ivr-project/ivr/internal/xml"
)

// Deps is everything the HTTP layer needs, passed in explicitly.
type Deps struct {
	Config config.Config
	Logger *slog.Logger
	Flows  *ivr.Source
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
	twilio, plivo, err := newProviders(xml.FallbackConfig{
		Text:     d.Config.FallbackText,
		Voice:    d.Config.FallbackVoice,
		Language: d.Config.FallbackLanguage,
		Number:   d.Config.CallCenter,
	})
	if err != nil {
		return nil, fmt.Errorf("render fallback: %w", err)
	}
	if d.Render != nil {
		for _, p := range []*provider{twilio, plivo} {
			name := p.Provider
			p.render = func(base string, steps []ivr.Step) ([]byte, error) { return d.Render(name, base, steps) }
		}
	}
	lk, err := newLookups(d)
	if err != nil {
		return nil, err
	}
	r := chi.NewRouter()
	addRoutes(r, deps{Deps: d, tokens: signingTokens(d.Config), lookups: lk}, twilio, plivo)
	return r, nil
}

// deps is Deps plus what New derives from it.
type deps struct {
	Deps
	tokens  tokens
	lookups *lookups
}

// newLookups builds the voice routes' lookup runner from d.
func newLookups(d Deps) (*lookups, error) {
	client := d.Lookups
	if client == nil {
		client = lookup.New(lookup.Options{Logger: d.Logger, OnBreaker: func(request, _, to string) {
			d.Metrics.Breakers.WithLabelValues(request, to).Inc()
		}})
	}
	sealer := d.Sealer
	if sealer == nil {
		var err error
		if d.Config.StateKey != nil {
			sealer, err = seal.New(d.Config.StateKey)
		} else if d.Config.Production {
			err = errors.New("production: set IVR_STATE_KEY")
		} else {
			d.Logger.Info("IVR_STATE_KEY is not set: call state is sealed with a key made for this process " +
				"(calls in progress do not survive a restart or move to another instance; production mode requires the key)")
			sealer, err = seal.NewRandom()
		}
		if err != nil {
			return nil, fmt.Errorf("state key: %w", err)
		}
	}
	lk := &lookups{client: client, metrics: d.Metrics, logger: d.Logger, sealer: sealer,
		budget: lookupBudget(d.Config.VoiceDeadline)}
	if d.Config.Secrets != nil {
		lk.secrets = d.Config.Secrets.Get
	}
	if !d.Config.Production {
		lk.demoAPI = strings.TrimRight(d.DemoAPI, "/")
	}
	return lk, nil
}

// tokens are the auth tokens each provider's routes verify with. A provider
// with no token configured gets a random in-process secret instead: nothing
// from outside can sign with it (its routes accept nothing, as the contract
// says), while the admin "Try it" can still play calls through the real
// signed path. It is never printed.
type tokens struct {
	twilio, twilioSecondary, plivo string
}

func signingTokens(cfg config.Config) tokens {
	t := tokens{twilio: randomToken(), plivo: randomToken()}
	if len(cfg.TwilioTokens) > 0 {
		t.twilio = cfg.TwilioTokens[0]
	}
	if len(cfg.TwilioTokens) > 1 {
		t.twilioSecondary = cfg.TwilioTokens[1]
	}
	if cfg.PlivoToken != "" {
		t.plivo = cfg.PlivoToken
	}
	return t
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}
