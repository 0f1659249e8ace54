package server

import (
	"context"
	"net/http"
	"net/netip"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/ivr-project/ivr/internal/admin"
	"github.com/ivr-project/ivr/internal/auth"
	"github.com/ivr-project/ivr/internal/guard"
	"github.com/ivr-project/ivr/internal/httpobs"
	"github.com/ivr-project/ivr/internal/ivr"
	"github.com/ivr-project/ivr/internal/voice"
)

// addRoutes lists every route of the application. Read this file to know
// what the service exposes; the README's "Routes" section is the outside view.
func addRoutes(r chi.Router, d deps, twilio, plivo *voice.Provider) {
	cfg := d.Config
	urls := auth.URLResolver{PublicBase: cfg.PublicURL, TrustProxy: cfg.TrustProxy, Live: d.LivePublicURL}
	tf := voice.NewFailer(twilio, d.Logger, d.Metrics, len(cfg.TwilioTokens) == 0, d.Failures, d.Events)
	pf := voice.NewFailer(plivo, d.Logger, d.Metrics, cfg.PlivoToken == "", d.Failures, d.Events)
	// Each provider's tree exists only when IVR_PROVIDERS enables it.
	twilioOn, plivoOn := voice.ProviderEnabled(cfg, "twilio"), voice.ProviderEnabled(cfg, "plivo")

	// Webhook URLs as people paste them: "//twilio/voice" routes as
	// "/twilio/voice" (the signature is checked against the raw URI), and a
	// request signed by an enabled provider outside that provider's tree
	// gets its fallback, never a plain 404/405.
	elsewhere := map[string]http.Handler{}
	if twilioOn {
		elsewhere["twilio"] = voice.SignedElsewhere(tf, d.Metrics)
	}
	if plivoOn {
		elsewhere["plivo"] = voice.SignedElsewhere(pf, d.Metrics)
	}
	r.Use(voice.CleanSlashes, voice.RouteSigned(elsewhere))

	// Operators.
	r.Method(http.MethodGet, "/healthz", voice.HandleHealthz(d.Build))
	r.Method(http.MethodGet, "/readyz", voice.HandleReadyz(d.Flows, d.Store, d.Events, d.Draining))
	r.Method(http.MethodGet, "/metrics", d.Metrics.Handler())

	// The demo API the example flow's lookups ask (local mode only).
	if !cfg.Production {
		r.Method(http.MethodGet, "/demo/accounts/{id}", voice.HandleDemoAccount())
		r.Method(http.MethodPost, "/demo/callbacks", voice.HandleDemoCallback())
	}

	// The provider side, mounted here and, for the admin's Try, in a router
	// of its own that holds nothing else.
	voiceSide := chi.NewRouter()
	if twilioOn {
		voiceSide.Mount("/twilio", r.Route("/twilio", twilioRoutes(d, twilio, tf, urls)))
	}
	if plivoOn {
		voiceSide.Mount("/plivo", r.Route("/plivo", plivoRoutes(d, plivo, pf, urls)))
	}

	// People: the admin UI and its JSON API, behind IVR_ADMIN_TOKEN. Its
	// "Try it" plays calls on the enabled providers only.
	enabled := map[string]*voice.Provider{}
	if twilioOn {
		enabled["twilio"] = twilio
	}
	if plivoOn {
		enabled["plivo"] = plivo
	}
	a := admin.New(admin.Deps{Config: cfg, Logger: d.Logger, Flows: d.Flows, Publisher: d.Publisher, Store: d.Store,
		Events: d.Events, Failures: d.Failures, Metrics: d.Metrics, LivePublicURL: d.LivePublicURL,
		MediaClient: d.MediaClient, MediaAllowed: d.MediaAllowed, Tokens: d.tokens, Providers: enabled, Outbound: d.Outbound,
		Voice: routedAlone(voiceSide)}) // Try plays calls through the provider routes
	r.Route("/admin", adminRoutes(d, a))
}

// twilioRoutes is /twilio/... Middleware order: count -> recover -> probes ->
// allowlist -> basic auth -> signature.
func twilioRoutes(d deps, twilio *voice.Provider, tf voice.Failer, urls auth.URLResolver) func(chi.Router) {
	cfg := d.Config
	return func(r chi.Router) {
		r.Use(httpobs.Observe(d.Metrics, "twilio"), tf.Recoverer, voice.Probes(twilio, d.Logger))
		r.Use(providerGuards(cfg.TwilioAllow, cfg.TrustedProxies, cfg.TwilioBasicUser, cfg.TwilioBasicPass, "twilio", tf)...)
		r.Group(func(r chi.Router) {
			r.Use(auth.TwilioMiddleware(auth.TwilioConfig{AuthToken: d.tokens.Twilio, SecondaryAuthToken: d.tokens.TwilioSecondary, URL: urls, LeavePostForm: true}, tf.AuthFailure))
			vh := tf.Deadline(cfg.VoiceDeadline)(voice.HandleVoice(twilio, d.Flows, d.Events, d.Store, urls, d.lookups, tf, d.Logger))
			r.Method(http.MethodGet, "/voice", vh)
			r.Method(http.MethodPost, "/voice", vh)
			r.Method(http.MethodGet, "/voice/menu/{id}", vh)
			r.Method(http.MethodPost, "/voice/menu/{id}", vh)
			r.Method(http.MethodGet, "/voice/*", vh) // the app's own action URLs (dial-done, voicemail-done, whisper, ...)
			r.Method(http.MethodPost, "/voice/*", vh)
			// A callback's outbound call: the agent's answer URL, the dial's outcome, its status callback.
			r.Method(http.MethodPost, "/voice/callback/{step}", voice.HandleCallbackLeg(twilio, d.Store, cfg.CallbackFrom, urls, tf))
			r.Method(http.MethodPost, "/voice/"+ivr.PathTranscription, voice.HandleTranscription(twilio, d.Store, tf, d.Metrics, d.Logger))
			r.Method(http.MethodPost, "/status", voice.HandleStatus(twilio, d.Store, d.Events, tf, d.Metrics, d.Logger))
			r.Method(http.MethodPost, "/message", voice.HandleMessage(twilio, d.Flows, d.Store, urls, tf, d.Metrics))
		})
		r.NotFound(func(w http.ResponseWriter, r *http.Request) { tf.ByRoute(w, r, "not_found", nil) })
		r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) { tf.ByRoute(w, r, "method_not_allowed", nil) })
	}
}

// plivoRoutes is /plivo/...: V3 signatures on voice and hangup, V2 on
// messages; the middleware order is Twilio's.
func plivoRoutes(d deps, plivo *voice.Provider, pf voice.Failer, urls auth.URLResolver) func(chi.Router) {
	cfg := d.Config
	plivoAuth := auth.PlivoConfig{AuthToken: d.tokens.Plivo, MasterAuthToken: cfg.PlivoMasterToken, URL: urls, Nonces: d.Nonces, NonceTTL: 15 * time.Minute, LeavePostForm: true}
	return func(r chi.Router) {
		r.Use(httpobs.Observe(d.Metrics, "plivo"), pf.Recoverer, voice.Probes(plivo, d.Logger))
		r.Use(providerGuards(cfg.PlivoAllow, cfg.TrustedProxies, cfg.PlivoBasicUser, cfg.PlivoBasicPass, "plivo", pf)...)
		r.Group(func(r chi.Router) {
			r.Use(auth.PlivoV3Middleware(plivoAuth, pf.AuthFailure))
			vh := pf.Deadline(cfg.VoiceDeadline)(voice.HandleVoice(plivo, d.Flows, d.Events, d.Store, urls, d.lookups, pf, d.Logger))
			r.Method(http.MethodGet, "/voice", vh)
			r.Method(http.MethodPost, "/voice", vh)
			r.Method(http.MethodGet, "/voice/menu/{id}", vh)
			r.Method(http.MethodPost, "/voice/menu/{id}", vh)
			r.Method(http.MethodGet, "/voice/*", vh)
			r.Method(http.MethodPost, "/voice/*", vh)
			r.Method(http.MethodPost, "/voice/callback/{step}", voice.HandleCallbackLeg(plivo, d.Store, cfg.CallbackFrom, urls, pf))
			r.Method(http.MethodPost, "/voice/"+ivr.PathTranscription, voice.HandleTranscription(plivo, d.Store, pf, d.Metrics, d.Logger))
			r.Method(http.MethodPost, "/hangup", voice.HandleStatus(plivo, d.Store, d.Events, pf, d.Metrics, d.Logger))
		})
		r.With(auth.PlivoV2Middleware(plivoAuth, pf.AuthFailure)).
			Method(http.MethodPost, "/message", voice.HandleMessage(plivo, d.Flows, d.Store, urls, pf, d.Metrics))
		r.NotFound(func(w http.ResponseWriter, r *http.Request) { pf.ByRoute(w, r, "not_found", nil) })
		r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) { pf.ByRoute(w, r, "method_not_allowed", nil) })
	}
}

// adminRoutes is /admin/... (the UI) and /admin/api/... (JSON).
func adminRoutes(d deps, a *admin.Admin) func(chi.Router) {
	db := d.Store
	return func(r chi.Router) {
		r.Use(httpobs.Observe(d.Metrics, "admin"), admin.Headers, a.LocalOnly)

		// Open to anyone who may see the admin at all (the login page needs CSS).
		r.Method(http.MethodGet, "/static/*", admin.Static())
		r.Method(http.MethodGet, "/login", admin.HandleLoginPage(a))
		r.With(a.CSRF).Method(http.MethodPost, "/login", admin.HandleLogin(a))

		r.Group(func(r chi.Router) {
			r.Use(a.Authenticate)
			r.Method(http.MethodGet, "/", http.RedirectHandler("/admin/flow", http.StatusSeeOther))
			r.Method(http.MethodGet, "/flow", admin.HandleFlowMap(a))
			r.Method(http.MethodGet, "/try", admin.HandleTryPage(a))
			r.Method(http.MethodGet, "/calls", admin.HandleCallsPage(a))
			r.Method(http.MethodGet, "/calls/{provider}/*", admin.HandleCallPage(a)) // a call id may hold "/"
			r.Method(http.MethodGet, "/api/calls", admin.HandleAPICalls(db))
			r.With(a.CSRF).Method(http.MethodPost, "/logout", admin.HandleLogout(a))
			r.With(a.CSRF).Method(http.MethodPost, "/api/try", admin.HandleTry(a))
			// The event webhooks' outbox.
			r.Method(http.MethodGet, "/webhooks", admin.HandleWebhooksPage(a))
			r.Method(http.MethodGet, "/api/webhooks", admin.HandleAPIWebhooks(db))
			r.With(a.CSRF).Method(http.MethodPost, "/webhooks/{id}/retry", admin.HandleWebhookRetry(a))
			// Insights and the voicemail inbox.
			r.Method(http.MethodGet, "/insights", admin.HandleInsightsPage(a))
			r.Method(http.MethodGet, "/api/insights", admin.HandleAPIInsights(db))
			r.Method(http.MethodGet, "/api/insights/compare", admin.HandleAPIInsightsCompare(db))
			r.Method(http.MethodGet, "/api/insights/export", admin.HandleAPIInsightsExport(db))
			r.Method(http.MethodGet, "/voicemails", admin.HandleVoicemailsPage(a))
			r.Method(http.MethodGet, "/api/voicemails", admin.HandleAPIVoicemails(db))
			r.Method(http.MethodGet, "/voicemails/{id}/audio", admin.HandleVoicemailAudio(a))
			r.With(a.CSRF).Method(http.MethodPost, "/voicemails/{id}/handled", admin.HandleVoicemailHandled(db))
			// Callbacks: the requests, "Call back" (an outbound call through the provider's REST API) and done.
			r.Method(http.MethodGet, "/callbacks", admin.HandleCallbacksPage(a))
			r.Method(http.MethodGet, "/api/callbacks", admin.HandleAPICallbacks(db))
			r.With(a.CSRF).Method(http.MethodPost, "/callbacks/{id}/call", admin.HandleCallbackCall(a))
			r.With(a.CSRF).Method(http.MethodPost, "/api/callbacks/{id}/call", admin.HandleCallbackCall(a))
			r.With(a.CSRF).Method(http.MethodPost, "/callbacks/{id}/done", admin.HandleCallbackDone(db))
			r.With(a.CSRF).Method(http.MethodPost, "/api/callbacks/{id}/done", admin.HandleCallbackDone(db))
			// Publishing flows: the live flow, publish, history, diff, rollback, check.
			pub := d.Publisher
			r.Method(http.MethodGet, "/closure", admin.HandleClosurePage(a))
			r.With(a.CSRF).Method(http.MethodPost, "/closure", admin.HandleClosureForm(a))
			r.Method(http.MethodGet, "/api/closure", admin.HandleAPIClosure(d.Flows))
			r.With(a.CSRF).Method(http.MethodPost, "/api/closure", admin.HandleAPISetClosure(pub))
			r.With(a.CSRF).Method(http.MethodDelete, "/api/closure", admin.HandleAPILiftClosure(pub))
			r.Method(http.MethodGet, "/api/flow", admin.HandleAPIFlow(pub))
			r.With(a.CSRF).Method(http.MethodPost, "/api/flow", admin.HandleAPIPublish(pub))
			r.Method(http.MethodGet, "/api/flow/revisions", admin.HandleAPIRevisions(db))
			r.Method(http.MethodGet, "/api/flow/revisions/{n}", admin.HandleAPIRevision(db))
			r.Method(http.MethodGet, "/api/flow/diff", admin.HandleAPIDiff(db))
			r.With(a.CSRF).Method(http.MethodPost, "/api/flow/rollback", admin.HandleAPIRollback(pub))
			r.With(a.CSRF).Method(http.MethodPost, "/api/flow/check", admin.HandleAPICheck(pub))
			r.With(a.CSRF).Method(http.MethodPost, "/api/flow/map", admin.HandleAPIFlowMap(a))
			r.With(a.CSRF).Method(http.MethodPost, "/api/flow/replay", admin.HandleAPIReplay(pub, db))
			r.Method(http.MethodGet, "/flow/edit", admin.HandleEditorPage(a))
		})
		r.NotFound(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "no such admin page", http.StatusNotFound)
		})
	}
}

// routedAlone serves h, a router, in a routing context of its own: the
// admin's Try sends it requests from within an admin route, and h routes
// them from their path's root.
func routedAlone(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), chi.RouteCtxKey, nil)))
	})
}

// providerGuards are the optional checks before the signature: the address
// allowlist (refused with the fallback) and HTTP basic auth (a 401 challenge
// the provider answers with the credentials from the webhook URL).
func providerGuards(allow, trusted []netip.Prefix, user, pass, realm string, f voice.Failer) []func(http.Handler) http.Handler {
	var mws []func(http.Handler) http.Handler
	if len(allow) > 0 {
		mws = append(mws, guard.Allow(allow, trusted, func(w http.ResponseWriter, r *http.Request, reason string) {
			f.Refused(reason)
			f.ByRoute(w, r, reason, nil)
		}))
	}
	if user != "" {
		mws = append(mws, guard.BasicAuth(user, pass, realm))
	}
	return mws
}
