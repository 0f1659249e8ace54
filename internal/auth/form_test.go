package auth

import (
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// refTwilioParams is the Twilio parameter string built from url.Values the
// way it was before Form (names sorted, each name's distinct values sorted):
// the reference the Form builders are checked against.
func refTwilioParams(v url.Values) string {
	var b strings.Builder
	keys := slices.SortedFunc(func(yield func(string) bool) {
		for k := range v {
			if !yield(k) {
				return
			}
		}
	}, compareUTF16)
	for _, k := range keys {
		vals := slices.Clone(v[k])
		slices.SortFunc(vals, compareUTF16)
		for i, s := range vals {
			if i > 0 && s == vals[i-1] {
				continue
			}
			b.WriteString(k + s)
		}
	}
	return b.String()
}

// refPlivo is Plivo's sorted query ("&"-joined name=value) and body
// (name+value) strings from url.Values, built as before Form.
func refPlivo(v url.Values) (query, body string) {
	var q, p strings.Builder
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareUTF16)
	for _, k := range keys {
		vals := slices.Clone(v[k])
		slices.SortFunc(vals, compareUTF16)
		for _, s := range vals {
			if q.Len() > 0 {
				q.WriteByte('&')
			}
			q.WriteString(k + "=" + s)
			p.WriteString(k + s)
		}
	}
	return q.String(), p.String()
}

// checkForm fails unless parseForm(raw, nil) is url.ParseQuery(raw) with every
// name and value UTF-8: the same error or none, the same parameters, Get
// and Has as url.Values's, and the same signature strings.
func checkForm(t *testing.T, raw string) {
	t.Helper()
	f, err := parseForm(raw, nil)
	want, werr := url.ParseQuery(raw)
	if werr == nil {
		for k, vs := range want {
			bad := !utf8.ValidString(k)
			for _, s := range vs {
				bad = bad || !utf8.ValidString(s)
			}
			if bad {
				werr = errNotUTF8
				break
			}
		}
	}
	if (err == nil) != (werr == nil) {
		t.Fatalf("parseForm(%q): error %v, url.ParseQuery (and UTF-8): %v", raw, err, werr)
	}
	if werr != nil {
		if werr != errNotUTF8 && err.Error() != werr.Error() {
			t.Fatalf("parseForm(%q): error %q, want url.ParseQuery's %q", raw, err, werr)
		}
		return
	}
	if got := f.Values(); !reflect.DeepEqual(got, want) {
		t.Fatalf("parseForm(%q) = %v, want %v", raw, got, want)
	}
	// As the middleware parses a body: unescaped into the rest of its buffer.
	buf := append(make([]byte, 0, len(raw)+len(raw)/4+1), raw...)
	body := bytesString(buf)
	fb, err := parseForm(body, buf[len(buf):])
	if got := fb.Values(); err != nil || body != raw || !reflect.DeepEqual(got, want) {
		t.Fatalf("parseForm(%q) in the body's buffer = %v, %v (body now %q), want %v", raw, got, err, body, want)
	}
	if !slices.IsSortedFunc(f.fields, func(a, b field) int { return compareUTF16(a.name, b.name) }) {
		t.Fatalf("parseForm(%q): fields not in signing order: %q", raw, f.fields)
	}
	for k := range want {
		if f.Get(k) != want.Get(k) || !f.Has(k) {
			t.Fatalf("parseForm(%q).Get(%q) = %q, Has %v; want %q", raw, k, f.Get(k), f.Has(k), want.Get(k))
		}
		if k != "" && !want.Has(k[:len(k)-1]) && f.Has(k[:len(k)-1]) {
			t.Fatalf("parseForm(%q).Has(%q) but url.Values has not", raw, k[:len(k)-1])
		}
	}
	if got, want := string(appendTwilioForm(nil, &f)), refTwilioParams(want); got != want {
		t.Fatalf("parseForm(%q): Twilio string %q, want %q", raw, got, want)
	}
	wq, wb := refPlivo(want)
	if got := string(appendSortedQuery(nil, &f)); got != wq {
		t.Fatalf("parseForm(%q): Plivo query %q, want %q", raw, got, wq)
	}
	if got := string(appendPlivoParams(nil, &f)); got != wb {
		t.Fatalf("parseForm(%q): Plivo body %q, want %q", raw, got, wb)
	}
}

var errNotUTF8 = &url.Error{Op: "utf8"}

func TestParseFormMatchesURL(t *testing.T) {
	for _, raw := range []string{
		"", "&", "&&a=1&&", "a", "a=", "=1", "=", "a=1&a=2&b=3&a=4", "a+b=c+d&%41=%42",
		"b=2&a=z&a=y&a=z&c=", "z=1&y=2&x=3&y=1&z=0", "a=%zz", "a=%4", "a=%", "%=1", "a=%4g",
		"a%2=b", "a=%41%42+%2B&b=%20+x&c=%2", "a;b=1", "a=1;b=2", "x=%E2%82%AC&y=%ff",
		"%ff=1", "%C3=%A9", "a=%C3%A9", "a=\xc3%A9", "\xff=1", "a=\xff", "a=1&b&c=&=d",
		"%F0%9F%98%80=1&%EE%80%80=2&%EF%BF%BD=3", "a=%7F&b=%80", "a=%8", "a=%e",
		strings.Repeat("k=v&", maxFastParams), strings.Repeat("k=v&", maxFastParams-1) + "k=v",
		strings.Repeat("k=v&", maxFastParams+1) + "k=%ff",
	} {
		checkForm(t, raw)
	}
}

// TestFormGet: the first value of a name in the order it came, "" for a
// name not sent and on a nil Form.
func TestFormGet(t *testing.T) {
	f, err := parseForm("Digits=2&From=%2B1&Digits=1&To=&A=x", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, want string
		has        bool
	}{
		{"Digits", "2", true}, {"From", "+1", true}, {"To", "", true}, {"A", "x", true},
		{"Digit", "", false}, {"Z", "", false}, {"", "", false}, {"a", "", false},
	} {
		if got, has := f.Get(tt.name), f.Has(tt.name); got != tt.want || has != tt.has {
			t.Errorf("Get(%q) = %q, Has %v; want %q, %v", tt.name, got, has, tt.want, tt.has)
		}
	}
	// Names compareUTF16 orders apart from byte order.
	f, err = parseForm("%EE%80%80=a&%F0%9F%98%80=b&z=c&%EF%BF%BD=d", nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"\uE000": "a", "\U0001F600": "b", "z": "c", "\uFFFD": "d"} {
		if got := f.Get(name); got != want {
			t.Errorf("Get(%q) = %q, want %q", name, got, want)
		}
	}
	// More fields than the scan takes on: the binary search, both orders.
	big := url.Values{"\uE000": {"a"}, "\U0001F600": {"b", "c"}, "\uFFFD": {"d"}}
	for i := range 100 {
		big.Add(strings.Repeat("n", i%7)+string(rune('A'+i%50))+strconv.Itoa(i), strconv.Itoa(i))
	}
	checkForm(t, big.Encode())
	if f, _ = parseForm(big.Encode(), nil); len(f.fields) <= 64 || f.Get("\U0001F600") != "b" || f.Get("nA50") != "50" || f.Has("nA5") {
		t.Errorf("big form: %d fields, Get %q %q", len(f.fields), f.Get("\U0001F600"), f.Get("nA50"))
	}
	var none *Form
	if none.Get("From") != "" || none.Has("From") || len(none.Values()) != 0 || none.Values() == nil {
		t.Error("a nil Form has values")
	}
}

// FuzzParseForm: parseForm is url.ParseQuery (with the UTF-8 rule) on any
// input, signature strings included.
func FuzzParseForm(f *testing.F) {
	for _, s := range []string{"a=1&b=2", "a=1&a=2", "%41=%zz", "a;b", "&&=&", "b=%C3%A9&a=\xff",
		"%F0%9F%98%80=1&%EE%80%80=2", "Digits=2&Digits=1&Digits=2"} {
		f.Add(s)
	}
	f.Fuzz(checkForm)
}

// BenchmarkFormGet is the handler's reads of a Twilio answer's parameters.
func BenchmarkFormGet(b *testing.B) {
	raw := twilioBenchQuery()
	form, err := parseForm(raw, nil)
	if err != nil {
		b.Fatal(err)
	}
	values, _ := url.ParseQuery(raw)
	names := []string{"CallSid", "From", "To", "Digits", "SpeechResult", "Confidence", "DialCallStatus", "RecordingUrl"}
	b.Run("url.Values", func(b *testing.B) {
		for b.Loop() {
			for _, n := range names {
				_ = values.Get(n)
			}
		}
	})
	b.Run("Form", func(b *testing.B) {
		for b.Loop() {
			for _, n := range names {
				_ = form.Get(n)
			}
		}
	})
}
