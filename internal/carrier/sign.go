package carrier

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/ivr-project/ivr/internal/auth"
)

// FormType is the Content-Type of a POSTed webhook.
const FormType = "application/x-www-form-urlencoded"

// Signer signs requests as a provider does, with the server's tokens.
type Signer struct {
	Provider string // Twilio | Plivo
	Token    string
	Master   string // Plivo main-account token: adds the Ma-V3/Ma-V2 signatures
}

// Header is one request header.
type Header struct{ Name, Value string }

// Request is one webhook request exactly as it goes on the wire.
type Request struct {
	Method  string
	URL     string // with the query; for GET the parameters are in it
	Body    string // form-encoded; "" for GET
	Headers []Header
}

// Sign builds the request a provider would send to rawURL with params:
// POST puts them in a form body, GET appends them to the query. Plivo
// requests carry V3 and V2 signatures with fresh nonces, as Plivo's do.
func (s Signer) Sign(method, rawURL string, params url.Values) (Request, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return Request{}, fmt.Errorf("parse URL %q: %w", rawURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Request{}, fmt.Errorf("URL %q is not an absolute http(s) URL", rawURL)
	}
	u.Fragment, u.RawFragment = "", ""
	r := Request{Method: method, URL: u.String()}
	var bodyParams url.Values
	switch method {
	case http.MethodGet:
		if len(params) > 0 {
			sep := "?"
			if u.RawQuery != "" {
				sep = "&"
			} else if strings.HasSuffix(r.URL, "?") {
				sep = ""
			}
			r.URL += sep + params.Encode()
		}
	case http.MethodPost:
		bodyParams = params
		if bodyParams == nil {
			bodyParams = url.Values{}
		}
		r.Body = bodyParams.Encode()
	default:
		return Request{}, fmt.Errorf("method %q: want GET or POST", method)
	}
	switch s.Provider {
	case Twilio:
		r.Headers = append(r.Headers, Header{"X-Twilio-Signature", auth.SignTwilio(s.Token, r.URL, bodyParams)})
	case Plivo:
		r.Headers = append(r.Headers, s.plivoHeaders(method, r.URL, bodyParams)...)
	default:
		return Request{}, fmt.Errorf("unknown provider %q", s.Provider)
	}
	if method == http.MethodPost {
		r.Headers = append(r.Headers, Header{"Content-Type", FormType})
	}
	return r, nil
}

// plivoHeaders are Plivo's V3 and V2 signatures (and the main account's,
// with Master), each version with a nonce of its own.
func (s Signer) plivoHeaders(method, signedURL string, bodyParams url.Values) []Header {
	nonce := NewNonce()
	h := []Header{
		{"X-Plivo-Signature-V3", auth.SignPlivoV3(s.Token, signedURL, nonce, method, bodyParams)},
		{"X-Plivo-Signature-V3-Nonce", nonce},
	}
	if s.Master != "" {
		h = append(h, Header{"X-Plivo-Signature-Ma-V3", auth.SignPlivoV3(s.Master, signedURL, nonce, method, bodyParams)})
	}
	nonce2 := NewNonce()
	h = append(h,
		Header{"X-Plivo-Signature-V2", auth.SignPlivoV2(s.Token, signedURL, nonce2)},
		Header{"X-Plivo-Signature-V2-Nonce", nonce2})
	if s.Master != "" {
		h = append(h, Header{"X-Plivo-Signature-Ma-V2", auth.SignPlivoV2(s.Master, signedURL, nonce2)})
	}
	return h
}

// HTTP is r as an *http.Request on ctx, headers set, ready to send.
func (r Request) HTTP(ctx context.Context) (*http.Request, error) {
	var body io.Reader
	if r.Method == http.MethodPost {
		body = strings.NewReader(r.Body)
	}
	hr, err := http.NewRequestWithContext(ctx, r.Method, r.URL, body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", r.Method, r.URL, err)
	}
	for _, h := range r.Headers {
		hr.Header.Set(h.Name, h.Value)
	}
	return hr, nil
}
