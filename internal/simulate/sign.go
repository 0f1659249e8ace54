package simulate

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/ivr-project/ivr/internal/carrier"
)

// curl renders r as a shell command that sends exactly these bytes.
func curl(r carrier.Request) string {
	var b strings.Builder
	b.WriteString("curl")
	if strings.ContainsAny(r.URL, "[]{}") {
		b.WriteString(" --globoff") // else curl expands [] and {} in the URL
	}
	b.WriteString(" " + shellQuote(r.URL))
	for _, h := range r.Headers {
		b.WriteString(" \\\n  -H " + shellQuote(h.Name+": "+h.Value))
	}
	if r.Method == "POST" {
		b.WriteString(" \\\n  --data-raw " + shellQuote(r.Body))
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

func requestJSON(r carrier.Request) ([]byte, error) {
	j := jsonRequest{Method: r.Method, URL: r.URL, Headers: make(map[string]string, len(r.Headers)), Body: r.Body}
	for _, h := range r.Headers {
		j.Headers[h.Name] = h.Value
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
	r, err := s.Sign(m, target, params)
	if err != nil {
		return err
	}
	warnOrigin(getenv, r.URL, stderr)
	if *asJSON {
		b, err := requestJSON(r)
		if err != nil {
			return err
		}
		_, err = stdout.Write(b)
		return err
	}
	_, err = io.WriteString(stdout, curl(r))
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
