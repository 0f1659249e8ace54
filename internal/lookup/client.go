// Package lookup performs a flow's HTTP requests (ivr.Lookup) for the
// server: GET or POST JSON, a timeout per request inside the caller's
// context, a capped answer, values read by path, and a circuit breaker per
// request name so that an API that keeps failing is skipped for a while.
//
// Nothing here logs or returns in an error a URL (it may carry a caller's
// account number), a header (it may carry a secret) or a body: the caller
// logs an Outcome as the request's name and host, its kind, status,
// duration and Err. Breaker state changes are logged here.
package lookup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/ivr-project/ivr/internal/ivr"
)

// Outcome kinds: "ok", or why the fetch's on_error runs.
const (
	KindOK           = "ok"
	KindTimeout      = "timeout"       // the request's timeout or the caller's deadline passed
	KindStatus       = "status"        // a non-2xx answer (redirects are not followed)
	KindTooLarge     = "too_large"     // a body over MaxBody, or a saved value over MaxValue
	KindBadJSON      = "bad_json"      // the body is not one JSON value
	KindMissingField = "missing_field" // a save path names nothing (or null, an object, an array)
	KindBreakerOpen  = "breaker_open"  // the API failed repeatedly: not asked for a while
	KindError        = "error"         // the request could not be made (DNS, refused, TLS, ...)
	KindUnsent       = "unsent"        // the engine could not build it (a secret not set, a bad URL): not sent
)

// Kinds lists every outcome kind (for metrics that should exist at zero).
var Kinds = []string{KindOK, KindTimeout, KindStatus, KindTooLarge, KindBadJSON, KindMissingField, KindBreakerOpen, KindError, KindUnsent}

// Limits and defaults.
const (
	DefaultTimeout   = 3 * time.Second
	MaxTimeout       = 10 * time.Second
	DefaultMaxBody   = 64 << 10
	DefaultMaxValue  = 256 // bytes of one saved value: values ride (sealed) in the action URLs
	maxHeaderBytes   = 16 << 10
	userAgent        = "ivr-lookup/1"
	defaultFailures  = 5
	defaultOpenFor   = 30 * time.Second
	maxIdlePerHost   = 32
	idleConnTimeout  = 90 * time.Second
	handshakeTimeout = 5 * time.Second
)

// Options configure a Client. The zero value is usable.
type Options struct {
	// Transport sends the requests; nil = a transport of the client's own
	// (connection reuse, 16 KiB response headers, proxy from the environment).
	Transport http.RoundTripper
	Logger    *slog.Logger // breaker state changes
	MaxBody   int64        // answers over this are too_large; 0 = 64 KiB
	MaxValue  int          // a saved value longer than this is too_large; 0 = 256 bytes
	// Failures in a row (timeouts, errors, 5xx and 429 answers) that open a
	// request's breaker; 0 = 5. OpenFor is how long it stays open before
	// one trial request; 0 = 30s.
	Failures uint32
	OpenFor  time.Duration
	// OnBreaker is told when a request's breaker changes state
	// ("closed", "open", "half-open"); nil = only logged.
	OnBreaker func(request, from, to string)
}

// Client performs lookups. It is safe for concurrent use; one per process.
type Client struct {
	http     *http.Client
	maxBody  int64
	maxValue int
	breakers *breakers
}

// New returns a Client.
func New(o Options) *Client {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Transport == nil {
		o.Transport = NewTransport()
	}
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.MaxValue <= 0 {
		o.MaxValue = DefaultMaxValue
	}
	c := &Client{
		http: &http.Client{
			Transport: o.Transport,
			// No redirects at all: a header's secret must not follow
			// the request elsewhere, and a 3xx is the API's mistake.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		maxBody:  o.MaxBody,
		maxValue: o.MaxValue,
	}
	c.breakers = newBreakers(o, o.Logger)
	return c
}

// NewTransport is the transport New uses by default: idle connections kept
// per host, bounded handshakes and response headers.
func NewTransport() *http.Transport {
	return &http.Transport{
		Proxy:                  http.ProxyFromEnvironment,
		DialContext:            (&net.Dialer{Timeout: handshakeTimeout, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           256,
		MaxIdleConnsPerHost:    maxIdlePerHost,
		IdleConnTimeout:        idleConnTimeout,
		TLSHandshakeTimeout:    handshakeTimeout,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: maxHeaderBytes,
	}
}

// Outcome is what Do found: the result for the engine and, for the call
// record and metrics, the kind, the HTTP status (0 when there was none) and
// the time it took. Err says why in words safe to log: no URL, header or body.
type Outcome struct {
	Result   LookupResult
	Kind     string
	Status   int
	Duration time.Duration
	Err      error
}

// Do performs l within ctx (the caller's voice deadline) and its own
// timeout. It never fails: a failure is an Outcome whose Result is not OK.
func (c *Client) Do(ctx context.Context, l Lookup) Outcome {
	start := time.Now()
	if l.Unsent != "" { // the engine's own failure: nothing to send, not the API's fault
		return Outcome{Result: l.UnsentResult(), Kind: KindUnsent, Err: errors.New(l.Unsent)}
	}
	if ctx.Err() != nil { // no time left before asking: not the API's failure
		return Outcome{Result: LookupResult{Request: l.Request, Failure: ivr.FailTimeout}, Kind: KindTimeout,
			Err: errors.New("no time left in the call's deadline"), Duration: time.Since(start)}
	}
	timeout := l.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	timeout = min(timeout, MaxTimeout)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	// The request runs on a goroutine of its own, and a timeout is the
	// outcome the moment ctx ends: the transport unwinding the request
	// (closing the connection, its reader noticing) finishes behind it.
	// Under a burst of lookups ending together that unwinding took longer
	// than the time the voice deadline leaves to answer.
	res := make(chan Outcome, 1)
	var status atomic.Int32 // the answer's HTTP status once its headers are in
	go func() {
		defer cancel()
		o, err := c.breakers.get(l.Request).Execute(func() (Outcome, error) {
			o := c.do(ctx, l, timeout, &status)
			return o, breakerError(ctx, o)
		})
		if o.Kind == "" { // the breaker refused: nothing was sent
			o = Outcome{Kind: KindBreakerOpen, Err: err}
		}
		res <- o
	}()
	var o Outcome
	select {
	case o = <-res:
	case <-ctx.Done():
		select {
		case o = <-res: // it ended meanwhile: its own outcome
		default:
			o = Outcome{Kind: KindTimeout, Status: int(status.Load()), Err: timeoutError(timeout)}
			if o.Status != 0 {
				o.Err = bodyTimeoutError(timeout)
			}
		}
	}
	o.Result.Request = l.Request
	o.Duration = time.Since(start)
	if o.Kind != KindOK {
		o.Result.OK, o.Result.Values = false, nil
		o.Result.Failure = Failure(o.Kind, o.Status)
	}
	return o
}

// Failure is what the flow's on_error sees (the variable error) for an
// outcome kind and HTTP status: not_found for a 404, timeout, unavailable
// (no connection, a 5xx answer, the breaker open), bad_answer (not JSON,
// too large, a field missing, a redirect) and refused (another 4xx).
func Failure(kind string, status int) ivr.Failure {
	switch kind {
	case KindOK:
		return ""
	case KindTimeout:
		return ivr.FailTimeout
	case KindTooLarge, KindBadJSON, KindMissingField:
		return ivr.FailBadAnswer
	case KindStatus:
		switch {
		case status == 404:
			return ivr.FailNotFound
		case status >= 400 && status < 500:
			return ivr.FailRefused
		case status >= 500:
			return ivr.FailUnavailable
		}
		return ivr.FailBadAnswer // 1xx, 3xx: redirects are not followed
	}
	return ivr.FailUnavailable // breaker open, no connection
}

// timeoutError says a lookup ran out of time: its own or the call's.
func timeoutError(timeout time.Duration) error {
	return fmt.Errorf("no answer within %s or the call's deadline", timeout)
}

// bodyTimeoutError says a lookup's answer began but did not end in time.
func bodyTimeoutError(timeout time.Duration) error {
	return fmt.Errorf("answer not read within %s or the call's deadline", timeout)
}

// do sends the request and reads the answer within ctx (which carries the
// request's timeout); status gets the answer's HTTP status once it is in.
func (c *Client) do(ctx context.Context, l Lookup, timeout time.Duration, status *atomic.Int32) Outcome {
	req, err := c.newRequest(ctx, l)
	if err != nil {
		return Outcome{Kind: KindError, Err: err}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return Outcome{Kind: KindTimeout, Err: timeoutError(timeout)}
		}
		return Outcome{Kind: KindError, Err: safe(err)}
	}
	defer resp.Body.Close()
	status.Store(int32(resp.StatusCode))
	o := Outcome{Status: resp.StatusCode}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10)) // small answers keep the connection
		o.Kind, o.Err = KindStatus, errors.New("answered "+strconv.Itoa(resp.StatusCode))
		return o
	}
	if resp.ContentLength > c.maxBody {
		o.Kind, o.Err = KindTooLarge, fmt.Errorf("announced %d bytes, over %d", resp.ContentLength, c.maxBody)
		return o
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	switch {
	case ctx.Err() != nil:
		o.Kind, o.Err = KindTimeout, bodyTimeoutError(timeout)
		return o
	case err != nil:
		o.Kind, o.Err = KindError, safe(err)
		return o
	case int64(len(body)) > c.maxBody:
		o.Kind, o.Err = KindTooLarge, fmt.Errorf("answer over %d bytes", c.maxBody)
		return o
	}
	o.Result, o.Kind, o.Err = c.save(body, l.Save)
	return o
}

func (c *Client) newRequest(ctx context.Context, l Lookup) (*http.Request, error) {
	method := l.Method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if l.Body != nil {
		body = bytes.NewReader(l.Body)
	}
	req, err := http.NewRequestWithContext(ctx, method, l.URL, body)
	if err != nil {
		return nil, errors.New("the request's URL or method is not usable")
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return nil, errors.New("the request's URL is not http(s)")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if l.Body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range l.Headers {
		req.Header.Set(k, v)
	}
	return req, nil
}

// save reads each Save path from the answer.
func (c *Client) save(body []byte, paths map[string]string) (LookupResult, string, error) {
	v, err := decode(body)
	if err != nil {
		return LookupResult{}, KindBadJSON, err
	}
	values := make(map[string]string, len(paths))
	for name, path := range paths {
		s, err := walk(v, path)
		if err != nil {
			return LookupResult{}, KindMissingField, fmt.Errorf("no value at %q (for %s)", path, name)
		}
		if len(s) > c.maxValue {
			return LookupResult{}, KindTooLarge, fmt.Errorf("the value at %q is over %d bytes", path, c.maxValue)
		}
		values[name] = s
	}
	return LookupResult{OK: true, Values: values}, KindOK, nil
}

// safe is err without the URL (which may carry a caller's value).
func safe(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
