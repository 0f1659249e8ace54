package guard

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// BasicAuth returns a middleware that requires HTTP basic credentials user and
// password. A request without credentials, or with wrong ones, gets 401
// Unauthorized with WWW-Authenticate: Basic realm="realm"; Twilio answers that
// challenge by retrying with the credentials from the webhook URL. The user
// and the password are both compared in constant time over SHA-256 digests, so
// neither their contents nor their lengths leak through timing, and both are
// always compared (no early exit on a wrong user).
//
// With user and password both empty, basic auth is off and the middleware
// passes every request through. An empty realm becomes "ivr".
//
// The credentials never take part in signature checks: providers sign the URL
// without user:pass@ (see the package documentation).
func BasicAuth(user, password string, realm string) func(http.Handler) http.Handler {
	if user == "" && password == "" {
		return func(next http.Handler) http.Handler { return next }
	}
	if realm == "" {
		realm = "ivr"
	}
	wantUser := sha256.Sum256([]byte(user))
	wantPass := sha256.Sum256([]byte(password))
	challenge := `Basic realm="` + quoteRealm(realm) + `", charset="UTF-8"`
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, p, ok := r.BasicAuth()
			gotUser := sha256.Sum256([]byte(u))
			gotPass := sha256.Sum256([]byte(p))
			userOK := subtle.ConstantTimeCompare(gotUser[:], wantUser[:])
			passOK := subtle.ConstantTimeCompare(gotPass[:], wantPass[:])
			if !ok || userOK&passOK != 1 {
				h := w.Header()
				h.Set("WWW-Authenticate", challenge)
				h.Set("Cache-Control", "no-store")
				http.Error(w, http.StatusText(http.StatusUnauthorized), http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// quoteRealm escapes a realm for a quoted-string (RFC 9110) and drops control
// characters, which could otherwise split the header.
func quoteRealm(realm string) string {
	var b strings.Builder
	for _, c := range realm {
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteRune(c)
		case c < 0x20 || c == 0x7f:
			// dropped
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}
