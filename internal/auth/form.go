package auth

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"
)

// Form is a request's verified parameters (FormOf): its name=value pairs
// sorted by name in the order the providers sign them (UTF-16 code units,
// compareUTF16), the values of one name in the order they came. It is what
// url.ParseQuery gives, without a map: the signature strings are built by
// walking it, and a name is found by binary search. A Form is never changed
// once built; the zero Form is empty.
type Form struct {
	fields []field
}

type field struct{ name, value string }

// Get returns the first value of name, or "" (as url.Values.Get). A nil
// *Form has no values.
func (f *Form) Get(name string) string {
	if f == nil {
		return ""
	}
	if i, ok := f.find(name); ok {
		return f.fields[i].value
	}
	return ""
}

// Has reports whether name is set (as url.Values.Has).
func (f *Form) Has(name string) bool {
	if f == nil {
		return false
	}
	_, ok := f.find(name)
	return ok
}

// find is the index of name's first field: a scan that compares lengths
// first in a webhook's few dozen fields (about twice as fast there as a
// binary search, BenchmarkFormGet), a binary search in more. A name without
// bytes at or above 0xEE (the names a handler asks for) orders against any
// other string in compareUTF16 as in byte order: the search compares with <.
func (f *Form) find(name string) (int, bool) {
	fs := f.fields
	if len(fs) <= 64 {
		for i := range fs {
			if len(fs[i].name) == len(name) && fs[i].name == name {
				return i, true
			}
		}
		return 0, false
	}
	lo, hi := 0, len(fs)
	if byteOrdered(name) {
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			if fs[m].name < name {
				lo = m + 1
			} else {
				hi = m
			}
		}
	} else {
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			if compareUTF16(fs[m].name, name) < 0 {
				lo = m + 1
			} else {
				hi = m
			}
		}
	}
	return lo, lo < len(fs) && fs[lo].name == name
}

// byteOrdered reports whether s has no byte compareUTF16 orders apart from
// byte order (0xEE and above).
func byteOrdered(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0xEE {
			return false
		}
	}
	return true
}

// Values returns f as url.Values (never nil): a new map each call, the
// values of all names in one backing array (each name's slice capped, so
// appending to one copies it).
func (f *Form) Values() url.Values {
	if f == nil || len(f.fields) == 0 {
		return url.Values{}
	}
	v := make(url.Values, f.names())
	vals := make([]string, len(f.fields))
	for i, j := 0, 0; i < len(f.fields); i = j {
		j = f.run(i)
		for k := i; k < j; k++ {
			vals[k] = f.fields[k].value
		}
		v[f.fields[i].name] = vals[i:j:j]
	}
	return v
}

// names is the number of distinct names in f.
func (f *Form) names() int {
	n := 0
	for i := 0; i < len(f.fields); i = f.run(i) {
		n++
	}
	return n
}

// run is the end of the run of fields named as fields[i].
func (f *Form) run(i int) int {
	j := i + 1
	for j < len(f.fields) && f.fields[j].name == f.fields[i].name {
		j++
	}
	return j
}

// formOf is v as a Form (its values keep their order).
func formOf(v url.Values) Form {
	var kb [32]string
	n := 0
	for _, vs := range v {
		n += len(vs)
	}
	fs := make([]field, 0, n)
	for _, k := range sortedKeys(kb[:], v) {
		for _, s := range v[k] {
			fs = append(fs, field{k, s})
		}
	}
	return Form{fs}
}

// parseForm parses a query or form body as url.ParseQuery does; every name
// and value must be UTF-8. An error is url.ParseQuery's or names a
// parameter that is not UTF-8. The escaped names and values are unescaped
// into spare's capacity while it lasts (readBody's buffer after the body),
// then into a buffer of their own.
func parseForm(raw string, spare []byte) (Form, error) {
	if raw == "" {
		return Form{}, nil
	}
	f, ok := parseFormFast(raw, spare)
	if !ok {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return Form{}, err
		}
		f = formOf(v)
	} else if utf8.ValidString(raw) && !hasHighEscape(raw) {
		// Every name and value is a piece of raw cut at ASCII bytes, with
		// ASCII bytes in place of '+' and the escapes: UTF-8 as raw is.
		return f, nil
	}
	return f, f.validUTF8()
}

// hasHighEscape reports whether raw holds an escape of a byte above 0x7f.
func hasHighEscape(raw string) bool {
	for {
		i := strings.IndexByte(raw, '%')
		if i < 0 || i+1 >= len(raw) {
			return false
		}
		if c := raw[i+1]; '8' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' {
			return true
		}
		raw = raw[i+1:]
	}
}

// parseQuery is parseForm as url.Values (nil for an empty raw).
func parseQuery(raw string) (url.Values, error) {
	if raw == "" {
		return nil, nil
	}
	f, err := parseForm(raw, nil)
	if err != nil {
		return nil, err
	}
	return f.Values(), nil
}

// validUTF8 reports a name or value of f that is not UTF-8.
func (f *Form) validUTF8() error {
	for _, fl := range f.fields {
		if !utf8.ValidString(fl.name) {
			return errors.New("parameter name is not UTF-8")
		}
		if !utf8.ValidString(fl.value) {
			return fmt.Errorf("parameter %q is not UTF-8", fl.name)
		}
	}
	return nil
}

// godebugQueryLimit reports whether GODEBUG sets urlmaxqueryparams (read
// once, at the first request), in which case only
// url.ParseQuery knows the limit.
var godebugQueryLimit = sync.OnceValue(func() bool {
	return strings.Contains(os.Getenv("GODEBUG"), "urlmaxqueryparams")
})

// maxFastParams bounds the parameters parseFormFast takes on (a webhook has
// a few dozen); anything larger goes to url.ParseQuery.
const maxFastParams = 256

// parseFormFast is url.ParseQuery for the well-formed case, into one slice
// of fields sized up front instead of a map grown step by step and a slice
// per name; the names and values that hold escapes are unescaped into one
// buffer (spare's capacity first). ok is false when raw is not that case (a
// ';', a bad escape, too many parameters, or GODEBUG naming
// urlmaxqueryparams): the caller then uses url.ParseQuery itself, so the
// result and the error are always exactly its.
func parseFormFast(raw string, spare []byte) (f Form, ok bool) {
	n := strings.Count(raw, "&") + 1
	if n > maxFastParams || strings.IndexByte(raw, ';') >= 0 || godebugQueryLimit() {
		return Form{}, false
	}
	fs := make([]field, 0, n)
	buf := textBuf{b: spare[:0:cap(spare)]}
	size := len(raw)
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		key, value, _ := strings.Cut(pair, "=")
		if key, ok = unescapeInto(&buf, size, key); !ok {
			return Form{}, false
		}
		if value, ok = unescapeInto(&buf, size, value); !ok {
			return Form{}, false
		}
		fs = append(fs, field{key, value})
	}
	byName := func(a, b field) int { return compareUTF16(a.name, b.name) }
	if !slices.IsSortedFunc(fs, byName) {
		slices.SortStableFunc(fs, byName)
	}
	return Form{fs}, true
}

// textBuf holds unescaped names and values. It is only ever appended to
// within its capacity, never written where a string was made of it, so
// those strings never change (as strings.Builder's); when full, the next
// text starts a new array and the strings made so far keep the old one.
type textBuf struct{ b []byte }

// unescapeInto is url.QueryUnescape(s) for a part of a query of size bytes:
// s itself when it holds no escape, else s unescaped and appended to buf
// (a new array of a quarter of the query, about what a webhook's escaped
// parts take, when buf has no room for s); ok is false where
// url.QueryUnescape fails (a '%' not followed by two hex digits).
func unescapeInto(buf *textBuf, size int, s string) (string, bool) {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s, true
	}
	if cap(buf.b)-len(buf.b) < len(s) { // the unescaped s is never longer than s
		buf.b = make([]byte, 0, max(size/4, len(s)))
	}
	start := len(buf.b)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '+':
			buf.b = append(buf.b, ' ')
		case '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return "", false
			}
			buf.b = append(buf.b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			buf.b = append(buf.b, c)
		}
	}
	return bytesString(buf.b[start:]), true
}

// bytesString is b as a string without a copy: nothing may write b's bytes
// afterwards (readBody's buffer once read, a textBuf's text once made).
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
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
