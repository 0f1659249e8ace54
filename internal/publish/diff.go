package publish

import (
	"fmt"
	"sort"
	"strings"
)

// Diff is a unified line diff (3 lines of context) from a to b, "" when
// they are equal.
//
// It is an anchored diff (after Go's internal/diff, BSD licence, The Go
// Authors): lines that appear once in each text anchor the matching
// regions, found as the longest increasing subsequence of their positions.
// It runs in O(n log n) time and linear space whatever the texts, so two
// large revisions (80,000 lines, 1 MiB) take milliseconds; the quadratic
// matcher it replaces took minutes on them. It is not always the shortest
// diff, but usually the clearer one: it does not pair unrelated blank lines
// or repeated "- hangup" lines.
func Diff(a, b, nameA, nameB string) string {
	if a == b {
		return ""
	}
	x, y := lines(a), lines(b)
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", nameA, nameB)
	const C = 3 // lines of context
	var (
		done  pair     // written up to x[:done.x] and y[:done.y]
		chunk pair     // where the current hunk starts
		count pair     // lines of each side in the current hunk
		ctext []string // the current hunk's lines
	)
	for _, m := range anchors(x, y) {
		if m.x < done.x {
			continue // already covered scanning on from an earlier anchor
		}
		// Grow the match both ways: x[start.x:end.x] == y[start.y:end.y].
		start, end := m, m
		for start.x > done.x && start.y > done.y && x[start.x-1] == y[start.y-1] {
			start.x, start.y = start.x-1, start.y-1
		}
		for end.x < len(x) && end.y < len(y) && x[end.x] == y[end.y] {
			end.x, end.y = end.x+1, end.y+1
		}
		for _, s := range x[done.x:start.x] {
			ctext = append(ctext, "-"+s)
			count.x++
		}
		for _, s := range y[done.y:start.y] {
			ctext = append(ctext, "+"+s)
			count.y++
		}
		// Too few common lines before the next change: they join the hunk.
		if (end.x < len(x) || end.y < len(y)) && (end.x-start.x < C || (len(ctext) > 0 && end.x-start.x < 2*C)) {
			for _, s := range x[start.x:end.x] {
				ctext = append(ctext, " "+s)
				count.x++
				count.y++
			}
			done = end
			continue
		}
		if len(ctext) > 0 { // end the hunk with context and write it
			n := min(end.x-start.x, C)
			for _, s := range x[start.x : start.x+n] {
				ctext = append(ctext, " "+s)
				count.x++
				count.y++
			}
			done = pair{start.x + n, start.y + n}
			fmt.Fprintf(&out, "@@ -%s +%s @@\n", hunkRange(chunk.x, count.x), hunkRange(chunk.y, count.y))
			for _, s := range ctext {
				out.WriteString(s)
			}
			count, ctext = pair{}, ctext[:0]
		}
		if end.x >= len(x) && end.y >= len(y) {
			break
		}
		chunk = pair{end.x - C, end.y - C}
		for _, s := range x[chunk.x:end.x] {
			ctext = append(ctext, " "+s)
			count.x++
			count.y++
		}
		done = end
	}
	return out.String()
}

// pair is a line index on each side.
type pair struct{ x, y int }

// hunkRange is a hunk header's range as diff -u writes it: "start,count"
// (1-based), "start" for one line, "before,0" for none.
func hunkRange(start, n int) string {
	switch n {
	case 0:
		return fmt.Sprintf("%d,0", start)
	case 1:
		return fmt.Sprint(start + 1)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
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

// anchors returns the pairs of indexes of the longest common subsequence of
// the lines that appear once in x and once in y, between the sentinels
// {0, 0} and {len(x), len(y)} (T. G. Szymanski, "A Special Case of the
// Maximal Common Subsequence Problem", 1975).
func anchors(x, y []string) []pair {
	// How often each line appears: 0, 1, many as 0, -1, -2 for x and 0,
	// -4, -8 for y; a line once in each is -5.
	m := make(map[string]int)
	for _, s := range x {
		if c := m[s]; c > -2 {
			m[s] = c - 1
		}
	}
	for _, s := range y {
		if c := m[s]; c > -8 {
			m[s] = c - 4
		}
	}
	// xi, yi: increasing indexes of the unique lines; inv[i]: j with
	// x[xi[i]] == y[yi[j]].
	var xi, yi, inv []int
	for i, s := range y {
		if m[s] == -1+-4 {
			m[s] = len(yi)
			yi = append(yi, i)
		}
	}
	for i, s := range x {
		if j, ok := m[s]; ok && j >= 0 {
			xi = append(xi, i)
			inv = append(inv, j)
		}
	}
	n := len(xi)
	T, L := make([]int, n), make([]int, n)
	for i := range T {
		T[i] = n + 1
	}
	for i := range n {
		k := sort.Search(n, func(k int) bool { return T[k] >= inv[i] })
		T[k], L[i] = inv[i], k+1
	}
	k := 0
	for _, v := range L {
		k = max(k, v)
	}
	seq := make([]pair, 2+k)
	seq[1+k] = pair{len(x), len(y)}
	last := n
	for i := n - 1; i >= 0; i-- {
		if L[i] == k && inv[i] < last {
			seq[k] = pair{xi[i], yi[inv[i]]}
			last = inv[i]
			k--
		}
	}
	return seq
}
