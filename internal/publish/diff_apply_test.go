package publish

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// apply applies a unified diff made by Diff to a and returns the result; it
// fails the test when a hunk does not fit a (wrong line numbers, a context
// or removed line that is not there).
func apply(t testing.TB, a, diff string) string {
	t.Helper()
	src := lines(a)
	if diff == "" {
		return strings.Join(src, "")
	}
	ls := lines(diff)
	if len(ls) < 2 || !strings.HasPrefix(ls[0], "--- ") || !strings.HasPrefix(ls[1], "+++ ") {
		t.Fatalf("no header:\n%s", diff)
	}
	var out []string
	at := 0 // next line of src to copy
	for i := 2; i < len(ls); {
		var from, n int
		h := strings.TrimSuffix(ls[i], "\n")
		if _, err := fmt.Sscanf(h, "@@ -%s", new(string)); err != nil || !strings.HasSuffix(h, " @@") {
			t.Fatalf("line %d is not a hunk header: %q", i, h)
		}
		old := strings.Fields(h)[1][1:]
		start, count, ok := strings.Cut(old, ",")
		from, _ = strconv.Atoi(start)
		n = 1
		if ok {
			n, _ = strconv.Atoi(count)
		}
		if n > 0 {
			from-- // 1-based; an empty range names the line before
		}
		if from < at || from > len(src) {
			t.Fatalf("hunk %q out of order (at %d of %d)", h, at, len(src))
		}
		out = append(out, src[at:from]...)
		at = from
		for i++; i < len(ls) && !strings.HasPrefix(ls[i], "@@ "); i++ {
			l := ls[i]
			switch l[0] {
			case ' ', '-':
				if at >= len(src) || src[at] != l[1:] {
					t.Fatalf("hunk %q: line %d of a is not %q", h, at+1, l[1:])
				}
				if l[0] == ' ' {
					out = append(out, src[at])
				}
				at++
			case '+':
				out = append(out, l[1:])
			default:
				t.Fatalf("bad diff line %q", l)
			}
		}
	}
	return strings.Join(append(out, src[at:]...), "")
}

// withNewline is s as Diff compares it: a final newline added.
func withNewline(s string) string {
	if s != "" && !strings.HasSuffix(s, "\n") {
		return s + "\n"
	}
	return s
}

// FuzzDiff: applying Diff(a, b) to a gives b.
func FuzzDiff(f *testing.F) {
	f.Add("a\nb\nc\n", "a\nB\nc\n")
	f.Add("a", "a\nb")
	f.Add("", "x\n")
	f.Add("x\ny\nx\ny\n", "y\nx\ny\nx\n")
	f.Add("1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n", "1\n2\n3\n4\nfive\n6\n7\n8\n9\nten\n")
	f.Fuzz(func(t *testing.T, a, b string) {
		if got := apply(t, a, Diff(a, b, "a", "b")); got != withNewline(b) && !(a == b) {
			t.Fatalf("patched a is\n%q\nwant\n%q", got, withNewline(b))
		}
	})
}

// bigRevisions are two flow-like texts of n lines each with changes spread
// through them: lines changed, dropped and added, and many repeated lines
// (blank lines, "hangup"), as YAML flows have.
func bigRevisions(n int) (string, string) {
	r := rand.New(rand.NewPCG(1, 2))
	var a, b strings.Builder
	for i := range n {
		line := "    greeting: \"menu " + strconv.Itoa(i) + "\"\n"
		if i%3 == 0 {
			line = "        - hangup\n"
		}
		a.WriteString(line)
		switch r.IntN(50) {
		case 0:
			b.WriteString("    greeting: \"changed " + strconv.Itoa(i) + "\"\n")
		case 1: // dropped
		case 2:
			b.WriteString(line + "\n")
		default:
			b.WriteString(line)
		}
	}
	return a.String(), b.String()
}

// TestDiffLargeRevisions: two 80,000-line revisions give a diff that turns
// one into the other (the quadratic matcher used here before took 47 s for
// this and more for 1 MiB; BenchmarkDiff measures it).
func TestDiffLargeRevisions(t *testing.T) {
	a, b := bigRevisions(80_000)
	d := Diff(a, b, "one", "two")
	if got := apply(t, a, d); got != b {
		t.Fatal("the diff of two large revisions does not turn one into the other")
	}
}

func BenchmarkDiff(b *testing.B) {
	for _, n := range []int{1_000, 80_000} {
		x, y := bigRevisions(n)
		b.Run(strconv.Itoa(n)+" lines", func(b *testing.B) {
			b.SetBytes(int64(len(x) + len(y)))
			for b.Loop() {
				Diff(x, y, "one", "two")
			}
		})
	}
}
