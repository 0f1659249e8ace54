// Package outbound places phone calls through the providers' REST APIs:
// Twilio's Calls resource through twilio-go's REST client, and Plivo's Call
// API (hand-written: its request is small and plivo-go is not a
// dependency). It is used for callbacks: the agent's phone rings first and
// its answer URL (one of ours, signed by the provider like every webhook)
// whispers and dials the caller.
//
// The base URLs are configurable (IVR_TWILIO_API_URL, IVR_PLIVO_API_URL) so
// tests run against a local fake of each API.
package outbound

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Providers, as in the routes "/twilio/..." and "/plivo/...".
const (
	Twilio = "twilio"
	Plivo  = "plivo"
)

// The providers' real API hosts.
const (
	DefaultTwilioAPI = "https://api.twilio.com"
	DefaultPlivoAPI  = "https://api.plivo.com"
	// DefaultTimeout bounds one REST request.
	DefaultTimeout = 10 * time.Second
)

// Call is one outbound call to place.
type Call struct {
	To        string // E.164: whom to ring (the agent)
	From      string // E.164: the caller ID shown
	AnswerURL string // absolute: requested (POST) when the call is answered
	StatusURL string // absolute: requested (POST) when the call ends
}

// Config holds the credentials and API locations. A provider without its
// id or token cannot place calls (Ready says why).
type Config struct {
	TwilioAccountSID, TwilioAuthToken, TwilioAPIURL string
	PlivoAuthID, PlivoAuthToken, PlivoAPIURL        string
	Timeout                                         time.Duration // one request; 0 = DefaultTimeout
	// Transport sends the requests; nil = http.DefaultTransport.
	Transport http.RoundTripper
}

// Client places calls on either provider.
type Client struct {
	cfg Config
}

// New returns a Client; empty API URLs are the providers' real hosts.
func New(cfg Config) *Client {
	if cfg.TwilioAPIURL == "" {
		cfg.TwilioAPIURL = DefaultTwilioAPI
	}
	if cfg.PlivoAPIURL == "" {
		cfg.PlivoAPIURL = DefaultPlivoAPI
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Transport == nil {
		cfg.Transport = http.DefaultTransport
	}
	cfg.TwilioAPIURL = strings.TrimRight(cfg.TwilioAPIURL, "/")
	cfg.PlivoAPIURL = strings.TrimRight(cfg.PlivoAPIURL, "/")
	return &Client{cfg: cfg}
}

// ErrNotConfigured: the provider's REST credentials are not set.
var ErrNotConfigured = errors.New("outbound calls are not configured")

// Ready reports whether calls can be placed on provider, and if not, what
// to set.
func (c *Client) Ready(provider string) error {
	switch provider {
	case Twilio:
		if c.cfg.TwilioAccountSID == "" || c.cfg.TwilioAuthToken == "" {
			return fmt.Errorf("%w for twilio: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN", ErrNotConfigured)
		}
	case Plivo:
		if c.cfg.PlivoAuthID == "" || c.cfg.PlivoAuthToken == "" {
			return fmt.Errorf("%w for plivo: set PLIVO_AUTH_ID and PLIVO_AUTH_TOKEN", ErrNotConfigured)
		}
	default:
		return fmt.Errorf("outbound: unknown provider %q", provider)
	}
	return nil
}

// Place places call on provider and returns the provider's id for it
// (Twilio's CallSid, Plivo's request_uuid). An error means no call was
// accepted by the provider (or its answer never came: a timeout).
func (c *Client) Place(ctx context.Context, provider string, call Call) (string, error) {
	if err := c.Ready(provider); err != nil {
		return "", err
	}
	for _, u := range []string{call.AnswerURL, call.StatusURL} {
		if p, err := url.Parse(u); err != nil || p.Host == "" {
			return "", fmt.Errorf("outbound %s: %q is not an absolute URL", provider, u)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	if provider == Twilio {
		return c.twilio(ctx, call)
	}
	return c.plivo(ctx, call)
}

// httpClient sends one request on ctx, to base instead of the host the
// SDK built the URL with (base = the provider's real host leaves it alone).
func (c *Client) httpClient(ctx context.Context, base string) (*http.Client, error) {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("API URL %q is not an absolute URL", base)
	}
	return &http.Client{
		Transport:     rebase{ctx: ctx, to: u, next: c.cfg.Transport},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, nil
}

// rebase sends requests on its context to its scheme, host and path prefix.
type rebase struct {
	ctx  context.Context
	to   *url.URL
	next http.RoundTripper
}

func (t rebase) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(t.ctx)
	r.URL.Scheme, r.URL.Host = t.to.Scheme, t.to.Host
	r.URL.Path = strings.TrimRight(t.to.Path, "/") + r.URL.Path
	r.Host = ""
	return t.next.RoundTrip(r)
}
