package voice

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/ivr-project/ivr/internal/config"
	"github.com/ivr-project/ivr/internal/httpobs"
)

// Webhook URLs as people paste them: a console URL with a doubled slash, a
// path in the wrong case, a probe with HEAD. A provider must never get a
// plain-text 404/405 (it would play its own "application error" to the
// caller); what carries its signature is answered by its rules.

// ProviderEnabled reports whether IVR_PROVIDERS enables name (every provider
// when the configuration does not say).
func ProviderEnabled(cfg config.Config, name string) bool {
	return cfg.Providers == nil || cfg.Providers[name]
}

// CleanSlashes routes a path that differs from ours only by repeated
// slashes ("//twilio/voice", "/twilio/voice//menu/main") as the path they
// collapse to. Only the routing and the handlers see the cleaned path: the
// signature is still checked against the raw request URI (r.RequestURI),
// which is what the provider signed.
func CleanSlashes(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.URL.Path, "//") && !strings.Contains(r.URL.RawPath, "//") {
			next.ServeHTTP(w, r)
			return
		}
		r2 := new(http.Request)
		*r2 = *r
		u := *r.URL
		u.Path, u.RawPath = collapseSlashes(u.Path), collapseSlashes(u.RawPath)
		if raw, err := url.PathUnescape(u.RawPath); u.RawPath != "" && (err != nil || raw != u.Path) {
			u.RawPath = "" // "%2F/" collapsed apart: route on the decoded path
		}
		r2.URL = &u
		next.ServeHTTP(w, r2)
	})
}

// collapseSlashes turns every run of "/" into one.
func collapseSlashes(p string) string {
	if !strings.Contains(p, "//") {
		return p
	}
	var b strings.Builder
	b.Grow(len(p))
	for i := 0; i < len(p); i++ {
		if p[i] == '/' && i > 0 && p[i-1] == '/' {
			continue
		}
		b.WriteByte(p[i])
	}
	return b.String()
}

// signedBy reports whether r carries a signature header of provider.
func signedBy(r *http.Request, provider string) bool {
	h := r.Header
	switch provider {
	case "twilio":
		return h.Get("X-Twilio-Signature") != ""
	case "plivo":
		return h.Get("X-Plivo-Signature-V3") != "" || h.Get("X-Plivo-Signature-Ma-V3") != "" ||
			h.Get("X-Plivo-Signature-V2") != "" || h.Get("X-Plivo-Signature-Ma-V2") != ""
	}
	return false
}

// RouteSigned sends a request signed by an enabled provider (a handler in
// elsewhere) to that handler when its path lies outside the provider's tree
// (/Twilio/voice, /, /healthz, /plivo/voice with only a Twilio signature...).
// A request that also carries the signature of the tree it is in stays
// there. Browsers and monitors never send these headers; everything else
// routes as usual.
func RouteSigned(elsewhere map[string]http.Handler) func(http.Handler) http.Handler {
	names := []string{"twilio", "plivo"}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for _, name := range names {
				if elsewhere[name] != nil && underTree(r.URL.Path, name) && signedBy(r, name) {
					next.ServeHTTP(w, r) // its own tree
					return
				}
			}
			for _, name := range names {
				if h := elsewhere[name]; h != nil && signedBy(r, name) && !underTree(r.URL.Path, name) {
					h.ServeHTTP(w, r)
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

func underTree(path, provider string) bool {
	rest, ok := strings.CutPrefix(path, "/"+provider)
	return ok && (rest == "" || rest[0] == '/')
}

// SignedElsewhere is a provider's answer to a path outside its tree: the
// failure answer of an unknown path (the fallback), counted and logged as
// not_found; HEAD and OPTIONS are probes as in the tree.
func SignedElsewhere(f Failer, m *httpobs.Metrics) http.Handler {
	return chi.Chain(httpobs.Observe(m, f.p.Provider), f.Recoverer, Probes(f.p, f.logger)).
		HandlerFunc(func(w http.ResponseWriter, r *http.Request) { f.ByRoute(w, r, "not_found", nil) })
}

// Probes answers HEAD and OPTIONS on a provider's URLs (an uptime check, a
// browser's preflight, a curl -I) without the signature check: no provider
// sends them, so they are not a call. Nothing is stored or counted as a
// failure, and the log line is at debug level.
func Probes(p *Provider, logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodHead && r.Method != http.MethodOptions {
				next.ServeHTTP(w, r)
				return
			}
			httpobs.SetOutcome(r.Context(), "probe")
			if logger.Enabled(r.Context(), slog.LevelDebug) {
				logger.Debug("webhook probe", slog.String("provider", p.Provider), slog.String("method", r.Method),
					slog.String("path", r.URL.Path), slog.String("request_id", httpobs.RequestID(r.Context())))
			}
			h := w.Header()
			h.Set("Allow", "GET, POST, HEAD, OPTIONS")
			h.Set("Cache-Control", "no-store")
			if r.Method == http.MethodOptions {
				w.WriteHeader(http.StatusNoContent)
				return
			}
			h.Set("Content-Type", p.contentType)
			w.WriteHeader(http.StatusOK)
		})
	}
}
