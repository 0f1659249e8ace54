package voice

import (
	"github.com/ivr-project/ivr/internal/carrier"
	"github.com/ivr-project/ivr/internal/ivr"
	"github.com/ivr-project/ivr/internal/xml"
)

// Provider is what differs between Twilio and Plivo at the HTTP layer: the
// names of their parameters, their XML and its content type. The fallback
// and empty documents are rendered once, at start.
type Provider struct {
	contentType string
	// contentTypeHeader and noStoreHeader are the Content-Type and
	// Cache-Control header values of every voice answer, made once and
	// shared by all of them: header values are only ever replaced, never
	// written in place, and handlers set them capped at length 1 so an Add
	// copies instead of appending into the shared array. What it saves on
	// every voice answer (BenchmarkVoiceHeaders): Header().Set's 2
	// allocations (32 B) and about half the time.
	contentTypeHeader, noStoreHeader []string
	render                           func(base string, steps []ivr.Step) ([]byte, error)
	fallback                         []byte // apology + dial the call center
	empty                            []byte // <Response/>: refused callbacks and messages

	// Provider ("twilio" | "plivo", also the route prefix), the request
	// parameters' names, the end-of-call callback's path.
	carrier.Names
}

// NewProviders are Twilio's and Plivo's, with fb's fallback rendered.
// render, when not nil, replaces the XML renderers (tests inject failures).
func NewProviders(fb xml.FallbackConfig, render func(provider, base string, steps []ivr.Step) ([]byte, error)) (twilio, plivo *Provider, err error) {
	twilio = &Provider{
		contentType: xml.ContentTypeTwilio,
		render:      xml.Twilio,
		empty:       xml.Empty(carrier.Twilio),
		Names:       carrier.TwilioNames,
	}
	plivo = &Provider{
		contentType: xml.ContentTypePlivo,
		render:      xml.Plivo,
		empty:       xml.Empty(carrier.Plivo),
		Names:       carrier.PlivoNames,
	}
	for _, p := range []*Provider{twilio, plivo} {
		p.contentTypeHeader, p.noStoreHeader = []string{p.contentType}, []string{"no-store"}
		p.fallback, err = xml.Fallback(p.Provider, fb)
		if err != nil {
			return nil, nil, err
		}
		if render != nil {
			name := p.Provider
			p.render = func(base string, steps []ivr.Step) ([]byte, error) { return render(name, base, steps) }
		}
	}
	return twilio, plivo, nil
}

// Fallback is the fallback document (apology + dial the call center).
func (p *Provider) Fallback() []byte { return p.fallback }
