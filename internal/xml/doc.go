// Package xml renders the engine's provider-neutral steps ([]ivr.Step) as
// TwiML for Twilio and as Plivo XML. It is pure and deterministic: the same
// steps and base URL always give the same bytes. It knows nothing of HTTP,
// signatures or the store; the server picks the renderer by provider, sets
// the matching Content-Type and writes the bytes.
//
// It also reads them back (read.go): ParseTwiML, ParsePlivo and Parse turn a
// provider document received over the network into provider-neutral verbs.
// That reader is tolerant (unknown elements become Unknown) and bounded
// (nesting depth). next.go interprets the verbs as the phone plays them
// (NextTurn: what is heard, where it waits or leaves the document, Next:
// the request that follows); `ivr simulate`, the admin "Try it" page and
// flow replay all read answers with these two and nothing else.
//
// # Why our own encoder and not twilio-go's twiml package
//
// github.com/twilio/twilio-go/twiml builds an etree document from maps of
// attributes (map[string]string per element) and ranges over those maps, so
// the attribute order changes from run to run: output could not be compared
// with golden files or cached. It only speaks TwiML, so Plivo would still need
// a second encoder, and it pulls in github.com/beevik/etree and allocates a DOM
// per response. The grammar this program needs is small and closed (nine step
// kinds), so one append-based writer serves both providers: attributes are
// written in a fixed order, every text and attribute value is escaped
// (including characters XML 1.0 forbids, which become U+FFFD), and a
// response costs one allocation for the returned slice in the common case.
// Element and attribute names follow Twilio's TwiML reference and Plivo's
// XML reference (cross-checked against the plivo-go and plivo-ruby SDKs).
//
// # Mapping
//
//	step      Twilio                                   Plivo
//	Say       <Say voice language loop>                <Speak voice language loop>
//	Play      <Play loop>url</Play>                    <Play loop>url</Play>
//	Pause     <Pause length>                           <Wait length>
//	Gather    <Gather input action method ...>         DTMF only: <GetDigits action method timeout digitTimeout ...>
//	                                                   any speech: <GetInput inputType action method executionTimeout ...>
//	Dial      <Dial callerId timeout action method>    <Dial callerId timeout action method>
//	          <Number>                                 <Number>
//	Record    <Record action method maxLength ...>     <Record action method maxLength ...>
//	Redirect  <Redirect method="POST">url</Redirect>   <Redirect method="POST">url</Redirect>
//	Hangup    <Hangup/>                                <Hangup/>
//	Message   <Message to from>text</Message>          <Message src dst type="sms">text</Message>
//
// Every action and redirect uses method="POST". A Target becomes
// base + target.String(), with exactly one "/" between base and the path.
//
// Details worth knowing:
//   - Gather.FinishOnKey "" means "no finish key": Twilio gets finishOnKey=""
//     and Plivo finishOnKey="none", because both default to "#".
//     Record.FinishOnKey "" means the provider default (any key).
//   - Twilio has one Gather timeout for the first input and between keys; it
//     gets TimeoutSeconds (InterDigitSeconds when TimeoutSeconds is 0). Plivo
//     gets both: timeout/digitTimeout (GetDigits) or
//     executionTimeout/digitEndTimeout (GetInput, clamped to Plivo's allowed
//     5-60 and 2-10 seconds).
//   - A speech Gather on Twilio gets speechTimeout="auto"; on Plivo
//     speechEndTimeout is left at its default ("auto").
//   - No actionOnEmptyResult: by contract every Gather is followed by a
//     Redirect to the same menu URL, which is how a silent caller comes back
//     as a timeout on both providers.
//   - Twilio's voice TwiML has no <Message>, so on Twilio a response is either
//     only Message steps (a messaging reply) or has none. Plivo allows
//     <Message> in a call flow, but needs src and dst.
//   - Say voices are passed through, except that "man"/"woman" are written
//     in the case each provider uses ("man" on Twilio, "MAN" on Plivo).
//
// A step the provider cannot express (an unknown type, a Gather with neither
// DTMF nor Speech or with a nested Gather, a Dial without numbers, an empty
// Say, a negative count ...) is an error; the server then answers its
// fallback instead.
package xml
