package server

import (
	"net/http"
	"net/netip"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/ivr-project/ivr/internal/auth"
	"github.com/ivr-project/ivr/internal/guard"
)

// addRoutes lists every route of the application. Read this file to know
// what the service exposes; the README's "Routes" section is the outside view.
func addRoutes(r chi.Router, d deps, twilio, plivo *provider) {
	cfg := d.Config
	urls := auth.URLResolver{PublicBase: cfg.PublicURL, TrustProxy: cfg.TrustProxy}

	// Operators.
	r.Method(http.MethodGet, "/healthz", handleHealthz())
	r.Method(http.MethodGet, "/readyz", handleReadyz(d.Flows, d.Store, d.Events, d.Draining))
	r.Method(http.MethodGet, "/metrics", d.Metrics.Handler())

	// The demo API the example flow's lookups ask (local mode only).
	if !cfg.Production {
		r.Method(http.MethodGet, "/demo/accounts/{id}", handleDemoAccount())
		r.Method(http.MethodPost, "/demo/callbacks", handleDemoCallback())
	}

	// Twilio. Middleware order: count -> recover -> allowlist -> basic auth -> signature.
	tf := failer{p: twilio, logger: d.Logger, metrics: d.Metrics, noToken: len(cfg.TwilioTokens) == 0, failures: d.Failures, events: d.Events}
	r.Route("/twilio", func(r chi.Router) {
		r.Use(observe(d.Metrics, "twilio"), tf.recoverer)
		r.Use(providerGuards(cfg.TwilioAllow, cfg.TrustedProxies, cfg.TwilioBasicUser, cfg.TwilioBasicPass, "twilio", tf)...)
		r.Group(func(r chi.Router) {
			r.Use(auth.TwilioMiddleware(auth.TwilioConfig{AuthToken: d.tokens.twilio, SecondaryAuthToken: d.tokens.twilioSecondary, URL: urls}, tf.authFailure))
			voice := tf.deadline(cfg.VoiceDeadline)(handleVoice(twilio, d.Flows, d.Events, urls, d.lookups, tf, d.Logger))
			r.Method(http.MethodGet, "/voice", voice)
			r.Method(http.MethodPost, "/voice", voice)
			r.Method(http.MethodGet, "/voice/menu/{id}", voice)
			r.Method(http.MethodPost, "/voice/menu/{id}", voice)
			r.Method(http.MethodGet, "/voice/*", voice) // the app's own action URLs (dial-done, voicemail-done, ...)
			r.Method(http.MethodPost, "/voice/*", voice)
			r.Method(http.MethodPost, "/status", handleStatus(twilio, d.Store, tf, d.Metrics, d.Logger))
			r.Method(http.MethodPost, "/message", handleMessage(twilio, d.Flows, d.Store, urls, tf, d.Metrics))
		})
		r.NotFound(func(w http.ResponseWriter, r *http.Request) { tf.byRoute(w, r, "not_found", nil) })
		r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) { tf.byRoute(w, r, "method_not_allowed", nil) })
	})

	// Plivo: V3 signatures on voice and hangup, V2 on messages.
	pf := failer{p: plivo, logger: d.Logger, metrics: d.Metrics, noToken: cfg.PlivoToken == "", failures: d.Failures, events: d.Events}
	plivoAuth := auth.PlivoConfig{AuthToken: d.tokens.plivo, MasterAuthToken: cfg.PlivoMasterToken, URL: urls, Nonces: d.Nonces, NonceTTL: 15 * time.Minute}
	r.Route("/plivo", func(r chi.Router) {
		r.Use(observe(d.Metrics, "plivo"), pf.recoverer)
		r.Use(providerGuards(cfg.PlivoAllow, cfg.TrustedProxies, cfg.PlivoBasicUser, cfg.PlivoBasicPass, "plivo", pf)...)
		r.Group(func(r chi.Router) {
			r.Use(auth.PlivoV3Middleware(plivoAuth, pf.authFailure))
			voice := pf.deadline(cfg.VoiceDeadline)(handleVoice(plivo, d.Flows, d.Events, urls, d.lookups, pf, d.Logger))
			r.Method(http.MethodGet, "/voice", voice)
			r.Method(http.MethodPost, "/voice", voice)
			r.Method(http.MethodGet, "/voice/menu/{id}", voice)
			r.Method(http.MethodPost, "/voice/menu/{id}", voice)
			r.Method(http.MethodGet, "/voice/*", voice)
			r.Method(http.MethodPost, "/voice/*", voice)
			r.Method(http.MethodPost, "/hangup", handleStatus(plivo, d.Store, pf, d.Metrics, d.Logger))
		})
		r.With(auth.PlivoV2Middleware(plivoAuth, pf.authFailure)).
			Method(http.MethodPost, "/message", handleMessage(plivo, d.Flows, d.Store, urls, pf, d.Metrics))
		r.NotFound(func(w http.ResponseWriter, r *http.Request) { pf.byRoute(w, r, "not_found", nil) })
		r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) { pf.byRoute(w, r, "method_not_allowed", nil) })
	})

	// People: the admin UI and its JSON API, behind IVR_ADMIN_TOKEN.
	r.Route("/admin", func(r chi.Router) {
		r.Use(observe(d.Metrics, "admin"))
		addAdminRoutes(r, d.Deps, d.tokens, map[string]*provider{"twilio": twilio, "plivo": plivo})
	})
}

// providerGuards are the optional checks before the signature: the address
// allowlist (refused with the fallback) and HTTP basic auth (a 401 challenge
// the provider answers with the credentials from the webhook URL).
func providerGuards(allow, trusted []netip.Prefix, user, pass, realm string, f failer) []func(http.Handler) http.Handler {
	var mws []func(http.Handler) http.Handler
	if len(allow) > 0 {
		mws = append(mws, guard.Allow(allow, trusted, func(w http.ResponseWriter, r *http.Request, reason string) {
			f.refused(reason)
			f.byRoute(w, r, reason, nil)
		}))
	}
	if user != "" {
		mws = append(mws, guard.BasicAuth(user, pass, realm))
	}
	return mws
}
