package auth

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
)

// URLResolver rebuilds the URL the provider requested, which is what it signed.
//
// With PublicBase set (e.g. "https://abc.ngrok.app" or "https://example.com/ivr"),
// the URL is PublicBase's scheme and host, plus PublicBase's path prefix unless the
// request path already starts with it, plus the raw request URI (r.RequestURI, never
// re-encoded). Without it, the URL is the request's own scheme ("https" when r.TLS is
// set) and Host; with TrustProxy, the first value of X-Forwarded-Proto and
// X-Forwarded-Host replace them. PublicBase wins over the proxy headers.
type URLResolver struct {
	PublicBase string
	TrustProxy bool
	// Live, when set and not empty, replaces PublicBase: a public URL that
	// may change while the server runs (the ngrok agent's tunnel).
	Live *LiveBase
}

// LiveBase is a public base URL that may change while the server runs. The
// zero value is empty (the request's own URL is used).
type LiveBase struct{ v atomic.Pointer[string] }

// Load returns the current base ("" = none).
func (l *LiveBase) Load() string {
	if p := l.v.Load(); p != nil {
		return *p
	}
	return ""
}

// Store sets the base; "" goes back to none.
func (l *LiveBase) Store(base string) { l.v.Store(&base) }

// base is the public base in force: Live's when set, else PublicBase.
func (u URLResolver) base() string {
	if u.Live != nil {
		if b := u.Live.Load(); b != "" {
			return b
		}
	}
	return u.PublicBase
}

// Arrived is the URL r arrived on, from its own Host (or, with TrustProxy,
// X-Forwarded-Proto/-Host), when a public base is in force and this URL
// differs from it; "" otherwise. It only explains a signature mismatch: a
// stale public base (a restarted ngrok tunnel gets a new host).
func (u URLResolver) Arrived(r *http.Request) string {
	if u.base() == "" {
		return ""
	}
	arrived := URLResolver{TrustProxy: u.TrustProxy}.Resolve(r)
	if arrived == u.Resolve(r) {
		return ""
	}
	return arrived
}

// Validate reports whether PublicBase is usable: empty, or an absolute http(s) URL
// with a host and no query, fragment or user info. Call it once at startup.
func (u URLResolver) Validate() error {
	if u.PublicBase == "" {
		return nil
	}
	p, err := url.Parse(u.PublicBase)
	if err != nil {
		return fmt.Errorf("public base URL: %w", err)
	}
	switch {
	case p.Scheme != "http" && p.Scheme != "https":
		return fmt.Errorf("public base URL %q: scheme must be http or https", u.PublicBase)
	case p.Host == "":
		return fmt.Errorf("public base URL %q: no host", u.PublicBase)
	case p.User != nil:
		return errors.New("public base URL: must not carry user info")
	case p.RawQuery != "" || p.ForceQuery || p.Fragment != "":
		return fmt.Errorf("public base URL %q: must not have a query or fragment", u.PublicBase)
	}
	return nil
}

// Resolve returns the full URL (query included) the provider signed for r.
func (u URLResolver) Resolve(r *http.Request) string {
	uri := requestURI(r)
	if base := u.base(); base != "" {
		origin, prefix := splitBase(base)
		if prefix != "" && !hasPathPrefix(uri, prefix) {
			return origin + prefix + uri
		}
		return origin + uri
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := r.Host
	if u.TrustProxy {
		if p := strings.ToLower(firstValue(r.Header.Get("X-Forwarded-Proto"))); p == "http" || p == "https" {
			scheme = p
		}
		if h := firstValue(r.Header.Get("X-Forwarded-Host")); h != "" {
			host = h
		}
	}
	return scheme + "://" + host + uri
}

// requestURI is the raw path and query the client sent.
func requestURI(r *http.Request) string {
	uri := r.RequestURI
	if uri == "" && r.URL != nil {
		uri = r.URL.RequestURI()
	}
	if uri == "" || uri[0] == '/' || uri == "*" {
		return uri
	}
	// Absolute form ("http://host/path?q"), as sent to proxies: keep path and query.
	if i := strings.Index(uri, "://"); i >= 0 {
		rest := uri[i+3:]
		if j := strings.IndexAny(rest, "/?"); j >= 0 {
			if rest[j] == '?' {
				return "/" + rest[j:]
			}
			return rest[j:]
		}
		return "/"
	}
	return uri
}

// splitBase splits "https://host/prefix/" into "https://host" and "/prefix".
func splitBase(base string) (origin, prefix string) {
	i := strings.Index(base, "://")
	if i < 0 {
		return strings.TrimRight(base, "/"), ""
	}
	rest := base[i+3:]
	j := strings.IndexByte(rest, '/')
	if j < 0 {
		return base, ""
	}
	return base[:i+3+j], strings.TrimRight(rest[j:], "/")
}

// hasPathPrefix reports whether uri's path is prefix or lies under it.
func hasPathPrefix(uri, prefix string) bool {
	path := uri
	if i := strings.IndexByte(uri, '?'); i >= 0 {
		path = uri[:i]
	}
	return strings.HasPrefix(path, prefix) && (len(path) == len(prefix) || path[len(prefix)] == '/')
}

// firstValue is the first element of a comma-separated header value, trimmed.
func firstValue(v string) string {
	if i := strings.IndexByte(v, ','); i >= 0 {
		v = v[:i]
	}
	return strings.TrimSpace(v)
}

// splitURL cuts a URL into the part before the query and the raw query (fragment dropped).
func splitURL(u string) (base, rawQuery string) {
	if i := strings.IndexByte(u, '#'); i >= 0 {
		u = u[:i]
	}
	base, rawQuery, _ = strings.Cut(u, "?")
	return base, rawQuery
}

// hostSpan returns the start and end offsets of the authority (host[:port]) in u.
func hostSpan(u string) (start, end int, ok bool) {
	i := strings.Index(u, "://")
	if i < 0 {
		return 0, 0, false
	}
	start = i + 3
	end = len(u)
	if j := strings.IndexAny(u[start:], "/?#"); j >= 0 {
		end = start + j
	}
	return start, end, true
}

// portOf returns the port of an authority ("host:443" -> "443"), "" if none.
func portOf(authority string) string {
	i := strings.LastIndexByte(authority, ':')
	if i < 0 || strings.IndexByte(authority[i:], ']') >= 0 {
		return ""
	}
	return authority[i+1:]
}

func standardPort(u string) string {
	if len(u) >= 6 && strings.EqualFold(u[:6], "https:") {
		return "443"
	}
	return "80"
}

// toggleStandardPort adds the scheme's standard port (:443/:80) when the URL has no
// port, or removes it when the URL carries exactly that port. Other ports: ok=false.
func toggleStandardPort(u string) (string, bool) {
	s, e, ok := hostSpan(u)
	if !ok || s == e {
		return "", false
	}
	p := portOf(u[s:e])
	std := standardPort(u)
	switch p {
	case "":
		return u[:e] + ":" + std + u[e:], true
	case std:
		return u[:e-len(p)-1] + u[e:], true
	}
	return "", false
}

// togglePort removes any port, or adds the standard one when there is none.
func togglePort(u string) (string, string, bool) {
	s, e, ok := hostSpan(u)
	if !ok || s == e {
		return "", "", false
	}
	if p := portOf(u[s:e]); p != "" {
		return u[:e-len(p)-1] + u[e:], "without the port :" + p, true
	}
	std := standardPort(u)
	return u[:e] + ":" + std + u[e:], "with the port :" + std, true
}

// toggleScheme swaps http and https.
func toggleScheme(u string) (string, string, bool) {
	switch {
	case strings.HasPrefix(u, "https://"):
		return "http://" + u[len("https://"):], "with http:// instead of https://", true
	case strings.HasPrefix(u, "http://"):
		return "https://" + u[len("http://"):], "with https:// instead of http://", true
	}
	return "", "", false
}

// toggleSlash adds or removes a trailing slash at the end of the path.
func toggleSlash(u string) (string, string, bool) {
	_, e, ok := hostSpan(u)
	if !ok {
		return "", "", false
	}
	end := len(u)
	if j := strings.IndexAny(u[e:], "?#"); j >= 0 {
		end = e + j
	}
	path := u[e:end]
	if strings.HasSuffix(path, "/") {
		if path == "/" {
			return "", "", false
		}
		return u[:end-1] + u[end:], "without the trailing slash", true
	}
	return u[:end] + "/" + u[end:], "with a trailing slash", true
}
