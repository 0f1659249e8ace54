// Package clip shortens text for labels, logs and error messages without
// splitting a UTF-8 character. It imports nothing of the project, so any
// package may use it.
package clip

import "strings"

// Runes returns s cut to at most n runes, the last one "…" when s was cut
// (n < 1 is taken as 1).
func Runes(s string, n int) string {
	n = max(n, 1)
	count := 0
	for i := range s {
		if count == n-1 {
			if rest := s[i:]; len([]rune(rest)) > 1 {
				return s[:i] + "…"
			}
			return s
		}
		count++
	}
	return s
}

// Line is Runes on s with its runs of white space (new lines included)
// collapsed into single spaces and the ends trimmed.
func Line(s string, n int) string {
	return Runes(strings.Join(strings.Fields(s), " "), n)
}
