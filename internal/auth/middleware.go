package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// MaxBody is the largest webhook body the middlewares read (1 MiB).
const MaxBody = 1 << 20

type verifiedKey struct{}

type verified struct {
	form Form
	body string
	url  string // the public URL the signature was checked against
	// params is form as url.Values, made at the first Params call.
	paramsOnce sync.Once
	params     url.Values
	nonce      claimedNonce
}

// claimedNonce is the nonce a Plivo request claimed (zero for Twilio).
type claimedNonce struct {
	store NonceStore
	key   string
}

// Params returns the verified parameters the middleware put in ctx: the form body of
// a POST (never merged with the query), the query of a GET, and an empty set for a
// Twilio JSON body. nil when ctx did not pass a middleware of this package.
// The map is made at the first call and shared by every later one; FormOf
// reads the same parameters without it.
//
// The URL query is covered by Twilio and Plivo V3 signatures, so r.URL.Query() is
// trustworthy after those middlewares; Plivo V2 signs neither the query nor the body.
func Params(ctx context.Context) url.Values {
	if v, ok := ctx.Value(verifiedKey{}).(*verified); ok {
		v.paramsOnce.Do(func() { v.params = v.form.Values() })
		return v.params
	}
	return nil
}

// FormOf returns the parameters Params returns, as the Form they were
// parsed into (nil when ctx did not pass a middleware of this package).
func FormOf(ctx context.Context) *Form {
	if v, ok := ctx.Value(verifiedKey{}).(*verified); ok {
		return &v.form
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

// Body returns a copy of the raw body the middleware read and verified (nil
// if none or if ctx did not pass a middleware of this package).
func Body(ctx context.Context) []byte {
	if v, ok := ctx.Value(verifiedKey{}).(*verified); ok && v.body != "" {
		return []byte(v.body)
	}
	return nil
}

// withVerified returns a shallow copy of r carrying the verified data, with a body
// that can be read again. For a form POST (isForm), r.PostForm is filled so
// r.ParseForm and r.PostFormValue do not need the body, unless leavePostForm.
func withVerified(r *http.Request, signedURL string, form Form, body string, isForm, leavePostForm bool, nonce claimedNonce) *http.Request {
	c := &verifiedCtx{Context: r.Context(), v: verified{form: form, body: body, url: signedURL, nonce: nonce}}
	c.body.Reset(body)
	r2 := r.WithContext(c)
	r2.Body = &c.body
	if isForm && !leavePostForm {
		r2.PostForm = Params(c)
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

// bodyReader is io.NopCloser(strings.NewReader(body)) in one value (it keeps
// strings.Reader's WriteTo, as io.NopCloser does).
type bodyReader struct{ strings.Reader }

func (*bodyReader) Close() error { return nil }

// readBody reads the whole body, at most MaxBody bytes. spare is the rest of
// the body's buffer (len 0), room for parseForm to unescape into: the body
// and its unescaped parameters take one allocation.
func readBody(w http.ResponseWriter, r *http.Request) (body string, spare []byte, f *Failure) {
	if r.Body == nil || r.Body == http.NoBody {
		return "", nil, nil
	}
	if r.ContentLength > MaxBody {
		return "", nil, &Failure{Reason: ReasonBodyTooLarge,
			Diagnosis: fmt.Sprintf("Content-Length %d is over the %d byte limit", r.ContentLength, MaxBody)}
	}
	rd := http.MaxBytesReader(w, r.Body, MaxBody)
	size := 512
	if r.ContentLength > 0 {
		// +1: the final read that sees EOF needs no growth; a quarter more:
		// about what a webhook's escaped parameters take unescaped.
		size = int(r.ContentLength) + 1 + int(r.ContentLength)/4
	}
	buf := make([]byte, 0, size)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := rd.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return bytesString(buf), buf[len(buf):], nil
		}
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return "", nil, &Failure{Reason: ReasonBodyTooLarge, Err: err,
					Diagnosis: fmt.Sprintf("body is over the %d byte limit", MaxBody)}
			}
			return "", nil, &Failure{Reason: ReasonBadBody, Err: err,
				Diagnosis: "reading the body: " + err.Error()}
		}
	}
}

// formParams checks the content type of a POST and parses its form body.
func formParams(r *http.Request, body string, spare []byte) (Form, *Failure) {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		if len(body) > 0 {
			return Form{}, &Failure{Reason: ReasonBadContentType,
				Diagnosis: "POST body without a Content-Type; want application/x-www-form-urlencoded"}
		}
	} else {
		mt := ct
		if i := strings.IndexByte(mt, ';'); i >= 0 {
			mt = mt[:i]
		}
		if !strings.EqualFold(strings.TrimSpace(mt), "application/x-www-form-urlencoded") {
			return Form{}, &Failure{Reason: ReasonBadContentType,
				Diagnosis: fmt.Sprintf("Content-Type %.80q; want application/x-www-form-urlencoded", ct)}
		}
	}
	params, err := parseForm(body, spare)
	if err != nil {
		return Form{}, &Failure{Reason: ReasonBadBody, Err: err, Diagnosis: "form body: " + err.Error()}
	}
	return params, nil
}

// requestParams reads and parses what a GET or a form POST carries. For a GET the
// body must be empty and the parameters are query (the signed URL's query).
func requestParams(w http.ResponseWriter, r *http.Request, query Form) (body string, params Form, form bool, f *Failure) {
	body, spare, f := readBody(w, r)
	if f != nil {
		return "", Form{}, false, f
	}
	if r.Method == http.MethodGet {
		if len(body) > 0 {
			return "", Form{}, false, &Failure{Reason: ReasonBadBody, Diagnosis: "a GET webhook carries no body"}
		}
		return "", query, false, nil
	}
	params, f = formParams(r, body, spare)
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
