package clip

import (
	"testing"
	"unicode/utf8"
)

func TestRunes(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{
		{"", 5, ""},
		{"hello", 5, "hello"},
		{"hello!", 5, "hell…"},
		{"héllo wörld", 6, "héllo…"},
		{"日本語のテキスト", 4, "日本語…"},
		{"日本語", 3, "日本語"},
		{"ab", 1, "…"},
		{"a", 1, "a"},
		{"ab", 0, "…"},
		{"🙂🙂🙂", 2, "🙂…"},
	} {
		got := Runes(tc.s, tc.n)
		if got != tc.want {
			t.Errorf("Runes(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
		if !utf8.ValidString(got) || utf8.RuneCountInString(got) > max(tc.n, 1) {
			t.Errorf("Runes(%q, %d) = %q: split a character or too long", tc.s, tc.n, got)
		}
	}
}

func TestLine(t *testing.T) {
	if got := Line("  a \n b  ", 10); got != "a b" {
		t.Errorf("Line = %q, want %q", got, "a b")
	}
	if got := Line("héllo\twörld", 6); got != "héllo…" {
		t.Errorf("Line = %q, want %q", got, "héllo…")
	}
}
