package ivr

import (
	"fmt"
	"strings"
	"testing"
)

// shiftFlow is a flow whose menu 1 runs fetches in a row. kinds says each
// fetch's request: 'S' a secret that is not set, 'E' a URL whose path
// segment comes out empty (both fail before anything is sent), 'R' a request
// that is sent. Each fetch saves o<i> (the API answers "O") or its
// on_error sets o<i> to its error ("refused." for one not sent); the menu
// then says every o<i>.
func shiftFlow(kinds string) string {
	var reqs, acts, say strings.Builder
	for i, k := range kinds {
		url := fmt.Sprintf("https://api.example.com/r%d", i)
		switch k {
		case 'S':
			url += "?key={{secret.UNSET}}"
		case 'E':
			url += "/{{blank}}/x"
		}
		fmt.Fprintf(&reqs, "  r%d:\n    url: %q\n    save: {o%d: v}\n", i, url, i)
		fmt.Fprintf(&acts, "        - fetch: r%d\n          on_error: [{set: {o%d: \"{{error}}.\"}}]\n", i, i)
		fmt.Fprintf(&say, "{{o%d}}", i)
	}
	return "entry: main\nrequests:\n" + reqs.String() + "menus:\n  main:\n    greeting: Hi.\n    options:\n      \"1\":\n" +
		"        - set: {blank: \"\"}\n" + acts.String() + "        - say: \"" + say.String() + "\"\n        - hangup\n"
}

// runShift plays menu 1 of shiftFlow(kinds) as a careful caller does: an
// unsent lookup is answered with its own result, a sent one OK when ok says
// so. It returns what the caller heard.
func runShift(t *testing.T, kinds string, ok func(i int) bool) (string, error) {
	t.Helper()
	f, err := Parse("shift.yaml", []byte(shiftFlow(kinds)))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, shiftFlow(kinds))
	}
	req := Request{Call: Call{Provider: "twilio", ID: "CA1", From: "+15551234567", To: "+15550009999", Now: openTime},
		Path: "menu/main", Input: Input{Digits: "1"}, Sealer: testSealer(t),
		Secrets: func(string) (string, bool) { return "", false }}
	for range MaxFetchesPerStep + 1 {
		res, err := f.Step(req)
		if err != nil {
			return "", err
		}
		if res.Need == nil {
			return strings.Join(says(res), " "), nil
		}
		n := *res.Need
		var i int
		fmt.Sscanf(n.Request, "r%d", &i)
		switch {
		case n.Unsent != "":
			req.Lookups = append(req.Lookups, n.UnsentResult())
		case ok(i):
			req.Lookups = append(req.Lookups, LookupResult{Request: n.Request, OK: true, Values: map[string]string{fmt.Sprintf("o%d", i): "O"}})
		default:
			req.Lookups = append(req.Lookups, LookupResult{Request: n.Request})
		}
	}
	return "", fmt.Errorf("the step never ended")
}

// wantShift is what the caller must hear: each fetch's own outcome.
func wantShift(kinds string, ok func(i int) bool) string {
	var b strings.Builder
	for i, k := range kinds {
		switch {
		case k != 'R':
			b.WriteString(string(FailRefused) + ".")
		case ok(i):
			b.WriteString("O")
		default:
			b.WriteString(string(FailUnavailable) + ".")
		}
	}
	return b.String()
}

// TestLocalFailureKeepsLookupPositions: a fetch that fails before it is sent
// (a secret not set, an empty path segment) runs its own on_error, and the
// fetches after it get their own results (it used to take the next sent
// lookup's result: "lookup 1 is for request r1, the flow asked for r0").
func TestLocalFailureKeepsLookupPositions(t *testing.T) {
	all := func(int) bool { return true }
	first := func(i int) bool { return i != 0 }
	for _, tc := range []struct {
		kinds string
		ok    func(int) bool
	}{
		{"SR", all},
		{"ER", all},
		{"RER", first}, // A answers 404, B's URL segment is empty, C is sent
		{"SSR", all},
		{"RSRER", all},
		{"SSSSSSRRRRR", all}, // five lookups sent: unsent ones do not count
	} {
		got, err := runShift(t, tc.kinds, tc.ok)
		if want := wantShift(tc.kinds, tc.ok); err != nil || got != want {
			t.Errorf("%s: heard %q, %v; want %q", tc.kinds, got, err, want)
		}
	}
}

// FuzzLookupSequence: any sequence of up to five fetches, each failing
// before it is sent or sent and answered ok or failed, ends in each fetch's
// own outcome (on_error for a failure), never an error (the fallback).
func FuzzLookupSequence(f *testing.F) {
	for _, s := range []string{"SR", "RER", "SSRRS", "R", "E", "ERSER"} {
		f.Add([]byte(s), uint8(0b10101))
	}
	f.Fuzz(func(t *testing.T, seq []byte, oks uint8) {
		var kinds strings.Builder
		for _, c := range seq {
			if kinds.Len() == MaxLookupsPerStep {
				break
			}
			if c != 'S' && c != 'E' && c != 'R' {
				c = "SER"[int(c)%3]
			}
			kinds.WriteByte(c)
		}
		if kinds.Len() == 0 {
			return
		}
		ok := func(i int) bool { return oks&(1<<i) != 0 }
		got, err := runShift(t, kinds.String(), ok)
		if want := wantShift(kinds.String(), ok); err != nil || got != want {
			t.Fatalf("%s (ok %05b): heard %q, %v; want %q", kinds.String(), oks, got, err, want)
		}
	})
}
