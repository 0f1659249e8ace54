// Package guard is defense in depth around the webhook routes: IP allowlists,
// HTTP basic auth, TLS served by the binary itself, secrets read from files,
// and the lockout of clients that guess the admin token. It knows HTTP, addresses and TLS; it knows nothing of menus, XML or
// provider signatures, which stay the only proof that a request came from
// Twilio or Plivo. Everything here is an extra layer in front of them.
//
// # IP allowlists
//
// [ParseCIDRs] reads a list of CIDRs or bare addresses (comma, space or newline
// separated, "#" starts a comment) from a variable or a file's contents.
// [Allow] is a middleware that refuses any client whose address is not in the
// list; an empty list allows everyone. The client address is the connection's
// peer, unless that peer is a trusted proxy: then [ClientIP] walks
// X-Forwarded-For from the right and takes the first entry that is not itself
// a trusted proxy. A client that talks to the server directly cannot spoof its
// address with X-Forwarded-For, because the header is only read when the
// direct peer is trusted. Denied requests go to the onDeny callback with the
// reason [ReasonIPNotAllowed]; on voice routes the server answers its 200
// fallback there.
//
// # Basic auth
//
// [BasicAuth] requires HTTP basic credentials. Twilio supports credentials in
// the webhook URL (https://user:pass@host/path): it first calls without them,
// and answers the 401 challenge with WWW-Authenticate by retrying with the
// credentials. This is the one place where a webhook route answers something
// other than 200.
//
// The credentials are not part of the URL the provider signs. Twilio
// documents that it drops the username and password (and, for https, the
// port) from the URL before computing X-Twilio-Signature, so the signature
// covers scheme://host/path?query without user:pass@. The auth package builds
// the URL to check from the request, and an incoming request never carries
// userinfo in its URL (it arrives in the Authorization header instead), so the
// two layers are independent: BasicAuth checks the header, auth checks the
// signature over the URL without credentials.
//
// # TLS
//
// [NewTLS] builds a *tls.Config from a certificate and key on disk, reloaded
// when the files change (so a renewed certificate is picked up without a
// restart), or from automatic ACME certificates (Let's Encrypt) through
// golang.org/x/crypto/acme/autocert. [RedirectHTTPS] answers plain HTTP with a
// redirect to https.
//
// # Secrets
//
// [Secret] reads NAME from the environment, or the contents of the file named
// by NAME_FILE (Docker and Kubernetes secrets), so tokens need not sit in the
// environment.
package guard
