package publish

import "testing"

func TestDiff(t *testing.T) {
	for _, tc := range []struct{ a, b, want string }{
		{"same\n", "same\n", ""},
		{"a\nb\nc\n", "a\nB\nc\n", "--- one\n+++ two\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"},
		{"a", "a\nb", "--- one\n+++ two\n@@ -1 +1,2 @@\n a\n+b\n"}, // no final newline
	} {
		if got := Diff(tc.a, tc.b, "one", "two"); got != tc.want {
			t.Errorf("Diff(%q, %q) =\n%s\nwant\n%s", tc.a, tc.b, got, tc.want)
		}
	}
}
