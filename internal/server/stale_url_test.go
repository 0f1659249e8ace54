package server

import (
	"net/http"
	"strings"
	"testing"

	"github.com/ivr-project/ivr/internal/auth"
	"github.com/ivr-project/ivr/internal/testutil"
)

// signedFor builds a provider request signed for the absolute URL full, as
// it arrives on this server (origin-form path, the given Host).
func signedFor(p, full, host string) *http.Request {
	i := strings.Index(full[len("https://"):], "/") + len("https://")
	r := signedRequest(p, testToken(p), full[:i], http.MethodPost, full[i:], callForm(p))
	r.Host = host
	return r
}

// When IVR_PUBLIC_URL is stale (a restarted free ngrok tunnel has a new
// host), the signature-mismatch log says the signature matches the URL the
// request arrived on (its Host, or a trusted X-Forwarded-Host), and names it.
func TestStalePublicURLDiagnosis(t *testing.T) {
	for _, p := range []string{"twilio", "plivo"} {
		for _, trust := range []bool{false, true} {
			var logs testutil.Buffer
			a := newTestApp(t, withLogTo(&logs), func(d *Deps) {
				d.Config.PublicURL = "https://old-tunnel.ngrok.app"
				d.Config.TrustProxy = trust
			})
			r := signedFor(p, "https://new-tunnel.ngrok.app/"+p+"/voice", "new-tunnel.ngrok.app")
			if trust { // behind a proxy: the request's Host is local, the public host is forwarded
				r.Host = "127.0.0.1:8080"
				r.Header.Set("X-Forwarded-Host", "new-tunnel.ngrok.app")
				r.Header.Set("X-Forwarded-Proto", "https")
			}
			assertFallback(t, p, a.serve(r))
			out := logs.String()
			for _, want := range []string{"matches the URL the request arrived on", `https://new-tunnel.ngrok.app/` + p + `/voice`, `set IVR_PUBLIC_URL to \"https://new-tunnel.ngrok.app\"`} {
				if !strings.Contains(out, want) {
					t.Errorf("%s (trust proxy %v): the log does not say %q:\n%s", p, trust, want, out)
				}
			}
		}
	}
}

// A live public URL (the ngrok agent's tunnel) replaces IVR_PUBLIC_URL's
// value as soon as it changes, without a restart.
func TestLivePublicURLFollowsTheTunnel(t *testing.T) {
	for _, p := range []string{"twilio", "plivo"} {
		live := &auth.LiveBase{}
		live.Store("https://first.ngrok.app")
		a := newTestApp(t, func(d *Deps) { d.Config.PublicURL = "https://first.ngrok.app"; d.LivePublicURL = live })
		assertMenu(t, a.serve(signedFor(p, "https://first.ngrok.app/"+p+"/voice", "first.ngrok.app")))
		live.Store("https://second.ngrok.app")
		assertMenu(t, a.serve(signedFor(p, "https://second.ngrok.app/"+p+"/voice", "second.ngrok.app")))
		assertFallback(t, p, a.serve(signedFor(p, "https://first.ngrok.app/"+p+"/voice", "first.ngrok.app")))
	}
}
