package publish

import (
	"strings"

	"github.com/pmezard/go-difflib/difflib"
)

// Diff is a unified line diff (3 lines of context) from a to b, "" when
// they are equal.
func Diff(a, b, nameA, nameB string) string {
	if a == b {
		return ""
	}
	out, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: lines(a), B: lines(b),
		FromFile: nameA, ToFile: nameB, Context: 3,
	})
	if err != nil { // only from the writer, a strings.Builder here
		return ""
	}
	return out
}

// lines splits s into lines that each end with "\n" (the last one gets one
// when the text lacks it).
func lines(s string) []string {
	if s != "" && !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	out := strings.SplitAfter(s, "\n")
	return out[:len(out)-1]
}
