package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
)

// TwilioConfig configures TwilioMiddleware.
type TwilioConfig struct {
	// AuthToken is the account's auth token. Empty: every request is refused ("no_token").
	AuthToken string
	// SecondaryAuthToken is also accepted (token rotation). Optional.
	SecondaryAuthToken string
	// URL rebuilds the URL Twilio signed.
	URL URLResolver
	// LeavePostForm leaves r.PostForm nil on a verified form POST, for
	// handlers that read the parameters with FormOf: the map it takes is
	// then never made (r.ParseForm would read the re-readable body).
	LeavePostForm bool
}

const twilioHeader = "X-Twilio-Signature"

type namedMAC struct {
	name string // "the primary token", ... (never the token itself)
	m    *mac
}

type twilioVerifier struct {
	url           URLResolver
	macs          []namedMAC
	bufs          bufPool
	leavePostForm bool
}

func newTwilioVerifier(cfg TwilioConfig) *twilioVerifier {
	v := &twilioVerifier{url: cfg.URL, leavePostForm: cfg.LeavePostForm}
	if cfg.AuthToken != "" {
		v.macs = append(v.macs, namedMAC{"the primary token", newSHA1MAC(cfg.AuthToken)})
		if cfg.SecondaryAuthToken != "" {
			v.macs = append(v.macs, namedMAC{"the secondary token", newSHA1MAC(cfg.SecondaryAuthToken)})
		}
	}
	return v
}

// TwilioMiddleware checks X-Twilio-Signature (HMAC-SHA1, base64) on every request:
//
//   - form POST: URL (query included) + the body's parameters sorted by name, each
//     name's distinct values sorted, appended as name+value;
//   - GET: the URL with its query, no parameters;
//   - a URL whose query has bodySHA256 (JSON bodies): the URL alone, and the body's
//     hex SHA-256 must equal bodySHA256.
//
// The URL is tried as resolved and with the standard port added (or removed, if it
// carries :443 for https / :80 for http), with the primary and the secondary token.
// On success the next handler sees Params, Body and a re-readable r.Body; otherwise
// onFail is called (nil onFail: 403).
func TwilioMiddleware(cfg TwilioConfig, onFail func(http.ResponseWriter, *http.Request, *Failure)) func(http.Handler) http.Handler {
	v := newTwilioVerifier(cfg)
	if onFail == nil {
		onFail = defaultOnFail
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r2, f := v.verify(w, r)
			if f != nil {
				f.Scheme = SchemeTwilio
				onFail(w, r, f)
				return
			}
			next.ServeHTTP(w, r2)
		})
	}
}

func (v *twilioVerifier) verify(w http.ResponseWriter, r *http.Request) (*http.Request, *Failure) {
	if len(v.macs) == 0 {
		return nil, &Failure{Reason: ReasonNoToken, Diagnosis: "no Twilio auth token is configured; every Twilio request is refused"}
	}
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		return nil, &Failure{Reason: ReasonBadMethod, Diagnosis: "Twilio webhooks are GET or POST, not " + truncate(r.Method, 20)}
	}
	sig, dup := header(r, twilioHeader)
	if dup {
		return nil, &Failure{Reason: ReasonDuplicateHeader, Diagnosis: "more than one " + twilioHeader + " header"}
	}
	if sig == "" {
		return nil, &Failure{Reason: ReasonMissingSignature, Diagnosis: "no " + twilioHeader + " header"}
	}
	signedURL := v.url.Resolve(r)
	_, rawQuery := splitURL(signedURL)

	var query Form
	if r.Method == http.MethodGet || strings.Contains(rawQuery, "bodySHA256") {
		var err error
		if query, err = parseForm(rawQuery, nil); err != nil {
			return nil, &Failure{Reason: ReasonBadURL, URL: signedURL, Err: err, Diagnosis: "query of " + quoteURL(signedURL) + ": " + err.Error()}
		}
	}
	bodyHash, isJSON := "", false
	if r.Method == http.MethodPost && query.Has("bodySHA256") {
		bodyHash, isJSON = query.Get("bodySHA256"), true
	}

	var (
		body   string
		params Form
		form   Form // the signed parameters: the form body of a POST, empty otherwise
		isForm bool
		f      *Failure
	)
	if isJSON {
		if body, _, f = readBody(w, r); f != nil {
			return nil, f
		}
	} else {
		if body, params, isForm, f = requestParams(w, r, query); f != nil {
			return nil, f
		}
		if isForm {
			form = params
		}
	}

	if !v.check(signedURL, &form, sig) {
		return nil, v.failure(signedURL, v.url.Arrived(r), &form, sig)
	}
	if isJSON && !bodyHashMatches([]byte(body), bodyHash) {
		return nil, &Failure{Reason: ReasonBadBodyHash, URL: signedURL,
			Diagnosis: "the signature matches " + quoteURL(signedURL) + " but the body does not hash to its bodySHA256: the body was changed"}
	}
	return withVerified(r, signedURL, params, body, isForm, v.leavePostForm, claimedNonce{}), nil
}

// check reports whether sig signs signedURL + params with a configured token,
// also trying the URL with the standard port toggled.
func (v *twilioVerifier) check(signedURL string, params *Form, sig string) bool {
	bp := v.bufs.get()
	defer v.bufs.put(bp)
	data := append((*bp)[:0], signedURL...)
	data = appendTwilioForm(data, params)
	*bp = data
	for _, nm := range v.macs {
		if nm.m.matches(data, sig) {
			return true
		}
	}
	alt, ok := toggleStandardPort(signedURL)
	if !ok {
		return false
	}
	data2 := make([]byte, 0, len(alt)+len(data)-len(signedURL))
	data2 = append(append(data2, alt...), data[len(signedURL):]...)
	for _, nm := range v.macs {
		if nm.m.matches(data2, sig) {
			return true
		}
	}
	return false
}

func (v *twilioVerifier) failure(signedURL, arrived string, params *Form, sig string) *Failure {
	suffix := appendTwilioForm(nil, params)
	build := func(u string) []byte { return append([]byte(u), suffix...) }
	reason, text := diagnose(signedURL, arrived, build, []sigHeader{{
		name: twilioHeader, value: sig, macs: v.macs,
	}}, "also tried with the standard port toggled")
	return &Failure{Reason: reason, URL: signedURL, Diagnosis: text}
}

func bodyHashMatches(body []byte, want string) bool {
	sum := sha256.Sum256(body)
	var got [2 * sha256.Size]byte
	hex.Encode(got[:], sum[:])
	return hmac.Equal(got[:], []byte(want))
}
