package admin

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
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
)

// Who may use the admin UI and its JSON API, under /admin/:
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

// A client that sends MaxWrongTokens wrong admin tokens within
// LockoutWindow is refused (429) until the window has passed.
const (
	MaxWrongTokens = 10
	LockoutWindow  = 15 * time.Minute
)

// localOnly serves the admin only to loopback clients when no token is set,
// and only under a loopback host name: a page on another site whose name
// resolves to 127.0.0.1 (DNS rebinding) arrives from a loopback address too,
// but with its own name in Host. Its API then also refuses requests the
// browser says come from another site (crossSite).
func (a *Admin) LocalOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.token == "" && !isLoopback(r.RemoteAddr) {
			a.fail(w, r, pageFailure(kindForbidden, "Admin UI disabled", "admin UI disabled: set IVR_ADMIN_TOKEN to use it from another machine"))
			return
		}
		if a.token == "" && !isLoopbackHost(r.Host) {
			a.fail(w, r, pageFailure(kindForbidden, "Admin UI on loopback names only", "admin UI without IVR_ADMIN_TOKEN answers only http://localhost, http://127.0.0.1 or http://[::1] "+
				"(this request named another host); set IVR_ADMIN_TOKEN to use another name"))
			return
		}
		if a.token == "" && strings.HasPrefix(r.URL.Path, "/admin/api/") && a.crossSite(r) {
			a.fail(w, r, failure(kindForbidden, "admin API without IVR_ADMIN_TOKEN refuses requests from other sites (Sec-Fetch-Site or Origin)"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// crossSite reports whether the browser says r comes from a page of
// another site: Sec-Fetch-Site other than same-origin or none (a typed
// URL), or an Origin that is not this server. Without a token nothing else
// stops a page elsewhere from making the browser GET the local admin API
// (an image, a no-cors fetch) and start expensive work; tools such as curl
// send neither header.
func (a *Admin) crossSite(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return true
	}
	origin := r.Header.Get("Origin")
	return origin != "" && !a.sameOrigin(r, origin)
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
				a.fail(w, r, pageFailure(kindLockedOut, "Too many wrong tokens", "too many wrong admin tokens from this address; try again later"))
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
			a.fail(w, r, pageFailure(kindUnauthorized, "Admin token needed", "missing or wrong admin token"))
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
			a.fail(w, r, pageFailure(kindForbidden, "Cross-site request refused", "cross-site request refused: no Origin or Referer header"))
			return
		}
		if origin != "" && !a.sameOrigin(r, origin) {
			a.fail(w, r, pageFailure(kindForbidden, "Cross-site request refused", "cross-site request refused: origin does not match this server"))
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
			a.fail(w, r, pageFailure(kindForbidden, "Cross-site request refused", "CSRF token missing or wrong: reload the page and try again"))
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
