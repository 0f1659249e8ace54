package lookup

import (
	"log/slog"
	"net/url"
	"time"
)

// Lookup and LookupResult mirror ivr.Lookup and ivr.LookupResult (the agreed
// contract) until the engine's types land; then these become aliases.

// Lookup is one of the flow's HTTP requests, ready to send.
type Lookup struct {
	Request string            // its name under requests:
	Method  string            // "GET" or "POST"
	URL     string            // absolute http(s) URL
	Headers map[string]string // may hold secrets: never log
	Body    []byte            // POST: JSON; nil for GET
	Timeout time.Duration     // default 3s, at most 10s
	Save    map[string]string // variable name -> path in the JSON answer
}

// LogValue shows only the request's name, method and host.
func (l Lookup) LogValue() slog.Value {
	host := ""
	if u, err := url.Parse(l.URL); err == nil {
		host = u.Host
	}
	return slog.GroupValue(slog.String("request", l.Request), slog.String("method", l.Method), slog.String("host", host))
}

// LookupResult is what the engine's caller found.
type LookupResult struct {
	Request string
	OK      bool
	Values  map[string]string
}
