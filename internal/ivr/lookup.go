package ivr

import (
	"log/slog"
	"net/url"
	"time"
)

// MaxLookupsPerStep is how many lookups one webhook step may send; a step
// that needs more is an error (the server answers the fallback).
// MaxFetchesPerStep also counts the lookups that cannot be sent (Unsent),
// which the step asks for too: a caller's loop never needs more rounds.
const (
	MaxLookupsPerStep = 5
	MaxFetchesPerStep = 4 * MaxLookupsPerStep
)

// Lookup is one of the flow's HTTP requests, ready to send: templates
// expanded in one pass (a substituted value is never expanded again), values
// URL-encoded in the URL and JSON-encoded in the body, {{secret.NAME}} filled
// from Request.Secrets. It carries secrets: its LogValue shows only the
// request name, method and host.
type Lookup struct {
	Request string            // its name under requests:
	Method  string            // "GET" or "POST"
	URL     string            // absolute http(s) URL
	Headers map[string]string // may hold secrets: never log
	Body    []byte            // POST: JSON; nil for GET
	Timeout time.Duration     // default 3s, at most 10s (checked at load)
	Save    map[string]string // variable name -> path in the JSON answer ("account.status", "items.0.id")
	// Unsent is why the lookup cannot be sent ("" = send it): a secret that
	// is not set, a URL that is not http(s) once expanded, an empty path
	// segment. The caller sends nothing and hands back UnsentResult: a
	// local failure is an outcome like any other, so the step's results,
	// matched by position, never shift.
	Unsent     string
	unsentFail Failure // the on_error's error for Unsent
}

// UnsentResult is the result of a lookup that was not sent (Unsent != "").
func (l Lookup) UnsentResult() LookupResult {
	return LookupResult{Request: l.Request, Unsent: l.Unsent, Failure: l.unsentFail}
}

// LogValue implements slog.LogValuer: name, method and host only, never the
// path, query, headers or body (they may carry secrets or caller data).
func (l Lookup) LogValue() slog.Value {
	host := ""
	if u, err := url.Parse(l.URL); err == nil {
		host = u.Host
	}
	return slog.GroupValue(
		slog.String("request", l.Request),
		slog.String("method", l.Method),
		slog.String("host", host),
	)
}

// String is the same short, secret-free description as LogValue.
func (l Lookup) String() string {
	v := l.LogValue().Group()
	return v[0].Value.String() + " " + v[1].Value.String() + " " + v[2].Value.String()
}

// LookupResult is what the engine's caller found for a Lookup.
type LookupResult struct {
	Request string            // = Lookup.Request
	OK      bool              // false: the fetch's on_error runs
	Values  map[string]string // variable -> value; every Save variable present when OK
	// Failure says what went wrong when not OK; on_error reads it as the
	// variable error. "" when not OK reads as FailUnavailable.
	Failure Failure
	Unsent  string // the Lookup's Unsent: it failed before it was sent
}

// Failure is why a fetch failed: the value of the variable error in its
// on_error.
type Failure string

// The failures a fetch's on_error can tell apart.
const (
	FailNotFound    Failure = "not_found"   // the API answered 404
	FailTimeout     Failure = "timeout"     // no answer within the request's timeout or the call's deadline
	FailUnavailable Failure = "unavailable" // no connection, a 5xx answer, or the API's breaker is open
	FailBadAnswer   Failure = "bad_answer"  // not JSON, too large, or a saved field missing
	FailRefused     Failure = "refused"     // another 4xx answer, or the request could not be made (a secret not set)
)

// Failures lists every Failure, in the order FORMAT.md gives them.
var Failures = []Failure{FailNotFound, FailTimeout, FailUnavailable, FailBadAnswer, FailRefused}

// failure is r's failure for on_error: unavailable when it gives none.
func (r LookupResult) failure() Failure {
	if r.Failure == "" {
		return FailUnavailable
	}
	return r.Failure
}

// Sealer seals the call's variables into one query value of the action URLs
// (authenticated encryption; internal/seal implements it). ad is the call
// the token belongs to (callBinding): authenticated, not stored, so a token
// opens only in the call it was sealed for.
type Sealer interface {
	SealFor(plain, ad []byte) string                 // URL-safe token
	OpenFor(token string, ad []byte) ([]byte, error) // error on tamper, wrong key, another call or garbage
}

// callBinding is the additional data that binds sealed variables to their
// call: the provider and the call id (CallSid / CallUUID), which every
// webhook of a call carries, transfers and recordings included.
func callBinding(c Call) []byte {
	return []byte(c.Provider + "\x00" + c.ID)
}
