package lookup

import "github.com/ivr-project/ivr/internal/ivr"

// The engine's lookup types (its exported contract, nothing of its internals).
type (
	Lookup       = ivr.Lookup
	LookupResult = ivr.LookupResult
)
