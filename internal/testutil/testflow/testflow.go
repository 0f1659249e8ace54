// Package testflow parses flows for the tests of the packages above the
// engine (internal/ivr's own tests have their helper: they cannot import
// this package without a cycle). Only tests import it.
package testflow

import (
	"testing"

	"github.com/ivr-project/ivr/internal/ivr"
)

// MustParse parses text as a flow file named t.yaml, failing t on any problem.
func MustParse(t testing.TB, text string) *ivr.Flow {
	t.Helper()
	f, err := ivr.Parse("t.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return f
}
