package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
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
func withVerified(r *http.Request, params url.Values, body []byte, form bool) *http.Request {
	r2 := r.WithContext(context.WithValue(r.Context(), verifiedKey{}, &verified{params: params, body: body}))
	r2.Body = io.NopCloser(bytes.NewReader(body))
	if form {
		r2.PostForm = params
	}
	return r2
}

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
	v, err := url.ParseQuery(raw)
	if err != nil {
		return nil, err
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
// body must be empty and the parameters are the query of signedQuery.
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
