package admin

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ivr-project/ivr/internal/guard"
	"github.com/ivr-project/ivr/internal/httpobs"
	"github.com/ivr-project/ivr/internal/store"
	"github.com/ivr-project/ivr/internal/voice"
	"github.com/ivr-project/ivr/web"
)

// The admin UI and its JSON API, under /admin/. Access:
//   - IVR_ADMIN_TOKEN set: a login form sets the ivr_admin cookie (an
//     expiring HMAC of the token, never the token itself); the API also takes
//     "Authorization: Bearer TOKEN".
//   - no token: served only to loopback clients (local mode).
//
// Anything that changes state (login, logout, try) is a POST that must come
// from our own origin (Origin, or Referer) and carry the CSRF token: the
// ivr_csrf cookie's value, echoed in the form field csrf_token or the
// X-CSRF-Token header (double submit). Bearer requests skip the CSRF token,
// as browsers never add that header by themselves.

const (
	SessionCookie = "ivr_admin"
	CSRFCookie    = "ivr_csrf"
	CSRFField     = "csrf_token"
	CSRFHeader    = "X-CSRF-Token"
	SessionTTL    = 12 * time.Hour
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

// A client that sends MaxWrongTokens wrong admin tokens within
// LockoutWindow is refused (429) until the window has passed.
const (
	MaxWrongTokens = 10
	LockoutWindow  = 15 * time.Minute
)

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
	Data       any
}

// render writes a page (status 200) with the CSRF cookie set.
func (a *Admin) render(w http.ResponseWriter, r *http.Request, t *template.Template, active string, data any) {
	a.renderStatus(w, r, t, http.StatusOK, active, data)
}

func (a *Admin) renderStatus(w http.ResponseWriter, r *http.Request, t *template.Template, status int, active string, data any) {
	p := pageData{
		Active:     active,
		Nav:        active != "login",
		LoggedIn:   a.token != "",
		CSRF:       a.csrfToken(w, r),
		FlowErrors: FlowProblems(a.d.Flows),
		Data:       data,
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		a.d.Logger.Error("admin page", slog.String("path", r.URL.Path), slog.String("error", err.Error()))
		http.Error(w, "page failed to render (see the server log)", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func (a *Admin) fail(w http.ResponseWriter, r *http.Request, status int, title, msg string) {
	a.renderStatus(w, r, a.errors, status, "", struct{ Title, Message string }{title, msg})
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

// localOnly serves the admin only to loopback clients when no token is set,
// and only under a loopback host name: a page on another site whose name
// resolves to 127.0.0.1 (DNS rebinding) arrives from a loopback address too,
// but with its own name in Host.
func (a *Admin) LocalOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.token == "" && !isLoopback(r.RemoteAddr) {
			http.Error(w, "admin UI disabled: set IVR_ADMIN_TOKEN to use it from another machine", http.StatusForbidden)
			return
		}
		if a.token == "" && !isLoopbackHost(r.Host) {
			http.Error(w, "admin UI without IVR_ADMIN_TOKEN answers only http://localhost, http://127.0.0.1 or http://[::1] "+
				"(this request named another host); set IVR_ADMIN_TOKEN to use another name", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// isLoopbackHost reports whether a Host header (with or without a port)
// names this machine's loopback: localhost or a loopback address literal.
func isLoopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	} else if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Zone() == "" && ip.IsLoopback()
}

func isLoopback(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

type bearerKey struct{}

// authenticate lets a request in with the bearer token or a valid session
// cookie (or anyone, in local mode). Others get 401 on the API and on
// POSTs, and a redirect to the login form on pages.
func (a *Admin) Authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.token == "" {
			next.ServeHTTP(w, r)
			return
		}
		if got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			client := a.client(r)
			if _, locked := a.lockedOut(w, r, client); locked {
				w.Header().Set("WWW-Authenticate", `Bearer realm="ivr admin"`)
				http.Error(w, "too many wrong admin tokens from this address; try again later", http.StatusTooManyRequests)
				return
			}
			if a.tokenMatches(strings.TrimSpace(got)) {
				a.guesses.Succeed(client)
				next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), bearerKey{}, true)))
				return
			}
			a.wrongToken(r, client)
		} else if c, err := r.Cookie(SessionCookie); err == nil && a.validSession(c.Value, time.Now()) {
			next.ServeHTTP(w, r)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/admin/api/") || r.Method != http.MethodGet {
			w.Header().Set("WWW-Authenticate", `Bearer realm="ivr admin"`)
			http.Error(w, "missing or wrong admin token", http.StatusUnauthorized)
			return
		}
		http.Redirect(w, r, "/admin/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
	})
}

// client is the address wrong tokens are counted under.
func (a *Admin) client(r *http.Request) netip.Addr {
	return guard.ClientIP(r, a.d.Config.TrustedProxies)
}

// lockedOut refuses a client that sent too many wrong tokens lately: it sets
// Retry-After and the request's outcome, and returns the seconds to wait and
// true. The caller writes the 429.
func (a *Admin) lockedOut(w http.ResponseWriter, r *http.Request, client netip.Addr) (int, bool) {
	left, blocked := a.guesses.Blocked(client)
	if !blocked {
		return 0, false
	}
	wait := int(left.Round(time.Second) / time.Second)
	httpobs.SetOutcome(r.Context(), "locked_out")
	w.Header().Set("Retry-After", strconv.Itoa(wait))
	return wait, true
}

// wrongToken counts a wrong admin token and logs it (never the token).
func (a *Admin) wrongToken(r *http.Request, client netip.Addr) {
	httpobs.SetOutcome(r.Context(), "wrong_token")
	if a.guesses.Fail(client) {
		a.d.Logger.Warn("admin token: too many wrong attempts; this address is locked out",
			slog.String("client", client.String()), slog.Int("attempts", MaxWrongTokens),
			slog.Duration("for", LockoutWindow))
		return
	}
	a.d.Logger.Warn("admin token refused", slog.String("client", client.String()), slog.String("path", r.URL.Path))
}

func (a *Admin) tokenMatches(got string) bool {
	want := sha256.Sum256([]byte(a.token))
	sum := sha256.Sum256([]byte(got))
	return got != "" && subtle.ConstantTimeCompare(sum[:], want[:]) == 1
}

// NewSession returns a session cookie value: expiry "." HMAC(expiry).
func (a *Admin) NewSession(now time.Time) string {
	exp := strconv.FormatInt(now.Add(SessionTTL).Unix(), 10)
	return exp + "." + a.sessionMAC(exp)
}

func (a *Admin) sessionMAC(exp string) string {
	m := hmac.New(sha256.New, a.sessionKey)
	m.Write([]byte("session|" + exp))
	return hex.EncodeToString(m.Sum(nil))
}

func (a *Admin) validSession(v string, now time.Time) bool {
	exp, mac, ok := strings.Cut(v, ".")
	if !ok || a.sessionKey == nil {
		return false
	}
	n, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || now.Unix() >= n {
		return false
	}
	return hmac.Equal([]byte(mac), []byte(a.sessionMAC(exp)))
}

// secureCookie reports whether cookies must be Secure for this request.
func (a *Admin) secureCookie(r *http.Request) bool {
	if a.secure || r.TLS != nil {
		return true
	}
	return a.d.Config.TrustProxy && strings.EqualFold(firstHeaderValue(r.Header.Get("X-Forwarded-Proto")), "https")
}

func firstHeaderValue(v string) string {
	v, _, _ = strings.Cut(v, ",")
	return strings.TrimSpace(v)
}

func (a *Admin) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/admin", MaxAge: maxAge,
		Secure: a.secureCookie(r), HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
}

// csrfToken returns the request's CSRF token, setting the cookie when the
// browser has none yet.
func (a *Admin) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(CSRFCookie); err == nil && validCSRFValue(c.Value) {
		return c.Value
	}
	b := make([]byte, 32)
	rand.Read(b)
	v := hex.EncodeToString(b)
	a.setCookie(w, r, CSRFCookie, v, 0)
	return v
}

func validCSRFValue(v string) bool {
	if len(v) != 64 {
		return false
	}
	_, err := hex.DecodeString(v)
	return err == nil
}

// csrf refuses a state-changing request from another origin (403), or one
// without the CSRF token matching its cookie (403). Bearer requests need
// only a matching origin when they send one.
func (a *Admin) CSRF(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			origin = r.Header.Get("Referer")
		}
		bearer, _ := r.Context().Value(bearerKey{}).(bool)
		if origin == "" && !bearer {
			http.Error(w, "cross-site request refused: no Origin or Referer header", http.StatusForbidden)
			return
		}
		if origin != "" && !a.sameOrigin(r, origin) {
			http.Error(w, "cross-site request refused: origin does not match this server", http.StatusForbidden)
			return
		}
		if bearer {
			next.ServeHTTP(w, r)
			return
		}
		got := r.Header.Get(CSRFHeader)
		if got == "" {
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
			got = r.PostFormValue(CSRFField)
		}
		c, err := r.Cookie(CSRFCookie)
		if err != nil || got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(c.Value)) != 1 {
			http.Error(w, "CSRF token missing or wrong: reload the page and try again", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// sameOrigin reports whether an Origin or Referer names this server: the
// request's Host, IVR_PUBLIC_URL's host, or (when proxy headers are
// trusted) X-Forwarded-Host.
func (a *Admin) sameOrigin(r *http.Request, origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	host := strings.ToLower(u.Host)
	if host == strings.ToLower(r.Host) || (a.publicHost != "" && host == strings.ToLower(a.publicHost)) {
		return true
	}
	if a.d.Config.TrustProxy {
		if fh := firstHeaderValue(r.Header.Get("X-Forwarded-Host")); fh != "" && strings.EqualFold(host, fh) {
			return true
		}
	}
	return false
}

// localNext keeps a post-login redirect on the admin's own pages.
func localNext(next string) string {
	if !strings.HasPrefix(next, "/admin/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/admin/flow"
	}
	return next
}

type loginView struct{ Next, Error string }

// HandleLoginPage serves GET /admin/login.
func HandleLoginPage(a *Admin) http.Handler {
	tmpl := a.page("login.html")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.token == "" {
			http.Redirect(w, r, "/admin/flow", http.StatusSeeOther) // local mode: no login
			return
		}
		a.render(w, r, tmpl, "login", loginView{Next: localNext(r.URL.Query().Get("next"))})
	})
}

// HandleLogin serves POST /admin/login: the right token sets the session cookie.
func HandleLogin(a *Admin) http.Handler {
	tmpl := a.page("login.html")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next := localNext(r.PostFormValue("next"))
		if a.token == "" {
			http.Redirect(w, r, next, http.StatusSeeOther)
			return
		}
		client := a.client(r)
		if wait, locked := a.lockedOut(w, r, client); locked {
			a.renderStatus(w, r, tmpl, http.StatusTooManyRequests, "login", loginView{Next: next,
				Error: fmt.Sprintf("Too many wrong tokens from your address. Wait %d seconds, then try again.", wait)})
			return
		}
		if !a.tokenMatches(r.PostFormValue("token")) {
			a.wrongToken(r, client)
			a.renderStatus(w, r, tmpl, http.StatusUnauthorized, "login", loginView{Next: next, Error: "Wrong token."})
			return
		}
		a.guesses.Succeed(client)
		a.setCookie(w, r, SessionCookie, a.NewSession(time.Now()), int(SessionTTL/time.Second))
		http.Redirect(w, r, next, http.StatusSeeOther)
	})
}

// HandleLogout serves POST /admin/logout.
func HandleLogout(a *Admin) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.setCookie(w, r, SessionCookie, "", -1)
		http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
	})
}

// HandleAPICalls answers GET /admin/api/calls?limit=N&cursor=C (and the
// filters number, status, since, until as YYYY-MM-DD).
func HandleAPICalls(db *store.DB) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		opts, err := listOptions(r.URL.Query())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		calls, next, err := db.ListCalls(r.Context(), opts)
		if errors.Is(err, store.ErrBadCursor) {
			http.Error(w, "list calls: "+err.Error()+": use the next value of a previous page", http.StatusBadRequest)
			return
		}
		if err != nil {
			http.Error(w, "list calls: "+err.Error()+": try again shortly", http.StatusServiceUnavailable)
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
