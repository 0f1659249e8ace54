package voice

import (
	"net/http"
	"strconv"
	"sync"

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
	appendXML                        func(dst []byte, base string, steps []ivr.Step) ([]byte, error)
	fallback                         []byte     // apology + dial the call center
	empty                            []byte     // <Response/>: refused callbacks and messages
	bases                            *baseCache // voiceBase's answers by public URL

	// Provider ("twilio" | "plivo", also the route prefix), the request
	// parameters' names, the end-of-call callback's path.
	carrier.Names
}

// NewProviders are Twilio's and Plivo's, with fb's fallback rendered.
// render, when not nil, replaces the XML renderers (tests inject failures).
func NewProviders(fb xml.FallbackConfig, render func(provider, base string, steps []ivr.Step) ([]byte, error)) (twilio, plivo *Provider, err error) {
	twilio = &Provider{
		contentType: xml.ContentTypeTwilio,
		appendXML:   xml.AppendTwilio,
		empty:       xml.Empty(carrier.Twilio),
		Names:       carrier.TwilioNames,
	}
	plivo = &Provider{
		contentType: xml.ContentTypePlivo,
		appendXML:   xml.AppendPlivo,
		empty:       xml.Empty(carrier.Plivo),
		Names:       carrier.PlivoNames,
	}
	for _, p := range []*Provider{twilio, plivo} {
		p.contentTypeHeader, p.noStoreHeader = []string{p.contentType}, []string{"no-store"}
		p.bases = new(baseCache)
		p.fallback, err = xml.Fallback(p.Provider, fb)
		if err != nil {
			return nil, nil, err
		}
		if render != nil {
			name := p.Provider
			p.appendXML = func(dst []byte, base string, steps []ivr.Step) ([]byte, error) {
				b, err := render(name, base, steps)
				return append(dst, b...), err
			}
		}
	}
	return twilio, plivo, nil
}

// Fallback is the fallback document (apology + dial the call center).
func (p *Provider) Fallback() []byte { return p.fallback }

// render is the provider's XML document of steps, in a new slice.
func (p *Provider) render(base string, steps []ivr.Step) ([]byte, error) {
	return p.appendXML(nil, base, steps)
}

// A voice answer's document is rendered into a buffer taken from xmlBufs
// (getXMLBuf) and given back once written (putXMLBuf). What the pooled
// buffer saves on every voice answer (BenchmarkAppendTwilio in
// internal/xml, BenchmarkVoiceAnswerBody here): the document's allocation
// (896 B for a menu of two prompts) and the zeroing of fresh memory, about
// two thirds of the time of rendering and writing it.
var xmlBufs = sync.Pool{New: func() any { return new([]byte) }}

func getXMLBuf() *[]byte { return xmlBufs.Get().(*[]byte) }

// putXMLBuf keeps body (rendered into bp) for the next answer; the body
// must not be used afterwards.
func putXMLBuf(bp *[]byte, body []byte) {
	if cap(body) > 64<<10 {
		return // do not keep a rare huge document's buffer
	}
	*bp = body[:0]
	xmlBufs.Put(bp)
}

// writeAnswer writes body as a voice answer: the provider's content type,
// never cached, its length said and sent at once (flushed), so that what
// the handler does after it (the record) cannot hold it back.
func (p *Provider) writeAnswer(w http.ResponseWriter, body []byte) {
	if tw, ok := w.(*timeoutWriter); ok {
		tw.answer(p.contentTypeHeader[:1:1], p.noStoreHeader[:1:1], body)
		return
	}
	h := w.Header()
	h["Content-Type"] = p.contentTypeHeader[:1:1]
	h["Cache-Control"] = p.noStoreHeader[:1:1]
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.Write(body) // a ResponseWriter does not keep body
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}
