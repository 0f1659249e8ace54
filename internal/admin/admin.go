package admin

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ivr-project/ivr/internal/guard"
	"github.com/ivr-project/ivr/internal/store"
	"github.com/ivr-project/ivr/internal/voice"
	"github.com/ivr-project/ivr/web"
)

// contentSecurityPolicy: everything from our own origin, no inline script.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'"

// New is the admin's state for the routes: the "Try it" calls are signed
// with the same tokens the signature middleware verifies with (d.Tokens)
// and play on the enabled providers only (d.Providers).
func New(d Deps) *Admin {
	a := newAdmin(d)
	a.tokens = d.Tokens
	a.providers = d.Providers
	a.recordings = newRecordings(firstToken(d.Config.TwilioTokens), d.Config.PlivoToken)
	if d.MediaClient != nil {
		a.recordings.client = d.MediaClient
	}
	if d.MediaAllowed != nil {
		a.recordings.allowed = d.MediaAllowed
	}
	return a
}

// Static serves the admin UI's CSS and scripts, without listings.
func Static() http.Handler {
	static, _ := fs.Sub(web.FS, "static")
	return http.StripPrefix("/admin/static/", noListing(http.FileServerFS(static)))
}

// Admin is the state shared by the admin handlers, fixed at start.
type Admin struct {
	d          Deps
	tokens     voice.Tokens
	providers  map[string]*voice.Provider // parameter names and fallback documents, by name
	token      string
	sessionKey []byte // HMAC key of the session cookie, derived from the token
	secure     bool   // IVR_PUBLIC_URL is https: cookies are always Secure
	publicHost string // IVR_PUBLIC_URL's host, also a valid Origin
	layout     *template.Template
	errors     *template.Template
	recordings *recordings // fetches voicemail audio from the providers
	// guesses limits wrong admin tokens per client address (login form and
	// bearer token alike): MaxWrongTokens in LockoutWindow, then locked out.
	guesses *guard.Lockout
}

func newAdmin(d Deps) *Admin {
	a := &Admin{d: d, token: d.Config.AdminToken, guesses: guard.NewLockout(MaxWrongTokens, LockoutWindow)}
	if a.d.Logger == nil {
		a.d.Logger = slog.New(slog.DiscardHandler)
	}
	if a.token != "" {
		m := hmac.New(sha256.New, []byte(a.token))
		m.Write([]byte("ivr admin session key v1"))
		a.sessionKey = m.Sum(nil)
	}
	if u, err := url.Parse(d.Config.PublicURL); err == nil && u.Host != "" {
		a.secure = u.Scheme == "https"
		a.publicHost = u.Host
	}
	a.layout = template.Must(template.New("layout.html").Funcs(templateFuncs()).ParseFS(web.FS, "templates/layout.html", "templates/flowsvg.html", "templates/trypanel.html"))
	a.errors = a.page("error.html")
	return a
}

func templateFuncs() template.FuncMap {
	return template.FuncMap{
		"inc":  func(i int) int { return i + 1 },
		"list": func(s ...string) []string { return s },
		"fmtTime": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format("2006-01-02 15:04:05Z")
		},
		"fmtTimePtr": func(t *time.Time) string {
			if t == nil || t.IsZero() {
				return ""
			}
			return t.UTC().Format("2006-01-02 15:04:05Z")
		},
	}
}

// page parses one page template on top of the layout (once, in a maker).
func (a *Admin) page(name string) *template.Template {
	return template.Must(template.Must(a.layout.Clone()).ParseFS(web.FS, "templates/"+name))
}

// pageData is what every page template gets.
type pageData struct {
	Active     string
	Nav        bool
	LoggedIn   bool // with a token: show the logout button
	CSRF       string
	FlowErrors []string
	Closure    *closureJSON // the line's closure switch while it is on: a banner on every page
	Data       any
}

// render writes a page (status 200) with the CSRF cookie set.
func (a *Admin) render(w http.ResponseWriter, r *http.Request, t *template.Template, active string, data any) {
	a.renderStatus(w, r, t, http.StatusOK, active, data)
}

// refusedPage is the active page of a refusal (401, 403, 429): the layout
// without navigation, banners or a CSRF cookie.
const refusedPage = "refused"

func (a *Admin) renderStatus(w http.ResponseWriter, r *http.Request, t *template.Template, status int, active string, data any) {
	p := pageData{Active: active, Nav: active != "login" && active != refusedPage, LoggedIn: a.token != "", Data: data}
	if active != refusedPage {
		p.CSRF, p.FlowErrors = a.csrfToken(w, r), FlowProblems(a.d.Flows)
	}
	if c := a.d.Flows.Closure(time.Now()); c != nil && p.Nav {
		j := toClosureJSON(c, 0)
		p.Closure = &j
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		a.d.Logger.Error("admin page", slog.String("path", r.URL.Path), slog.String("error", err.Error()))
		http.Error(w, "page failed to render (see the server log)", statusOf[kindInternal])
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// Headers sets the security headers of every admin response.
func Headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// HandleAPICalls answers GET /admin/api/calls?limit=N&cursor=C (and the
// filters number, status, since, until as YYYY-MM-DD).
func HandleAPICalls(db *store.DB) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		opts, err := listOptions(r.URL.Query())
		if err != nil {
			apiFail(w, failure(kindBadRequest, err.Error()))
			return
		}
		calls, next, err := db.ListCalls(r.Context(), opts)
		if errors.Is(err, store.ErrBadCursor) {
			apiFail(w, failure(kindBadRequest, "list calls: "+err.Error()+": use the next value of a previous page"))
			return
		}
		if err != nil {
			apiFail(w, failure(kindStore, "list calls: "+err.Error()+": try again shortly"))
			return
		}
		if calls == nil {
			calls = []store.Call{}
		}
		writeJSONLine(w, http.StatusOK, struct {
			Calls []store.Call `json:"calls"`
			Next  string       `json:"next"`
		}{calls, next})
	})
}

// noListing serves files only: a directory path is not found.
func noListing(files http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		files.ServeHTTP(w, r)
	})
}
