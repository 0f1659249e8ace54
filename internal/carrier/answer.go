package carrier

// Headers of the server's answer that say it did not serve the request as
// asked, so a tool playing the provider's side (ivr simulate, the admin Try
// page) can tell a fallback from a menu that transfers. Their value is the
// reason code the server logs and counts (bad_signature, no_token,
// not_found, deadline, ...): never a secret, a URL or a parameter.
const (
	// HeaderFallback is set on a voice route's fallback answer.
	HeaderFallback = "X-Ivr-Fallback"
	// HeaderRefused is set on the empty answer to a refused callback or message.
	HeaderRefused = "X-Ivr-Refused"
)
