// Package auth checks that webhook requests come from Twilio or Plivo: it rebuilds
// the URL the provider signed, verifies the signature, refuses replayed Plivo nonces,
// and hands the verified parameters to the next handler. It knows signatures, URLs
// and nonces only (it never imports ivr, xml, server or store).
//
// # Signing rules
//
// Twilio, X-Twilio-Signature: base64(HMAC-SHA1(token, data)).
//   - form POST: data = URL (query included) + the body's parameters sorted by name,
//     each name's distinct values sorted, appended as name+value (no separators);
//   - GET: data = the URL with its query;
//   - JSON body: the URL carries bodySHA256=<hex SHA-256 of the body>; data = the
//     URL alone, and the body must hash to bodySHA256.
//
// Twilio sometimes signs the URL with an explicit standard port, so the URL is
// checked as rebuilt and with :443 (https) / :80 (http) added or removed. The
// primary and the secondary token (rotation) are both accepted.
//
// Plivo V3 (voice), X-Plivo-Signature-V3: base64(HMAC-SHA256(token, data)) with
//
//	GET:  URL-without-query ["?" sorted query] "." nonce
//	POST: URL-without-query ["?" sorted query] ["." if query and body] sorted body "." nonce
//
// where the sorted query is decoded name=value pairs joined by "&" and the sorted
// body is name+value pairs with no separator; "?" is there whenever the query or the
// body is non-empty. The header may hold several comma-separated signatures; any may
// match. X-Plivo-Signature-Ma-V3 is the same construction with the main account's
// token: a request is authentic if the V3 header matches the account token or the
// Ma-V3 header matches the master token.
//
// Plivo V2 (messaging), X-Plivo-Signature-V2: base64(HMAC-SHA256(token,
// scheme://host/path + nonce)). Neither the query nor the body is signed, so for V2
// only the URL path and the nonce are authenticated.
//
// After a Plivo signature matched, its nonce is claimed in a NonceStore; a nonce
// already held is a replay. Forged requests never claim nonces. Twilio has no nonce.
//
// Orders are JavaScript's (UTF-16 code units), as in the providers' Node SDKs.
//
// # The URL, proxies and ngrok
//
// The provider signs the URL it was configured with, e.g.
// https://abc.ngrok.app/twilio/voice. Behind ngrok or a reverse proxy the server
// sees http://localhost:8080/twilio/voice instead, and the signature can only be
// checked against the public URL. URLResolver rebuilds it:
//   - PublicBase (IVR_PUBLIC_URL) set: its scheme and host, its path prefix (for a
//     proxy that strips one, e.g. https://example.com/ivr), then the raw request URI
//     exactly as received (never re-encoded: re-encoding would change what was signed);
//   - else the request's own scheme (TLS or not) and Host header; with TrustProxy
//     (IVR_TRUST_PROXY_HEADERS) the first X-Forwarded-Proto / X-Forwarded-Host values
//     replace them. Only trust those headers behind a proxy that sets them.
//
// When a signature fails, Failure.Diagnosis says which URL was checked and whether
// the signature would have matched with the other scheme, with or without the port,
// with or without a trailing slash, or with the other token: the usual mistakes.
//
// # Middlewares
//
// TwilioMiddleware, PlivoV3Middleware and PlivoV2Middleware read the body once
// (at most MaxBody), parse it (POST: the form body only, never merged with the
// query; GET: the query), verify, and pass Params, Body and a re-readable r.Body to
// the next handler, or call onFail with a Failure whose Reason is a metric label.
// The parameters are parsed once, as url.ParseQuery would, into a Form: a slice
// sorted in the signing order, which the signature strings walk and FormOf hands
// to the handlers; Params makes the url.Values map only when asked.
// Read deadlines for slow bodies belong to the http.Server (ReadTimeout); a body
// that cannot be read becomes a "bad_body" Failure.
package auth
