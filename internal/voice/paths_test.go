package voice

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzCollapseSlashes: the routed path never holds "//", cleaning twice
// changes nothing, and only slashes are removed.
func FuzzCollapseSlashes(f *testing.F) {
	for _, s := range []string{"//twilio/voice", "/twilio/voice//menu/main", "/", "", "///", "/a%2F%2Fb//c/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := collapseSlashes(s)
		if strings.Contains(c, "//") || collapseSlashes(c) != c {
			t.Fatalf("collapseSlashes(%q) = %q", s, c)
		}
		if strings.ReplaceAll(c, "/", "") != strings.ReplaceAll(s, "/", "") {
			t.Fatalf("collapseSlashes(%q) = %q: more than slashes removed", s, c)
		}
	})
}

// An escaped slash next to a real one: the router and the handler agree on
// the cleaned path.
func TestCleanSlashesEscapedPath(t *testing.T) {
	var got *http.Request
	h := CleanSlashes(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r }))
	for _, c := range []struct{ target, path, raw string }{
		{"//twilio/voice", "/twilio/voice", ""},
		{"/twilio/voice%2F/menu", "/twilio/voice/menu", ""},
		{"/twilio//voice/menu/a%2Fb", "/twilio/voice/menu/a/b", "/twilio/voice/menu/a%2Fb"},
	} {
		r := httptest.NewRequest(http.MethodPost, c.target, nil)
		h.ServeHTTP(httptest.NewRecorder(), r)
		if got.URL.Path != c.path || got.URL.RawPath != c.raw || got.RequestURI != c.target {
			t.Errorf("%s: path %q raw %q uri %q, want %q %q %q", c.target, got.URL.Path, got.URL.RawPath, got.RequestURI, c.path, c.raw, c.target)
		}
	}
}
