package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
)

// The verifiers below check a signature the way a provider's own library
// would, outside the middleware: the tests use them as an independent check of
// the signing functions. The server itself verifies only through the middleware.

// VerifyPlivoV3 reports whether signatures (a comma-separated
// X-Plivo-Signature-V3 value) holds a valid V3 signature made with token for
// signedURL, nonce, method and the form params of a POST (nil for GET). No nonce is
// claimed.
func VerifyPlivoV3(token, signedURL, nonce, method string, params url.Values, signatures string) bool {
	if token == "" {
		return false
	}
	base, raw := splitURL(signedURL)
	query, err := parseQuery(raw)
	if err != nil {
		return false
	}
	data := appendPlivoV3(nil, base, query, strings.ToUpper(method), params)
	data = append(append(data, '.'), nonce...)
	return newSHA256MAC(token).matchesAny(data, signatures)
}

// VerifyPlivoV2 reports whether signatures (comma-separated X-Plivo-Signature-V2
// values) holds a valid V2 signature made with token for signedURL and nonce.
func VerifyPlivoV2(token, signedURL, nonce, signatures string) bool {
	if token == "" {
		return false
	}
	return newSHA256MAC(token).matchesAny(appendPlivoV2(nil, signedURL, nonce), signatures)
}

// VerifyTwilio reports whether signature is a valid X-Twilio-Signature made with
// token for signedURL (the full URL, query included) and the form params (nil for a
// GET), trying the URL with and without the standard port.
func VerifyTwilio(token, signedURL string, params url.Values, signature string) bool {
	if token == "" {
		return false
	}
	v := newTwilioVerifier(TwilioConfig{AuthToken: token})
	form := formOf(params)
	return v.check(signedURL, &form, signature)
}

// VerifyTwilioJSON reports whether signature is a valid X-Twilio-Signature made with
// token for signedURL (which carries bodySHA256) and whether body hashes to that
// bodySHA256.
func VerifyTwilioJSON(token, signedURL string, body []byte, signature string) bool {
	_, raw := splitURL(signedURL)
	q, err := parseQuery(raw)
	if err != nil || !q.Has("bodySHA256") {
		return false
	}
	return VerifyTwilio(token, signedURL, nil, signature) && bodyHashMatches(body, q.Get("bodySHA256"))
}

// SignTwilioJSON signs a Twilio request with a JSON (or any non-form) body: it
// returns the URL with bodySHA256=<hex sha256 of body> added to its query, and the
// X-Twilio-Signature over that URL alone.
func SignTwilioJSON(token, url string, body []byte) (signedURL, signature string) {
	sum := sha256.Sum256(body)
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	signedURL = url + sep + "bodySHA256=" + hex.EncodeToString(sum[:])
	return signedURL, signString(newSHA1MAC(token), []byte(signedURL))
}
