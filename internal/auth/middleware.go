package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"unicode/utf8"
)

// MaxBody is the largest webhook body the middlewares read (1 MiB).
const MaxBody = 1 << 20

type verifiedKey struct{}

type verified struct {
	params url.Values
	body   []byte
	url    string // the public URL the signature was checked against
	nonce  claimedNonce
}

// claimedNonce is the nonce a Plivo request claimed (zero for Twilio).
type claimedNonce struct {
	store NonceStore
	key   string
}

// Params returns the verified parameters the middleware put in ctx: the form body of
// a POST (never merged with the query), the query of a GET, and an empty set for a
// Twilio JSON body. nil when ctx did not pass a middleware of this package.
//
// The URL query is covered by Twilio and Plivo V3 signatures, so r.URL.Query() is
// trustworthy after those middlewares; Plivo V2 signs neither the query nor the body.
func Params(ctx context.Context) url.Values {
	if v, ok := ctx.Value(verifiedKey{}).(*verified); ok {
		return v.params
	}
	return nil
}

// URL returns the public URL of the request as the middleware resolved it for
// the signature check (URLResolver.Resolve), or "" when ctx did not pass a
// middleware of this package.
func URL(ctx context.Context) string {
	if v, ok := ctx.Value(verifiedKey{}).(*verified); ok {
		return v.url
	}
	return ""
}

// ReleaseNonce gives back the nonce the middleware claimed for the request
// of ctx (Plivo), so that the provider's retry of that same request, which
// may carry the same nonce, is not refused as a replay. Call it before
// answering with a status the provider retries (e.g. 503: not stored). It
// does nothing for a request without a nonce or a store that cannot release.
func ReleaseNonce(ctx context.Context) error {
	v, ok := ctx.Value(verifiedKey{}).(*verified)
	if !ok || v.nonce.key == "" {
		return nil
	}
	rel, ok := v.nonce.store.(NonceReleaser)
	if !ok {
		return nil
	}
	if err := rel.Release(ctx, v.nonce.key); err != nil {
		return fmt.Errorf("release nonce: %w", err)
	}
	return nil
}

// Body returns the raw body the middleware read and verified (nil if none or if ctx
// did not pass a middleware of this package). Do not modify it.
func Body(ctx context.Context) []byte {
	if v, ok := ctx.Value(verifiedKey{}).(*verified); ok {
		return v.body
	}
	return nil
}

// withVerified returns a shallow copy of r carrying the verified data, with a body
// that can be read again. For a form POST, r.PostForm is filled so r.ParseForm and
// r.PostFormValue do not need the body.
func withVerified(r *http.Request, signedURL string, params url.Values, body []byte, form bool, nonce claimedNonce) *http.Request {
	c := &verifiedCtx{Context: r.Context(), v: verified{params: params, body: body, url: signedURL, nonce: nonce}}
	c.body.Reset(body)
	r2 := r.WithContext(c)
	r2.Body = &c.body
	if form {
		r2.PostForm = params
	}
	return r2
}

// verifiedCtx is the context withVerified hands down: the verified data and
// the re-readable body live in it, one allocation for all three.
type verifiedCtx struct {
	context.Context
	v    verified
	body bodyReader
}

func (c *verifiedCtx) Value(key any) any {
	if key == (verifiedKey{}) {
		return &c.v
	}
	return c.Context.Value(key)
}

// bodyReader is io.NopCloser(bytes.NewReader(body)) in one value (it keeps
// bytes.Reader's WriteTo, as io.NopCloser does).
type bodyReader struct{ bytes.Reader }

func (*bodyReader) Close() error { return nil }

// readBody reads the whole body, at most MaxBody bytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, *Failure) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	if r.ContentLength > MaxBody {
		return nil, &Failure{Reason: ReasonBodyTooLarge,
			Diagnosis: fmt.Sprintf("Content-Length %d is over the %d byte limit", r.ContentLength, MaxBody)}
	}
	rd := http.MaxBytesReader(w, r.Body, MaxBody)
	size := 512
	if r.ContentLength > 0 {
		size = int(r.ContentLength) + 1 // +1: the final read that sees EOF needs no growth
	}
	buf := make([]byte, 0, size)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := rd.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return nil, &Failure{Reason: ReasonBodyTooLarge, Err: err,
					Diagnosis: fmt.Sprintf("body is over the %d byte limit", MaxBody)}
			}
			return nil, &Failure{Reason: ReasonBadBody, Err: err,
				Diagnosis: "reading the body: " + err.Error()}
		}
	}
}

// parseQuery parses a query or form body; every name and value must be UTF-8.
// An empty input gives nil (no allocation).
func parseQuery(raw string) (url.Values, error) {
	if raw == "" {
		return nil, nil
	}
	v, ok := parseQueryFast(raw)
	if !ok {
		var err error
		if v, err = url.ParseQuery(raw); err != nil {
			return nil, err
		}
	}
	for k, vs := range v {
		if !utf8.ValidString(k) {
			return nil, errors.New("parameter name is not UTF-8")
		}
		for _, s := range vs {
			if !utf8.ValidString(s) {
				return nil, fmt.Errorf("parameter %q is not UTF-8", k)
			}
		}
	}
	return v, nil
}

// godebugQueryLimit reports whether GODEBUG sets urlmaxqueryparams (read
// once, at the first request), in which case only
// url.ParseQuery knows the limit.
var godebugQueryLimit = sync.OnceValue(func() bool {
	return strings.Contains(os.Getenv("GODEBUG"), "urlmaxqueryparams")
})

// maxFastParams bounds the parameters parseQueryFast takes on (a webhook has
// a few dozen); anything larger goes to url.ParseQuery.
const maxFastParams = 256

// parseQueryFast is url.ParseQuery for the well-formed case, with one map
// sized up front and the values of all names in one backing array instead of
// a map grown step by step and a slice per name. ok is false when raw is not
// that case (a ';', a bad escape, too many parameters, or GODEBUG naming
// urlmaxqueryparams): the caller then uses url.ParseQuery itself, so the
// result and the error are always exactly its. What it saves, on every
// signed request (BenchmarkParseQuery, a Twilio body of 22 parameters):
// 6 allocations and 1.9 KB instead of url.ParseQuery's 33 and 2.6 KB. The
// names and values that hold escapes are unescaped into one buffer instead
// of a string each (BenchmarkQueryUnescape): 5 allocations fewer than with
// url.QueryUnescape, and 5-8 % of parseQueryFast's CPU time.
func parseQueryFast(raw string) (v url.Values, ok bool) {
	n := strings.Count(raw, "&") + 1
	if n > maxFastParams || strings.IndexByte(raw, ';') >= 0 || godebugQueryLimit() {
		return nil, false
	}
	v = make(url.Values, n)
	vals := make([]string, n)
	var buf strings.Builder // the unescaped names and values, when escaped
	size := len(raw)
	for i := 0; raw != ""; {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		key, value, _ := strings.Cut(pair, "=")
		if key, ok = unescapeInto(&buf, size, key); !ok {
			return nil, false
		}
		if value, ok = unescapeInto(&buf, size, value); !ok {
			return nil, false
		}
		if vs, dup := v[key]; dup {
			v[key] = append(vs, value) // vs is capped: this copies
			continue
		}
		vals[i] = value
		v[key] = vals[i : i+1 : i+1]
		i++
	}
	return v, true
}

// unescapeInto is url.QueryUnescape(s) for a part of a query of size bytes:
// s itself when it holds no escape, else s unescaped and appended to buf
// (first grown to a quarter of the query, about what a webhook's escaped
// parts take; the strings a Builder returned never change as it grows); ok
// is false where url.QueryUnescape fails (a '%' not followed by two hex
// digits).
func unescapeInto(buf *strings.Builder, size int, s string) (string, bool) {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s, true
	}
	if buf.Cap() == 0 {
		buf.Grow(max(size/4, len(s)))
	}
	start := buf.Len()
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '+':
			buf.WriteByte(' ')
		case '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return "", false
			}
			buf.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
		default:
			buf.WriteByte(c)
		}
	}
	return buf.String()[start:], true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// formParams checks the content type of a POST and parses its form body.
func formParams(r *http.Request, body []byte) (url.Values, *Failure) {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		if len(body) > 0 {
			return nil, &Failure{Reason: ReasonBadContentType,
				Diagnosis: "POST body without a Content-Type; want application/x-www-form-urlencoded"}
		}
	} else {
		mt := ct
		if i := strings.IndexByte(mt, ';'); i >= 0 {
			mt = mt[:i]
		}
		if !strings.EqualFold(strings.TrimSpace(mt), "application/x-www-form-urlencoded") {
			return nil, &Failure{Reason: ReasonBadContentType,
				Diagnosis: fmt.Sprintf("Content-Type %.80q; want application/x-www-form-urlencoded", ct)}
		}
	}
	params, err := parseQuery(string(body))
	if err != nil {
		return nil, &Failure{Reason: ReasonBadBody, Err: err, Diagnosis: "form body: " + err.Error()}
	}
	if params == nil {
		params = url.Values{}
	}
	return params, nil
}

// requestParams reads and parses what a GET or a form POST carries. For a GET the
// body must be empty and the parameters are query (the signed URL's query).
func requestParams(w http.ResponseWriter, r *http.Request, query url.Values) (body []byte, params url.Values, form bool, f *Failure) {
	body, f = readBody(w, r)
	if f != nil {
		return nil, nil, false, f
	}
	if r.Method == http.MethodGet {
		if len(body) > 0 {
			return nil, nil, false, &Failure{Reason: ReasonBadBody, Diagnosis: "a GET webhook carries no body"}
		}
		if query == nil {
			query = url.Values{}
		}
		return nil, query, false, nil
	}
	params, f = formParams(r, body)
	return body, params, true, f
}

// header returns the single value of a signature or nonce header. dup reports a
// header sent more than once (which we refuse rather than guess).
func header(r *http.Request, canonicalName string) (value string, dup bool) {
	vs := r.Header[canonicalName]
	switch len(vs) {
	case 0:
		return "", false
	case 1:
		return vs[0], false
	}
	return "", true
}

// bufPool hands out scratch buffers for the signed strings.
type bufPool struct{ p sync.Pool }

func (b *bufPool) get() *[]byte {
	if v, ok := b.p.Get().(*[]byte); ok {
		return v
	}
	s := make([]byte, 0, 1024)
	return &s
}

func (b *bufPool) put(s *[]byte) {
	if cap(*s) > 64<<10 {
		return // do not keep huge buffers around
	}
	*s = (*s)[:0]
	b.p.Put(s)
}

func validNonce(n string) bool {
	if len(n) > 256 {
		return false
	}
	for i := 0; i < len(n); i++ {
		if n[i] <= ' ' || n[i] >= 0x7f {
			return false
		}
	}
	return true
}
