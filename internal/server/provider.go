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

	// Provider ("twilio" | "plivo", also the route prefix), the request
	// parameters' names, the end-of-call callback's path.
	carrier.Names
}

func newProviders(fb xml.FallbackConfig) (twilio, plivo *provider, err error) {
	twilio = &provider{
		contentType: xml.ContentTypeTwilio,
		render:      xml.Twilio,
		empty:       xml.Empty(carrier.Twilio),
		Names:       carrier.TwilioNames,
	}
	plivo = &provider{
		contentType: xml.ContentTypePlivo,
		render:      xml.Plivo,
		empty:       xml.Empty(carrier.Plivo),
		Names:       carrier.PlivoNames,
	}
	for _, p := range []*provider{twilio, plivo} {
		p.contentTypeHeader, p.noStoreHeader = []string{p.contentType}, []string{"no-store"}
		p.fallback, err = xml.Fallback(p.Provider, fb)
		if err != nil {
			return nil, nil, err
		}
	}
	return twilio, plivo, nil
}
