package ivr

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Problem is one thing wrong with a flow file, at a line and column (1-based;
// 0 when the problem is about the file as a whole).
type Problem struct {
	File      string
	Line, Col int
	Msg       string

	// cause marks a problem that others follow from (an unknown, likely
	// misspelt key): it is listed before them.
	cause bool
}

// String is "file:line:col: message".
func (p Problem) String() string {
	if p.Line == 0 {
		return fmt.Sprintf("%s: %s", p.File, p.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Col, p.Msg)
}

// Problems is every problem found in a flow file: unknown keys first (a
// misspelt key is the cause of what follows from it, such as a missing
// greeting), then the rest, each in file order. It is the error Parse and
// Load return for a bad file.
type Problems []Problem

// Error is one Problem per line.
func (ps Problems) Error() string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.String())
	}
	return b.String()
}

func (ps Problems) sort() {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		return cmp.Or(compareCause(a, b), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	})
}

// compareCause orders causes before the rest.
func compareCause(a, b Problem) int {
	switch {
	case a.cause == b.cause:
		return 0
	case a.cause:
		return -1
	}
	return 1
}

// suggest returns " Did you mean "x"?" for the closest candidate within a
// small edit distance, or "".
func suggest(s string, candidates []string) string {
	best, bestD := "", 3
	ls := strings.ToLower(s)
	for _, c := range candidates {
		if d := editDistance(ls, strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" || (bestD > 1 && len(s) < 4) {
		return ""
	}
	return fmt.Sprintf("; did you mean %q?", best)
}

// editDistance is the optimal string alignment distance (insertions,
// deletions, substitutions and swaps of neighbours).
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+c)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
