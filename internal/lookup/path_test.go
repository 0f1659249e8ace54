package lookup

import (
	"errors"
	"strings"
	"testing"
)

func TestWalk(t *testing.T) {
	v, err := decode([]byte(`{"a": {"b": [10, {"c": "x"}, -1.5e3, true, null, [], {}]}, "0": "zero", "s": "héllo \"q\"", "1.5": "dot"}`))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ path, want string }{
		{"a.b.0", "10"},
		{"a.b.1.c", "x"},
		{"a.b.2", "-1.5e3"},
		{"a.b.3", "true"},
		{"0", "zero"},
		{"s", `héllo "q"`},
		{"a.b.4", ""},  // null
		{"a.b.5", ""},  // array
		{"a.b.6", ""},  // object
		{"a.b.7", ""},  // out of range
		{"a.b.-1", ""}, // negative
		{"a.b.01", ""}, // not canonical
		{"a.b.x", ""},  // not an index
		{"a.b.1.c.d", ""},
		{"1.5", ""}, // a dot always separates
		{"", ""},
		{"a..b", ""},
	}
	for _, tc := range cases {
		got, err := walk(v, tc.path)
		if tc.want == "" {
			if !errors.Is(err, errMissing) {
				t.Errorf("%q: %q, %v; want missing", tc.path, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: %q, %v; want %q", tc.path, got, err, tc.want)
		}
	}
}

func TestDecodeErrorsHoldNoText(t *testing.T) {
	for _, body := range []string{`{"secret": "abc" x}`, `secret`, `{"secret": "abc"`, `{"a":1} secret`} {
		_, err := decode([]byte(body))
		if !errors.Is(err, errBadJSON) {
			t.Fatalf("%s: %v", body, err)
		}
		if s := err.Error(); len(s) > 80 || strings.Contains(s, "secret") || strings.Contains(s, "abc") {
			t.Fatalf("error repeats the body: %s", s)
		}
	}
}

// FuzzSave feeds any answer and path to the reader: it never panics, a
// success gives a value for every path, and no value exceeds the cap.
func FuzzSave(f *testing.F) {
	f.Add([]byte(`{"balance": 42.5, "account": {"status": "active"}}`), "account.status")
	f.Add([]byte(`{"items": [{"id": 1}]}`), "items.0.id")
	f.Add([]byte(`[1, 2, 3]`), "2")
	f.Add([]byte(`"x"`), "")
	f.Add([]byte(`{"a": 1e999}`), "a")
	c := New(Options{})
	f.Fuzz(func(t *testing.T, body []byte, path string) {
		res, kind, err := c.save(body, map[string]string{"v": path})
		switch kind {
		case KindOK:
			if err != nil || !res.OK || len(res.Values) != 1 || len(res.Values["v"]) > DefaultMaxValue {
				t.Fatalf("ok with %v %+v", err, res)
			}
		case KindBadJSON, KindMissingField, KindTooLarge:
			if err == nil || res.OK {
				t.Fatalf("%s without an error: %+v", kind, res)
			}
		default:
			t.Fatalf("kind %q", kind)
		}
	})
}
