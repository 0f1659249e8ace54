package ivr

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
)

// build expands req into a Lookup for this call. why is non-empty when the
// lookup cannot be sent (then the fetch fails without asking, as fail): a
// URL that is not absolute http(s) once expanded, or a secret that is not
// set (refused), or no demo API here (unavailable).
func (r *runner) build(req *HTTPRequest) (Lookup, string, Failure) {
	missing := ""
	secret := func(name string) string {
		if r.secrets != nil {
			if v, ok := r.secrets(name); ok {
				return v
			}
		}
		if missing == "" {
			missing = name
		}
		return ""
	}
	u, segOK := expandURL(req.URL, func(name string) string {
		if s, ok := strings.CutPrefix(name, secretPrefix); ok {
			return urlEscape(secret(s))
		}
		if name == "demo_api" {
			return r.demoAPI
		}
		return urlEscape(r.value(name))
	})
	l := Lookup{Request: req.Name, Method: req.Method, URL: u, Timeout: req.Timeout, Save: req.saveMap()}
	if len(req.Headers) > 0 {
		l.Headers = make(map[string]string, len(req.Headers))
		for _, h := range req.Headers {
			l.Headers[h.Name] = headerValue(expand(h.Value, func(name string) string {
				if s, ok := strings.CutPrefix(name, secretPrefix); ok {
					return secret(s)
				}
				return r.value(name)
			}))
		}
	}
	if req.Body != nil {
		l.Body = r.body(nil, req.Body)
	}
	if missing != "" {
		return Lookup{}, "secret " + missing + " is not set (IVR_SECRET_" + missing + ")", FailRefused
	}
	if !segOK {
		return Lookup{}, "a value makes a segment of the URL's path empty, . or ..", FailRefused
	}
	if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || p.User != nil {
		if strings.HasPrefix(req.URL, "{{demo_api}}") && r.demoAPI == "" {
			return Lookup{}, "no demo API here (local mode only)", FailUnavailable
		}
		return Lookup{}, "the URL is not http(s)", FailRefused
	}
	return l, "", ""
}

// saveMap is the Lookup's Save: variable name -> path in the answer.
func (req *HTTPRequest) saveMap() map[string]string {
	m := make(map[string]string, len(req.Save))
	for _, s := range req.Save {
		m[s.Var] = s.Path
	}
	return m
}

// expandURL expands a request's URL template. Values are URL-encoded, so
// none adds a "/", "?" or "#"; it reports false when a value would still
// change which resource the path names: a whole path segment made of
// placeholders that comes out empty, "." or ".." (servers and proxies
// remove dot segments and merge slashes, so /accounts/{{id}}/calls with id
// ".." would ask for /calls).
func expandURL(tmpl string, value func(name string) string) (string, bool) {
	path, rest := tmpl, ""
	if i := strings.IndexAny(tmpl, "?#"); i >= 0 {
		path, rest = tmpl[:i], tmpl[i:]
	}
	segs := strings.Split(path, "/")
	ok := true
	for i, s := range segs {
		if !strings.Contains(s, "{{") {
			continue
		}
		e := expand(s, value)
		if (e == "" || e == "." || e == "..") && !slices.Contains(templateNames(s), "demo_api") {
			ok = false
		}
		segs[i] = e
	}
	return strings.Join(segs, "/") + expand(rest, value), ok
}

// urlEscape escapes a value for any part of a URL: nothing in it can end a
// path segment, start a query or add a parameter.
func urlEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// headerValue drops control characters (no header injection).
func headerValue(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// body appends the JSON of a body template: text values expanded once and
// JSON-encoded.
func (r *runner) body(b []byte, v *BodyValue) []byte {
	switch {
	case v.IsText:
		enc, _ := json.Marshal(expand(v.Text, r.value))
		return append(b, enc...)
	case v.Raw != "":
		return append(b, v.Raw...)
	case v.Array:
		b = append(b, '[')
		for i, c := range v.Values {
			if i > 0 {
				b = append(b, ',')
			}
			b = r.body(b, c)
		}
		return append(b, ']')
	}
	b = append(b, '{')
	for i, k := range v.Keys {
		if i > 0 {
			b = append(b, ',')
		}
		enc, _ := json.Marshal(k)
		b = append(b, enc...)
		b = append(b, ':')
		b = r.body(b, v.Values[i])
	}
	return append(b, '}')
}
