package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/ivr-project/ivr/internal/clip"
	"github.com/ivr-project/ivr/internal/store"
)

// The voicemail inbox: every recording with its caller, time, duration and
// menu; played in the page through /admin/voicemails/{id}/audio, which
// fetches the recording from the provider with the account's credentials
// from the environment (they never reach the browser); marked handled or
// not.

type voicemailsView struct {
	Handled    string // "", "yes", "no"
	Search     string // q: words in the transcript or the caller's number
	Error      string
	Voicemails []store.Voicemail
}

// HandleVoicemailsPage serves GET /admin/voicemails?handled=yes|no.
func HandleVoicemailsPage(a *Admin) http.Handler {
	tmpl := a.page("voicemails.html")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := voicemailsView{Handled: r.URL.Query().Get("handled"), Search: r.URL.Query().Get("q")}
		f, err := voicemailFilter(r.URL.Query())
		if err != nil {
			v.Error = err.Error()
			a.renderStatus(w, r, tmpl, http.StatusBadRequest, "voicemails", v)
			return
		}
		if f.Limit == 0 {
			f.Limit = 200
		}
		vms, err := a.d.Store.ListVoicemails(r.Context(), f)
		if err != nil {
			a.fail(w, r, pageFailure(kindStore, "Store unavailable", "The voicemails could not be read: "+err.Error()))
			return
		}
		v.Voicemails = vms
		a.render(w, r, tmpl, "voicemails", v)
	})
}

// voicemailFilter reads the inbox's query: handled (yes, no or empty: all),
// q (text the transcript or the caller's number contains) and limit.
func voicemailFilter(q url.Values) (store.VoicemailFilter, error) {
	f := store.VoicemailFilter{Handled: strings.TrimSpace(q.Get("handled")), Search: clip.Runes(strings.TrimSpace(q.Get("q")), 100)}
	switch f.Handled {
	case "", "yes", "no":
	default:
		return f, fmt.Errorf("handled: write yes, no or leave it out for all (got %q)", clip.Line(f.Handled, 40))
	}
	limit, err := queryLimit(q)
	f.Limit = limit
	return f, err
}

// HandleAPIVoicemails answers GET /admin/api/voicemails?handled=yes|no&q=TEXT&limit=N.
func HandleAPIVoicemails(db *store.DB) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := voicemailFilter(r.URL.Query())
		if err != nil {
			apiFail(w, failure(kindBadRequest, err.Error()))
			return
		}
		vms, err := db.ListVoicemails(r.Context(), f)
		if err != nil {
			apiFail(w, failure(kindStore, err.Error()+": try again shortly"))
			return
		}
		writeJSON(w, http.StatusOK, struct {
			Voicemails []store.Voicemail `json:"voicemails"`
		}{vms})
	})
}

// HandleVoicemailHandled serves POST /admin/voicemails/{id}/handled with
// handled=yes|no; a form gets redirected back to the inbox (keeping its
// filter), an API client gets 204.
func HandleVoicemailHandled(db *store.DB) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
		handled := r.PostFormValue("handled")
		if err != nil || (handled != "yes" && handled != "no") {
			apiFail(w, failure(kindBadRequest, "give a voicemail id and handled=yes or handled=no"))
			return
		}
		if err := db.SetVoicemailHandled(r.Context(), id, handled == "yes"); err != nil {
			apiFail(w, storeFailure("voicemail not marked", err)) // not found: 404
			return
		}
		if bearer, _ := r.Context().Value(bearerKey{}).(bool); bearer {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		back := "/admin/voicemails"
		if f := r.PostFormValue("filter"); f == "yes" || f == "no" {
			back += "?handled=" + f
		}
		http.Redirect(w, r, back, http.StatusSeeOther)
	})
}

// recordings fetches voicemail audio from the providers.
type recordings struct {
	client *http.Client
	// allowed says whether the admin may fetch u for provider: only the
	// providers' own media hosts, so a stored URL cannot make the server
	// fetch anything else (tests widen it).
	allowed func(provider string, u *url.URL) bool
	// credentials returns the basic-auth user and password for u ("" = none).
	credentials func(provider string, u *url.URL) (user, pass string)
}

// maxRecordingBytes caps a proxied recording (an hour of MP3 is ~60 MiB).
const maxRecordingBytes = 100 << 20

func newRecordings(twilioToken, plivoToken string) *recordings {
	rec := &recordings{
		allowed: providerMediaHost,
		credentials: func(provider string, u *url.URL) (string, string) {
			switch {
			case provider == "twilio" && twilioToken != "":
				return pathAfter(u.Path, "Accounts"), twilioToken
			case provider == "plivo" && plivoToken != "":
				return pathAfter(u.Path, "Account"), plivoToken
			}
			return "", ""
		},
	}
	rec.client = &http.Client{
		Timeout: 60 * time.Second,
		// Every hop is checked again as the first was (the provider's
		// media hosts on 443), and no Referer tells the next host where
		// the request came from.
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			req.Header.Del("Referer")
			provider, _ := req.Context().Value(providerKey{}).(string)
			if len(via) > 5 || !rec.allowed(provider, req.URL) {
				return errors.New("recording redirect refused: not to the provider's media host, or too many")
			}
			return nil // net/http drops Authorization on a redirect to another host
		},
	}
	return rec
}

type providerKey struct{}

// withProvider marks a recording request's context with the provider whose
// media hosts its redirects may go to.
func withProvider(ctx context.Context, provider string) context.Context {
	return context.WithValue(ctx, providerKey{}, provider)
}

// mediaHosts are the providers' recording hosts, served on 443 only.
// Twilio's include the regional REST API hosts, api.{edge}.{region}.twilio.com,
// each edge with its region as Twilio's SDKs pair them (an account in the
// Ireland region gets its recording URLs on api.dublin.ie1.twilio.com).
var mediaHosts = map[string][]string{
	"twilio": {"api.twilio.com", "media.twiliocdn.com",
		"api.sydney.au1.twilio.com", "api.sao-paulo.br1.twilio.com", "api.frankfurt.de1.twilio.com",
		"api.dublin.ie1.twilio.com", "api.tokyo.jp1.twilio.com", "api.osaka.jp2.twilio.com",
		"api.singapore.sg1.twilio.com", "api.ashburn.us1.twilio.com", "api.umatilla.us2.twilio.com"},
	"plivo": {"media.plivo.com", "api.plivo.com"},
}

// providerMediaHost accepts https URLs on Twilio's or Plivo's recording
// hosts (mediaHosts), on port 443: not any name under the provider's
// domain, and not another port.
func providerMediaHost(provider string, u *url.URL) bool {
	if u.Scheme != "https" || (u.Port() != "" && u.Port() != "443") || u.User != nil {
		return false
	}
	return slices.Contains(mediaHosts[provider], strings.ToLower(u.Hostname()))
}

// pathAfter is the path segment after name: the account in a recording
// URL, Twilio's /2010-04-01/Accounts/AC.../Recordings/RE... (the account
// SID) or Plivo's /v1/Account/MA.../Recording/... (the auth id).
func pathAfter(p, name string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if s == name && i+1 < len(parts) {
			return parts[i+1]
		}
	}
	return ""
}

// HandleVoicemailAudio serves GET /admin/voicemails/{id}/audio: the
// recording, fetched from the provider.
func HandleVoicemailAudio(a *Admin) http.Handler {
	db, rec, logger := a.d.Store, a.recordings, a.d.Logger
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
		if err != nil {
			a.fail(w, r, failure(kindNotFound, "no such voicemail"))
			return
		}
		vm, err := db.GetVoicemail(r.Context(), id)
		if err != nil {
			a.fail(w, r, failure(kindNotFound, "no such voicemail"))
			return
		}
		u, err := url.Parse(vm.URL)
		if err != nil || !rec.allowed(vm.Provider, u) {
			a.fail(w, r, failure(kindUpstream, "this recording's URL is not on the provider's media host; open it from the provider's console"))
			return
		}
		if vm.Provider == "twilio" && path.Ext(u.Path) == "" {
			u.Path += ".mp3" // Twilio serves WAV without an extension; MP3 is a tenth of it
		}
		ctx, cancel := context.WithTimeout(withProvider(r.Context(), vm.Provider), 60*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			a.fail(w, r, failure(kindUpstream, "recording URL unusable"))
			return
		}
		if user, pass := rec.credentials(vm.Provider, u); user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := rec.client.Do(req)
		if err != nil {
			logger.Warn("voicemail recording not fetched", slog.Int64("voicemail", id), slog.String("call_id", vm.CallID), slog.String("error", err.Error()))
			a.fail(w, r, failure(kindUpstream, "the provider did not answer for this recording; try again"))
			return
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			logger.Warn("voicemail recording refused by the provider", slog.Int64("voicemail", id), slog.String("call_id", vm.CallID), slog.Int("status", resp.StatusCode))
			a.fail(w, r, failure(kindUpstream, fmt.Sprintf("the provider answered %d for this recording (check %s_AUTH_TOKEN)", resp.StatusCode, strings.ToUpper(vm.Provider))))
			return
		}
		ct := resp.Header.Get("Content-Type")
		if !strings.HasPrefix(ct, "audio/") {
			ct = "audio/mpeg"
		}
		w.Header().Set("Content-Type", ct)
		if n := resp.Header.Get("Content-Length"); n != "" {
			w.Header().Set("Content-Length", n)
		}
		io.Copy(w, io.LimitReader(resp.Body, maxRecordingBytes))
	})
}

func firstToken(tokens []string) string {
	if len(tokens) == 0 {
		return ""
	}
	return tokens[0]
}
