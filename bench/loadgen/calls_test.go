package main

import (
	"fmt"
	"regexp"
	"testing"
)

// TestCallerDistinctAcrossRuns: a run's callers are E.164 numbers, distinct
// within the run and from another run's (the warm-up's callers must not call
// again in the measured run).
func TestCallerDistinctAcrossRuns(t *testing.T) {
	e164 := regexp.MustCompile(`^\+1[0-9]{10}$`)
	seen := map[string]string{}
	for run := range 3 {
		prefix := fmt.Sprintf("%04x%02x", 0xbeef+run*7, run+1)
		for i := range 2000 {
			c := caller(prefix, i)
			if !e164.MatchString(c) {
				t.Fatalf("caller(%q, %d) = %q, want +1 and ten digits", prefix, i, c)
			}
			if other, ok := seen[c]; ok {
				t.Fatalf("caller(%q, %d) = %q, also a caller of run %s", prefix, i, c, other)
			}
			seen[c] = prefix
		}
	}
}
