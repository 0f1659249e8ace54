package testutil

import "testing"

// MustParse parses text as a flow file named t.yaml with parse (ivr.Parse,
// passed in: this package imports nothing of the module, so the engine's
// own tests use it too), failing t on any problem.
func MustParse[F any](t testing.TB, parse func(name string, text []byte) (F, error), text string) F {
	t.Helper()
	f, err := parse("t.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return f
}
