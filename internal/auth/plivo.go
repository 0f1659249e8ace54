package auth

import (
	"context"
	"net/http"
	"time"
)

// PlivoConfig configures PlivoV3Middleware and PlivoV2Middleware.
type PlivoConfig struct {
	// AuthToken is the token of the (sub)account that owns the number; it checks
	// X-Plivo-Signature-V3 / -V2. Empty: every request is refused ("no_token").
	AuthToken string
	// MasterAuthToken is the main account's token; it checks X-Plivo-Signature-Ma-V3
	// / -Ma-V2. Optional.
	MasterAuthToken string
	// URL rebuilds the URL Plivo signed.
	URL URLResolver
	// Nonces remembers claimed nonces. nil: a private MemoryNonces of
	// DefaultNonceCapacity entries (per middleware, per process).
	Nonces NonceStore
	// NonceTTL is how long a claimed nonce is remembered; 0 means DefaultNonceTTL.
	NonceTTL time.Duration
	// LeavePostForm leaves r.PostForm nil on a verified form POST, as
	// TwilioConfig.LeavePostForm.
	LeavePostForm bool
}

const (
	// DefaultNonceTTL is how long a nonce is remembered when PlivoConfig.NonceTTL is 0.
	DefaultNonceTTL = 24 * time.Hour
	// DefaultNonceCapacity is the size of the MemoryNonces used when PlivoConfig.Nonces is nil.
	DefaultNonceCapacity = 100_000
)

const (
	plivoV3Header      = "X-Plivo-Signature-V3"
	plivoMaV3Header    = "X-Plivo-Signature-Ma-V3"
	plivoV3NonceHeader = "X-Plivo-Signature-V3-Nonce"
	plivoV2Header      = "X-Plivo-Signature-V2"
	plivoMaV2Header    = "X-Plivo-Signature-Ma-V2"
	plivoV2NonceHeader = "X-Plivo-Signature-V2-Nonce"
)

type plivoVerifier struct {
	url    URLResolver
	acct   *namedMAC // nil: no token
	master *namedMAC // nil: no master token
	nonces NonceStore
	ttl    time.Duration
	bufs   bufPool
	now    func() time.Time
	// leavePostForm: PlivoConfig.LeavePostForm.
	leavePostForm bool
}

func newPlivoVerifier(cfg PlivoConfig) *plivoVerifier {
	v := &plivoVerifier{url: cfg.URL, nonces: cfg.Nonces, ttl: cfg.NonceTTL, now: time.Now, leavePostForm: cfg.LeavePostForm}
	if v.ttl <= 0 {
		v.ttl = DefaultNonceTTL
	}
	if v.nonces == nil {
		v.nonces = NewMemoryNonces(DefaultNonceCapacity, v.ttl)
	}
	if cfg.AuthToken != "" {
		v.acct = &namedMAC{"the account token", newSHA256MAC(cfg.AuthToken)}
	}
	if cfg.MasterAuthToken != "" {
		v.master = &namedMAC{"the master token", newSHA256MAC(cfg.MasterAuthToken)}
	}
	return v
}

// PlivoV3Middleware checks Plivo's V3 signature (voice callbacks): HMAC-SHA256,
// base64, over
//
//	GET:  URL-without-query ["?" sorted query] "." nonce
//	POST: URL-without-query ["?" sorted query] ["." if both] sorted body name+value "." nonce
//
// where the sorted query is name=value pairs (decoded, sorted by name then value)
// joined by "&", and the body pairs are name+value with no separator ("?" appears
// when the query or the body is non-empty). This is plivo-node's validateV3Signature.
//
// X-Plivo-Signature-V3 (comma-separated list; any may match) is checked with
// AuthToken, X-Plivo-Signature-Ma-V3 with MasterAuthToken; the request is authentic
// if either matches. Only then is the nonce (X-Plivo-Signature-V3-Nonce) claimed in
// the NonceStore; a nonce seen before is refused ("replayed_nonce").
func PlivoV3Middleware(cfg PlivoConfig, onFail func(http.ResponseWriter, *http.Request, *Failure)) func(http.Handler) http.Handler {
	v := newPlivoVerifier(cfg)
	return plivoMiddleware(v.verifyV3, SchemePlivoV3, onFail)
}

// PlivoV2Middleware checks Plivo's V2 signature (messaging): HMAC-SHA256, base64,
// over scheme://host/path + nonce; neither the query nor the body is signed.
// X-Plivo-Signature-V2 is checked with AuthToken, X-Plivo-Signature-Ma-V2 with
// MasterAuthToken; then X-Plivo-Signature-V2-Nonce is claimed like V3's. A URL with a
// port is also tried without it (plivo-node drops the port, plivo-go keeps it).
func PlivoV2Middleware(cfg PlivoConfig, onFail func(http.ResponseWriter, *http.Request, *Failure)) func(http.Handler) http.Handler {
	v := newPlivoVerifier(cfg)
	return plivoMiddleware(v.verifyV2, SchemePlivoV2, onFail)
}

func plivoMiddleware(verify func(http.ResponseWriter, *http.Request) (*http.Request, *Failure), scheme string,
	onFail func(http.ResponseWriter, *http.Request, *Failure)) func(http.Handler) http.Handler {
	if onFail == nil {
		onFail = defaultOnFail
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r2, f := verify(w, r)
			if f != nil {
				f.Scheme = scheme
				onFail(w, r, f)
				return
			}
			next.ServeHTTP(w, r2)
		})
	}
}

// plivoHeaders reads signature, master signature and nonce headers.
func (v *plivoVerifier) headers(r *http.Request, sigName, maName, nonceName string) (sig, ma, nonce string, f *Failure) {
	var d1, d2, d3 bool
	sig, d1 = header(r, sigName)
	ma, d2 = header(r, maName)
	nonce, d3 = header(r, nonceName)
	switch {
	case d1 || d2 || d3:
		return "", "", "", &Failure{Reason: ReasonDuplicateHeader, Diagnosis: "a signature or nonce header was sent more than once"}
	case sig == "" && (ma == "" || v.master == nil):
		d := "no " + sigName + " header"
		if ma != "" {
			d += " (only " + maName + ", and no master token is configured)"
		}
		return "", "", "", &Failure{Reason: ReasonMissingSignature, Diagnosis: d}
	case nonce == "":
		return "", "", "", &Failure{Reason: ReasonMissingNonce, Diagnosis: "no " + nonceName + " header"}
	case !validNonce(nonce):
		return "", "", "", &Failure{Reason: ReasonBadNonce, Diagnosis: nonceName + " must be at most 256 printable ASCII characters"}
	}
	return sig, ma, nonce, nil
}

func (v *plivoVerifier) precheck(r *http.Request) *Failure {
	if v.acct == nil {
		return &Failure{Reason: ReasonNoToken, Diagnosis: "no Plivo auth token is configured; every Plivo request is refused"}
	}
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		return &Failure{Reason: ReasonBadMethod, Diagnosis: "Plivo webhooks are GET or POST, not " + truncate(r.Method, 20)}
	}
	return nil
}

// matches checks sig with the account token and ma with the master token.
func (v *plivoVerifier) matches(data []byte, sig, ma string) bool {
	ok := sig != "" && v.acct.m.matchesAny(data, sig)
	if !ok && ma != "" && v.master != nil {
		ok = v.master.m.matchesAny(data, ma)
	}
	return ok
}

func (v *plivoVerifier) verifyV3(w http.ResponseWriter, r *http.Request) (*http.Request, *Failure) {
	if f := v.precheck(r); f != nil {
		return nil, f
	}
	sig, ma, nonce, f := v.headers(r, plivoV3Header, plivoMaV3Header, plivoV3NonceHeader)
	if f != nil {
		return nil, f
	}
	signedURL := v.url.Resolve(r)
	base, rawQuery := splitURL(signedURL)
	query, err := parseForm(rawQuery, nil)
	if err != nil {
		return nil, &Failure{Reason: ReasonBadURL, URL: signedURL, Err: err, Diagnosis: "query of " + quoteURL(signedURL) + ": " + err.Error()}
	}
	body, params, form, f := requestParams(w, r, query)
	if f != nil {
		return nil, f
	}
	var signed Form
	if form {
		signed = params
	}
	if !v.checkV3(base, &query, r.Method, &signed, nonce, sig, ma) {
		build := func(u string) []byte {
			b, raw := splitURL(u)
			q, _ := parseForm(raw, nil)
			d := appendPlivoV3Form(nil, b, &q, r.Method, &signed)
			return append(append(d, '.'), nonce...)
		}
		return nil, v.failure(signedURL, v.url.Arrived(r), build, sig, ma, plivoV3Header, plivoMaV3Header)
	}
	key := "plivo-v3:" + nonce
	if f := v.claim(r, key, signedURL); f != nil {
		return nil, f
	}
	return withVerified(r, signedURL, params, body, form, v.leavePostForm, claimedNonce{v.nonces, key}), nil
}

func (v *plivoVerifier) verifyV2(w http.ResponseWriter, r *http.Request) (*http.Request, *Failure) {
	if f := v.precheck(r); f != nil {
		return nil, f
	}
	sig, ma, nonce, f := v.headers(r, plivoV2Header, plivoMaV2Header, plivoV2NonceHeader)
	if f != nil {
		return nil, f
	}
	signedURL := v.url.Resolve(r)
	var query Form
	if r.Method == http.MethodGet {
		_, rawQuery := splitURL(signedURL)
		var err error
		if query, err = parseForm(rawQuery, nil); err != nil {
			return nil, &Failure{Reason: ReasonBadURL, URL: signedURL, Err: err, Diagnosis: "query of " + quoteURL(signedURL) + ": " + err.Error()}
		}
	}
	body, params, form, f := requestParams(w, r, query)
	if f != nil {
		return nil, f
	}
	if !v.checkV2(signedURL, nonce, sig, ma) {
		build := func(u string) []byte { return appendPlivoV2(nil, u, nonce) }
		return nil, v.failure(signedURL, v.url.Arrived(r), build, sig, ma, plivoV2Header, plivoMaV2Header)
	}
	key := "plivo-v2:" + nonce
	if f := v.claim(r, key, signedURL); f != nil {
		return nil, f
	}
	return withVerified(r, signedURL, params, body, form, v.leavePostForm, claimedNonce{v.nonces, key}), nil
}

// checkV3 reports whether sig (account token) or ma (master token) signs the V3
// string of base, query, method, the signed form params (nil for GET) and nonce.
func (v *plivoVerifier) checkV3(base string, query *Form, method string, signed *Form, nonce, sig, ma string) bool {
	bp := v.bufs.get()
	defer v.bufs.put(bp)
	data := appendPlivoV3Form((*bp)[:0], base, query, method, signed)
	data = append(append(data, '.'), nonce...)
	*bp = data
	return v.matches(data, sig, ma)
}

// checkV2 is checkV3 for V2; a URL with a port is also tried without it.
func (v *plivoVerifier) checkV2(signedURL, nonce, sig, ma string) bool {
	bp := v.bufs.get()
	defer v.bufs.put(bp)
	data := appendPlivoV2((*bp)[:0], signedURL, nonce)
	*bp = data
	if v.matches(data, sig, ma) {
		return true
	}
	if s, e, ok := hostSpan(signedURL); ok && portOf(signedURL[s:e]) != "" {
		noPort, _, _ := togglePort(signedURL)
		return v.matches(appendPlivoV2(nil, noPort, nonce), sig, ma)
	}
	return false
}

func (v *plivoVerifier) failure(signedURL, arrived string, build func(string) []byte, sig, ma, sigName, maName string) *Failure {
	hs := []sigHeader{{name: sigName, value: sig, list: true, macs: []namedMAC{*v.acct}}}
	if v.master != nil {
		hs[0].other = []namedMAC{*v.master}
		hs = append(hs, sigHeader{name: maName, value: ma, list: true, macs: []namedMAC{*v.master}, other: []namedMAC{*v.acct}})
	} else if ma != "" {
		// No master token: the Ma header can still tell us it was signed with our
		// account token (i.e. AuthToken holds the main account's token).
		hs = append(hs, sigHeader{name: maName, value: ma, list: true, other: []namedMAC{*v.acct}})
	}
	reason, text := diagnose(signedURL, arrived, build, hs, "")
	return &Failure{Reason: reason, URL: signedURL, Diagnosis: text}
}

// nonceTimeout bounds a nonce claim. It does not end when the client closes
// its side of the connection: the request arrived whole and may still be
// answered (a cancelled claim would turn it into a store failure).
const nonceTimeout = 3 * time.Second

// claim records the nonce of an authentic request; a nonce seen before is a replay.
func (v *plivoVerifier) claim(r *http.Request, key, signedURL string) *Failure {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), nonceTimeout)
	defer cancel()
	fresh, err := v.nonces.Claim(ctx, key, v.now().Add(v.ttl))
	if err != nil {
		return &Failure{Reason: ReasonNonceStore, URL: signedURL, Err: err, Diagnosis: "claiming the nonce: " + err.Error()}
	}
	if !fresh {
		return &Failure{Reason: ReasonReplayedNonce, URL: signedURL, Diagnosis: "the signature is valid but its nonce was already used: a replayed request"}
	}
	return nil
}
