package auth

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// This file holds the strings the providers sign. The validators and the Sign*
// helpers share these builders, so what we sign is exactly what we check.

// compareUTF16 orders strings the way JavaScript's Array.prototype.sort does (by
// UTF-16 code units), which is how the providers' Node SDKs sort names and values.
// It equals byte order except that characters above U+FFFF sort before U+E000-U+FFFF.
func compareUTF16(a, b string) int {
	n := min(len(a), len(b))
	i := 0
	for i < n && a[i] == b[i] {
		i++
	}
	if i == n {
		return len(a) - len(b)
	}
	x, y := a[i], b[i]
	if x >= 0xEE && y >= 0xEE && (x >= 0xF0) != (y >= 0xF0) {
		if x >= 0xF0 {
			return -1
		}
		return 1
	}
	return int(x) - int(y)
}

// sortedKeys returns v's names in signing order, reusing buf.
func sortedKeys(buf []string, v url.Values) []string {
	keys := buf[:0]
	for k := range v {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareUTF16)
	return keys
}

// runValues returns the values of f's run [i, j) in signing order, reusing buf.
func (f *Form) runValues(buf []string, i, j int) []string {
	vals := buf[:0]
	for _, fl := range f.fields[i:j] {
		vals = append(vals, fl.value)
	}
	if len(vals) > 1 {
		slices.SortFunc(vals, compareUTF16)
	}
	return vals
}

// appendTwilioParams appends Twilio's parameter string: names sorted, each name's
// distinct values sorted, every pair appended as name+value (twilio-node drops
// duplicate values of one name before sorting; so do we).
func appendTwilioParams(dst []byte, params url.Values) []byte {
	f := formOf(params)
	return appendTwilioForm(dst, &f)
}

// appendTwilioForm is appendTwilioParams for a Form.
func appendTwilioForm(dst []byte, f *Form) []byte {
	var vb [8]string
	for i, j := 0, 0; i < len(f.fields); i = j {
		if j = f.run(i); j == i+1 { // one value: most names
			dst = append(dst, f.fields[i].name...)
			dst = append(dst, f.fields[i].value...)
			continue
		}
		vals := f.runValues(vb[:], i, j)
		for k, v := range vals {
			if k > 0 && v == vals[k-1] {
				continue
			}
			dst = append(dst, f.fields[i].name...)
			dst = append(dst, v...)
		}
	}
	return dst
}

// appendSortedQuery appends Plivo's sorted query: name=value pairs joined by "&".
func appendSortedQuery(dst []byte, q *Form) []byte {
	var vb [8]string
	first := true
	for i, j := 0, 0; i < len(q.fields); i = j {
		j = q.run(i)
		for _, v := range q.runValues(vb[:], i, j) {
			if !first {
				dst = append(dst, '&')
			}
			first = false
			dst = append(dst, q.fields[i].name...)
			dst = append(dst, '=')
			dst = append(dst, v...)
		}
	}
	return dst
}

// appendPlivoParams appends Plivo's body string: name+value pairs, sorted, no separators.
func appendPlivoParams(dst []byte, params *Form) []byte {
	var vb [8]string
	for i, j := 0, 0; i < len(params.fields); i = j {
		j = params.run(i)
		for _, v := range params.runValues(vb[:], i, j) {
			dst = append(dst, params.fields[i].name...)
			dst = append(dst, v...)
		}
	}
	return dst
}

// appendPlivoV3 appends the V3 string without the trailing "."+nonce, as
// plivo-node's construct_get_url/construct_post_url build it. base is the URL
// without its query; query is the URL's decoded query. For GET, params are merged
// into the query (the SDK's behaviour); the middleware passes nil.
//
//	GET:  base ["?" sorted query]
//	POST: base ["?" sorted query] ["." if query and body] [sorted body name+value]
//	      ("?" is present whenever the query or the body is non-empty)
func appendPlivoV3(dst []byte, base string, query url.Values, method string, params url.Values) []byte {
	if method == "GET" && len(params) > 0 {
		merged := make(url.Values, len(query)+len(params))
		for k, v := range query {
			merged[k] = v
		}
		for k, v := range params {
			merged[k] = append(slices.Clip(merged[k]), v...)
		}
		query, params = merged, nil
	}
	q, p := formOf(query), formOf(params)
	return appendPlivoV3Form(dst, base, &q, method, &p)
}

// appendPlivoV3Form is appendPlivoV3 for Forms, with params empty for GET.
func appendPlivoV3Form(dst []byte, base string, query *Form, method string, params *Form) []byte {
	dst = append(dst, base...)
	mark := len(dst)
	dst = append(dst, '?')
	dst = appendSortedQuery(dst, query)
	hasQuery := len(dst) > mark+1
	if method == "GET" || !hasQuery && len(params.fields) == 0 {
		if !hasQuery {
			dst = dst[:mark]
		}
		return dst
	}
	if hasQuery && len(params.fields) > 0 {
		dst = append(dst, '.')
	}
	return appendPlivoParams(dst, params)
}

// appendPlivoV2 appends the V2 string: scheme://host/path + nonce (no query).
func appendPlivoV2(dst []byte, signedURL, nonce string) []byte {
	base, _ := splitURL(signedURL)
	dst = append(dst, base...)
	return append(dst, nonce...)
}

// mac computes HMACs with one key, reusing hash states across requests.
type mac struct {
	pool sync.Pool // of *macState
	size int       // base64 length of a signature
}

type macState struct {
	h   hash.Hash
	sum [sha256.Size]byte
}

func newMAC(h func() hash.Hash, key string) *mac {
	k := []byte(key)
	m := &mac{}
	m.pool.New = func() any { return &macState{h: hmac.New(h, k)} }
	m.size = base64.StdEncoding.EncodedLen(h().Size())
	return m
}

func newSHA1MAC(key string) *mac   { return newMAC(sha1.New, key) }
func newSHA256MAC(key string) *mac { return newMAC(sha256.New, key) }

// sign returns base64(HMAC(data)) appended to dst.
func (m *mac) sign(dst, data []byte) []byte {
	st := m.pool.Get().(*macState)
	st.h.Reset()
	st.h.Write(data)
	s := st.h.Sum(st.sum[:0])
	n := len(dst)
	dst = append(dst, make([]byte, base64.StdEncoding.EncodedLen(len(s)))...)
	base64.StdEncoding.Encode(dst[n:], s)
	m.pool.Put(st)
	return dst
}

// matches reports whether the signature of data equals sig (constant time).
func (m *mac) matches(data []byte, sig string) bool {
	var buf [64]byte
	want := m.sign(buf[:0], data)
	return hmac.Equal(want, []byte(sig))
}

// matchesAny reports whether any comma-separated signature in sigs matches.
func (m *mac) matchesAny(data []byte, sigs string) bool {
	var buf [64]byte
	want := m.sign(buf[:0], data)
	ok := false
	for sigs != "" {
		var s string
		s, sigs, _ = strings.Cut(sigs, ",")
		if hmac.Equal(want, []byte(strings.TrimSpace(s))) {
			ok = true
		}
	}
	return ok
}

// wellFormed reports whether any comma-separated part of sigs is base64 of a MAC
// of this size, i.e. could have been a signature at all.
func (m *mac) wellFormed(sigs string, list bool) bool {
	for sigs != "" {
		var s string
		if list {
			s, sigs, _ = strings.Cut(sigs, ",")
		} else {
			s, sigs = sigs, ""
		}
		s = strings.TrimSpace(s)
		if len(s) != m.size {
			continue
		}
		if _, err := base64.StdEncoding.DecodeString(s); err == nil {
			return true
		}
	}
	return false
}

func signString(m *mac, data []byte) string { return string(m.sign(nil, data)) }

// SignTwilio returns the X-Twilio-Signature for a request to url (the full URL,
// query included) with the given form body params (nil for GET: the query is in
// url). HMAC-SHA1 over url + sorted name+value pairs, base64.
func SignTwilio(token, url string, params url.Values) string {
	return signString(newSHA1MAC(token), appendTwilioParams([]byte(url), params))
}

// SignPlivoV3 returns the X-Plivo-Signature-V3 for a request to url (query
// included) with that nonce. method is "GET" or "POST"; params are the form body
// of a POST, or extra query parameters of a GET (usually nil: put them in url).
// A malformed query in url is signed as far as it parses.
func SignPlivoV3(token, url, nonce, method string, params url.Values) string {
	base, raw := splitURL(url)
	query, _ := parseQuery(raw)
	data := appendPlivoV3(nil, base, query, strings.ToUpper(method), params)
	data = append(append(data, '.'), nonce...)
	return signString(newSHA256MAC(token), data)
}

// SignPlivoV2 returns the X-Plivo-Signature-V2 for url and nonce: HMAC-SHA256 over
// scheme://host/path + nonce, base64. The query and the body are not signed.
func SignPlivoV2(token, url, nonce string) string {
	return signString(newSHA256MAC(token), appendPlivoV2(nil, url, nonce))
}
