package simulate

import (
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/ivr-project/ivr/internal/auth"
)

// signer signs requests as a provider does, with the server's tokens.
type signer struct {
	provider string // "twilio" | "plivo"
	token    string
	master   string // Plivo main-account token: adds the Ma-V3/Ma-V2 signatures
}

type header struct{ name, value string }

// signedRequest is one webhook request exactly as it goes on the wire.
type signedRequest struct {
	method  string
	url     string // with the query; for GET the parameters are in it
	body    string // form-encoded; "" for GET
	headers []header
}

const formType = "application/x-www-form-urlencoded"

// sign builds the request a provider would send to rawURL with params:
// POST puts them in a form body, GET appends them to the query. Plivo
// requests carry V3 and V2 signatures with fresh nonces, as Plivo's do.
func (s signer) sign(method, rawURL string, params url.Values) (signedRequest, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return signedRequest{}, fmt.Errorf("parse URL %q: %w", rawURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return signedRequest{}, fmt.Errorf("URL %q is not an absolute http(s) URL", rawURL)
	}
	u.Fragment, u.RawFragment = "", ""
	r := signedRequest{method: method, url: u.String()}
	var bodyParams url.Values
	switch method {
	case "GET":
		if len(params) > 0 {
			sep := "?"
			if u.RawQuery != "" {
				sep = "&"
			} else if strings.HasSuffix(r.url, "?") {
				sep = ""
			}
			r.url += sep + params.Encode()
		}
	case "POST":
		bodyParams = params
		if bodyParams == nil {
			bodyParams = url.Values{}
		}
		r.body = bodyParams.Encode()
	default:
		return signedRequest{}, fmt.Errorf("method %q: want GET or POST", method)
	}
	switch s.provider {
	case "twilio":
		r.headers = append(r.headers, header{"X-Twilio-Signature", auth.SignTwilio(s.token, r.url, bodyParams)})
	case "plivo":
		nonce := newNonce()
		r.headers = append(r.headers,
			header{"X-Plivo-Signature-V3", auth.SignPlivoV3(s.token, r.url, nonce, method, bodyParams)},
			header{"X-Plivo-Signature-V3-Nonce", nonce})
		if s.master != "" {
			r.headers = append(r.headers, header{"X-Plivo-Signature-Ma-V3", auth.SignPlivoV3(s.master, r.url, nonce, method, bodyParams)})
		}
		nonce2 := newNonce()
		r.headers = append(r.headers,
			header{"X-Plivo-Signature-V2", auth.SignPlivoV2(s.token, r.url, nonce2)},
			header{"X-Plivo-Signature-V2-Nonce", nonce2})
		if s.master != "" {
			r.headers = append(r.headers, header{"X-Plivo-Signature-Ma-V2", auth.SignPlivoV2(s.master, r.url, nonce2)})
		}
	default:
		return signedRequest{}, fmt.Errorf("unknown provider %q", s.provider)
	}
	if method == "POST" {
		r.headers = append(r.headers, header{"Content-Type", formType})
	}
	return r, nil
}

// newNonce is a Plivo-style nonce: 20 random decimal digits.
func newNonce() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	return string(b)
}

// curl renders r as a shell command that sends exactly these bytes.
func (r signedRequest) curl() string {
	var b strings.Builder
	b.WriteString("curl")
	if strings.ContainsAny(r.url, "[]{}") {
		b.WriteString(" --globoff") // else curl expands [] and {} in the URL
	}
	b.WriteString(" " + shellQuote(r.url))
	for _, h := range r.headers {
		b.WriteString(" \\\n  -H " + shellQuote(h.name+": "+h.value))
	}
	if r.method == "POST" {
		b.WriteString(" \\\n  --data-raw " + shellQuote(r.body))
	}
	b.WriteString("\n")
	return b.String()
}

// jsonRequest is the shape of testdata/vectors/signatures.json: method, url, headers, body.
type jsonRequest struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

func (r signedRequest) json() ([]byte, error) {
	j := jsonRequest{Method: r.method, URL: r.url, Headers: make(map[string]string, len(r.headers)), Body: r.body}
	for _, h := range r.headers {
		j.Headers[h.name] = h.value
	}
	b, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	return append(b, '\n'), nil
}

// shellQuote quotes s for a POSIX shell: bare when it is plainly safe, else
// in single quotes, each single quote inside written as quote, backslash,
// quote, quote (close, escaped quote, reopen).
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=/:.,@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

const signUsage = `usage: ivr sign [--provider twilio|plivo] [--method GET|POST] [--json] [URL] [name=value ...]

Prints a curl command that sends the request exactly as the provider would,
signed with TWILIO_AUTH_TOKEN or PLIVO_AUTH_TOKEN (or NAME_FILE) from the
environment. URL may be a path such as /twilio/voice/menu/main?attempt=2; it is
joined to IVR_PUBLIC_URL (else http://localhost:8080). Without URL the
provider's answer URL is used. POST sends the parameters as the form body,
GET appends them to the query.

flags:
`

// Sign implements `ivr sign`: it prints a ready curl command (or, with
// --json, the request as JSON) carrying a valid signature for the request.
func Sign(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sign", flag.ContinueOnError)
	fs.SetOutput(stderr)
	provider := fs.String("provider", "twilio", "provider whose signature to compute: twilio or plivo")
	methodFlag := fs.String("method", "POST", "HTTP method: GET or POST")
	asJSON := fs.Bool("json", false, "print the request as JSON {method, url, headers, body} instead of curl")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), signUsage)
		fs.PrintDefaults()
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	m := strings.ToUpper(*methodFlag)
	if m != "GET" && m != "POST" {
		return fmt.Errorf("--method %q: want GET or POST", *methodFlag)
	}
	s, err := newSigner(getenv, *provider)
	if err != nil {
		return err
	}
	target := voiceURL(getenv, *provider)
	if len(pos) > 0 && isURLArg(pos[0]) {
		target, pos = pos[0], pos[1:]
		if strings.HasPrefix(target, "/") {
			target = baseURL(getenv) + target
		}
	}
	params := url.Values{}
	for _, p := range pos {
		name, value, ok := strings.Cut(p, "=")
		if !ok || name == "" {
			return fmt.Errorf("argument %q: want name=value (the URL comes first)", p)
		}
		params.Add(name, value)
	}
	r, err := s.sign(m, target, params)
	if err != nil {
		return err
	}
	warnOrigin(getenv, r.url, stderr)
	if *asJSON {
		b, err := r.json()
		if err != nil {
			return err
		}
		_, err = stdout.Write(b)
		return err
	}
	_, err = io.WriteString(stdout, r.curl())
	return err
}

// isURLArg tells a URL or path from a name=value parameter.
func isURLArg(s string) bool {
	return strings.HasPrefix(s, "/") || strings.Contains(s, "://")
}

// warnOrigin notes when the signed URL is not under IVR_PUBLIC_URL: the
// server rebuilds the URL it checks from IVR_PUBLIC_URL, so it would refuse.
func warnOrigin(getenv func(string) string, signed string, stderr io.Writer) {
	pub := strings.TrimRight(getenv("IVR_PUBLIC_URL"), "/")
	if pub == "" {
		return
	}
	p, err1 := url.Parse(pub)
	u, err2 := url.Parse(signed)
	if err1 != nil || err2 != nil || !strings.EqualFold(p.Scheme, u.Scheme) || !strings.EqualFold(p.Host, u.Host) {
		fmt.Fprintf(stderr, "warning: %s is not under IVR_PUBLIC_URL=%s; a server using that setting checks the signature against its own URL and will refuse this request\n", signed, pub)
	}
}

// parseInterleaved parses flags that may come before or after positional
// arguments; everything after "--" is positional.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}
