package server

import (
	"github.com/ivr-project/ivr/internal/carrier"
	"github.com/ivr-project/ivr/internal/ivr"
	"github.com/ivr-project/ivr/internal/xml"
)

// provider is what differs between Twilio and Plivo at the HTTP layer: the
// names of their parameters, their XML and its content type. The fallback
// and empty documents are rendered once, at start.
type provider struct {
	name        string // "twilio" | "plivo"; also the route prefix
	contentType string
	// contentTypeHeader and noStoreHeader are the Content-Type and
	// Cache-Control header values of every voice answer, made once and
	// shared by all of them: header values are only ever replaced, never
	// written in place, and handlers set them capped at length 1 so an Add
	// copies instead of appending into the shared array.
	contentTypeHeader, noStoreHeader []string
	render                           func(base string, steps []ivr.Step) ([]byte, error)
	fallback                         []byte // apology + dial the call center
	empty                            []byte // <Response/>: refused callbacks and messages

	carrier.Names // request parameter names, the end-of-call callback's path
}

func newProviders(fb xml.FallbackConfig) (twilio, plivo *provider, err error) {
	twilio = &provider{
		name:        carrier.Twilio,
		contentType: xml.ContentTypeTwilio,
		render:      xml.Twilio,
		empty:       xml.Empty(carrier.Twilio),
		Names:       carrier.TwilioNames,
	}
	plivo = &provider{
		name:        carrier.Plivo,
		contentType: xml.ContentTypePlivo,
		render:      xml.Plivo,
		empty:       xml.Empty(carrier.Plivo),
		Names:       carrier.PlivoNames,
	}
	for _, p := range []*provider{twilio, plivo} {
		p.contentTypeHeader, p.noStoreHeader = []string{p.contentType}, []string{"no-store"}
		p.fallback, err = xml.Fallback(p.name, fb)
		if err != nil {
			return nil, nil, err
		}
	}
	return twilio, plivo, nil
}
