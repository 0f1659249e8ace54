package auth

import "net/http"

// Reasons: short, stable labels for metrics and logs (Failure.Reason).
const (
	ReasonNoToken            = "no_token"            // no auth token configured: every request is refused
	ReasonBadMethod          = "bad_method"          // a method the provider never uses for this scheme
	ReasonMissingSignature   = "missing_signature"   // no (or an empty) signature header
	ReasonDuplicateHeader    = "duplicate_header"    // a signature or nonce header sent more than once
	ReasonMalformedSignature = "malformed_signature" // the header is not a base64 HMAC of the right size
	ReasonBadSignature       = "bad_signature"       // well-formed, but no configured token signed this request
	ReasonBadBodyHash        = "bad_body_hash"       // Twilio JSON: URL signature fine, body does not hash to bodySHA256
	ReasonMissingNonce       = "missing_nonce"       // Plivo: no nonce header
	ReasonBadNonce           = "bad_nonce"           // Plivo: nonce too long or with control/non-ASCII characters
	ReasonReplayedNonce      = "replayed_nonce"      // Plivo: a valid request whose nonce was already used
	ReasonNonceStore         = "nonce_store"         // Plivo: the nonce store failed (request refused)
	ReasonBodyTooLarge       = "body_too_large"      // body over MaxBody
	ReasonBadBody            = "bad_body"            // unreadable body, malformed form, non-UTF-8, body on a GET
	ReasonBadContentType     = "bad_content_type"    // a POST body that is not application/x-www-form-urlencoded
	ReasonBadURL             = "bad_url"             // the signed URL's query is malformed, or the public base is unusable
)

// Scheme names, as found in Failure.Scheme.
const (
	SchemeTwilio  = "twilio"
	SchemePlivoV3 = "plivo-v3"
	SchemePlivoV2 = "plivo-v2"
)

// Failure describes a refused request. It never contains a token.
type Failure struct {
	// Reason is a short label for metrics: one of the Reason* constants.
	Reason string
	// Diagnosis is a human explanation for the log: which URL was checked and, for a
	// signature mismatch, which variation (scheme, port, trailing slash, other token)
	// would have matched. Computed only when a request fails.
	Diagnosis string
	// Scheme is SchemeTwilio, SchemePlivoV3 or SchemePlivoV2.
	Scheme string
	// URL is the URL the signature was checked against ("" if the check was not reached).
	URL string
	// Err is the underlying error, if any (body read, form parse, nonce store).
	Err error
}

// Error implements error: "reason: diagnosis".
func (f *Failure) Error() string {
	if f.Diagnosis == "" {
		return f.Reason
	}
	return f.Reason + ": " + f.Diagnosis
}

// Unwrap returns the underlying error.
func (f *Failure) Unwrap() error { return f.Err }

// defaultOnFail is used when a middleware gets a nil onFail: 403, no details.
func defaultOnFail(w http.ResponseWriter, _ *http.Request, _ *Failure) {
	http.Error(w, "forbidden", http.StatusForbidden)
}
