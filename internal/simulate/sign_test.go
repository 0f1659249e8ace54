package simulate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"

	"github.com/ivr-project/ivr/internal/auth"
	"github.com/ivr-project/ivr/internal/carrier"
	"github.com/ivr-project/ivr/internal/testutil"
)

// shellSplit splits a POSIX shell command line into words: single and double
// quotes, backslash escapes and backslash-newline continuations. Unquoted
// characters a shell would act on (pipes, expansions, globs, comments) are
// an error: the command must not depend on them.
func shellSplit(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unterminated single quote")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			inWord = true
			for i++; ; i++ {
				if i >= len(s) {
					return nil, errors.New("unterminated double quote")
				}
				if s[i] == '"' {
					break
				}
				if s[i] == '$' || s[i] == '`' {
					return nil, fmt.Errorf("expansion %q inside double quotes", s[i])
				}
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("$`\"\\\n", s[i+1]) >= 0 {
					i++
					if s[i] == '\n' {
						continue
					}
				}
				cur.WriteByte(s[i])
			}
		case c == '\\':
			if i+1 >= len(s) {
				return nil, errors.New("trailing backslash")
			}
			i++
			if s[i] != '\n' {
				cur.WriteByte(s[i])
				inWord = true
			}
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case strings.IndexByte("|&;<>()$`*?[]{}!", c) >= 0 || (!inWord && (c == '#' || c == '~')):
			return nil, fmt.Errorf("unquoted shell metacharacter %q at %d", c, i)
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

func TestShellSplit(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{`curl 'a b' \` + "\n" + `  -H 'X: y'`, []string{"curl", "a b", "-H", "X: y"}},
		{`a'b'"c d"\ e`, []string{"abc d e"}},
		{`'it'\''s'`, []string{"it's"}},
		{`"a\"b\\c"`, []string{`a"b\c`}},
		{`''`, []string{""}},
	} {
		got, err := shellSplit(tc.in)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("shellSplit(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{`'open`, `a;b`, `a|b`, `$(x)`, `a*`, `x=[1]`, "`x`", `"$x"`, `#c`, `a\`} {
		if got, err := shellSplit(bad); err == nil {
			t.Errorf("shellSplit(%q) = %q, want an error", bad, got)
		}
	}
}

func TestShellQuoteRoundTrip(t *testing.T) {
	for _, s := range []string{"", "plain", "a b", "it's", "''", `'\''`, "$HOME", "`id`", "a\nb", "x=[1]&y={2}", "José 😀", "-H", "!event", "#", "~", `\`, `"`} {
		got, err := shellSplit(shellQuote(s))
		if err != nil || len(got) != 1 || got[0] != s {
			t.Errorf("shellSplit(shellQuote(%q)) = %q, %v", s, got, err)
		}
	}
}

// curlArgs reads the request back from the words of a curl command.
type curlArgs struct {
	method  string
	url     string
	headers http.Header
	body    *string
	globoff bool
}

func parseCurl(words []string) (curlArgs, error) {
	c := curlArgs{method: "GET", headers: http.Header{}}
	if len(words) == 0 || words[0] != "curl" {
		return c, fmt.Errorf("not a curl command: %q", words)
	}
	for i := 1; i < len(words); i++ {
		w := words[i]
		next := func() (string, error) {
			if i+1 >= len(words) {
				return "", fmt.Errorf("%s without a value", w)
			}
			i++
			return words[i], nil
		}
		switch w {
		case "--globoff":
			c.globoff = true
		case "-H":
			h, err := next()
			if err != nil {
				return c, err
			}
			name, value, ok := strings.Cut(h, ": ")
			if !ok {
				return c, fmt.Errorf("header %q", h)
			}
			c.headers.Add(name, value)
		case "--data-raw":
			b, err := next()
			if err != nil {
				return c, err
			}
			c.body, c.method = &b, "POST"
		default:
			if strings.HasPrefix(w, "-") || c.url != "" {
				return c, fmt.Errorf("unexpected curl argument %q", w)
			}
			c.url = w
		}
	}
	return c, nil
}

func signCmd(t *testing.T, env func(string) string, args ...string) (stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	if err := Sign(args, env, &o, &e); err != nil {
		t.Fatalf("Sign(%q): %v", args, err)
	}
	return o.String(), e.String()
}

type signCase struct {
	name   string
	args   []string // flags; the URL is srv.URL + path
	path   string
	params []string
	globs  bool
}

func signCases() []signCase {
	tricky := []string{
		"CallSid=CA0123", "From=+14155550100", "CallerName=José O'Brien & Co", "Digits=#", "Odd=a+b=c;$(id)`x`",
		"Tag=b", "Tag=a", "Empty=", "Multi=line one\nline two",
	}
	return []signCase{
		{name: "twilio POST", path: "/twilio/voice", params: tricky},
		{name: "twilio POST with query", path: "/twilio/voice/menu/main?attempt=2", params: []string{"Digits=1"}},
		{name: "twilio GET", args: []string{"--method", "GET"}, path: "/twilio/voice/menu/main?attempt=2", params: tricky},
		{name: "twilio POST no params", path: "/twilio/voice"},
		{name: "twilio POST quote in URL", path: "/twilio/voice/menu/main?name=O'Brien", params: []string{"Digits=1"}},
		{name: "twilio GET bracket query", args: []string{"--method", "get"}, path: "/twilio/voice/menu/main?x=[1]&y={2}", params: []string{"Digits=1"}, globs: true},
		{name: "plivo POST", args: []string{"--provider", "plivo"}, path: "/plivo/voice", params: tricky},
		{name: "plivo POST with query", args: []string{"--provider", "plivo"}, path: "/plivo/voice/menu/main?attempt=2", params: []string{"Digits=2"}},
		{name: "plivo GET", args: []string{"--provider", "plivo", "--method", "GET"}, path: "/plivo/voice/menu/main?attempt=2", params: tricky},
		{name: "plivo POST no params", args: []string{"--provider", "plivo"}, path: "/plivo/voice"},
	}
}

// wantParams is what the server should see: the form (POST) or the query (GET).
func wantParams(t *testing.T, method, path string, params []string) url.Values {
	t.Helper()
	want := url.Values{}
	if method == "GET" {
		if _, q, ok := strings.Cut(path, "?"); ok {
			v, err := url.ParseQuery(q)
			if err != nil {
				t.Fatal(err)
			}
			want = v
		}
	}
	for _, p := range params {
		k, v, _ := strings.Cut(p, "=")
		want.Add(k, v)
	}
	return want
}

func sameParams(a, b url.Values) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return reflect.DeepEqual(a, b)
}

// TestSignCurlReplay parses the printed curl command back and sends it with
// net/http through internal/auth's middlewares.
func TestSignCurlReplay(t *testing.T) {
	for _, tc := range signCases() {
		t.Run(tc.name, func(t *testing.T) {
			srv := newFakeServer(t)
			args := append(append(append([]string{}, tc.args...), srv.URL+tc.path), tc.params...)
			out, _ := signCmd(t, testEnv(), args...)
			words, err := shellSplit(out)
			if err != nil {
				t.Fatalf("shellSplit: %v\n%s", err, out)
			}
			c, err := parseCurl(words)
			if err != nil {
				t.Fatalf("parseCurl: %v\n%s", err, out)
			}
			if c.globoff != tc.globs {
				t.Errorf("--globoff = %v, want %v\n%s", c.globoff, tc.globs, out)
			}
			var body io.Reader
			if c.body != nil {
				body = strings.NewReader(*c.body)
				if ct := c.headers.Get("Content-Type"); ct != carrier.FormType {
					t.Errorf("Content-Type = %q", ct)
				}
			}
			req, err := http.NewRequest(c.method, c.url, body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header = c.headers
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if len(srv.failures) > 0 || resp.StatusCode == http.StatusForbidden {
				t.Fatalf("refused: %q\n%s", srv.failures, out)
			}
			got := srv.all()
			if len(got) != 1 {
				t.Fatalf("server saw %d requests", len(got))
			}
			if want := wantParams(t, c.method, tc.path, tc.params); got[0].Method != c.method || !sameParams(got[0].Params, want) {
				t.Errorf("server saw %s %v\nwant %s %v", got[0].Method, got[0].Params, c.method, want)
			}
		})
	}
}

// TestSignCurlExec runs the printed command with a real shell and curl.
func TestSignCurlExec(t *testing.T) {
	curl := testutil.NeedCommand(t, "curl", "the printed `ivr sign` commands are not run for real; install curl")
	sh, shErr := exec.LookPath("sh")
	for _, tc := range signCases() {
		t.Run(tc.name, func(t *testing.T) {
			srv := newFakeServer(t)
			args := append(append(append([]string{}, tc.args...), srv.URL+tc.path), tc.params...)
			out, _ := signCmd(t, testEnv(), args...)
			var cmd *exec.Cmd
			if shErr == nil {
				cmd = exec.Command(sh, "-c", strings.TrimSuffix(out, "\n")+" --silent --show-error --fail --output /dev/null")
			} else {
				words, err := shellSplit(out)
				if err != nil {
					t.Fatal(err)
				}
				cmd = exec.Command(curl, append(words[1:], "--silent", "--show-error", "--fail", "--output", os.DevNull)...)
			}
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%v: %v\n%s\ncommand:\n%s\nrefusals: %q", cmd.Args[0], err, b, out, srv.failures)
			}
			got := srv.all()
			if len(got) != 1 || len(srv.failures) > 0 {
				t.Fatalf("server saw %d requests, refusals %q", len(got), srv.failures)
			}
			method := "POST"
			if strings.Contains(strings.ToUpper(strings.Join(tc.args, " ")), "GET") {
				method = "GET"
			}
			if want := wantParams(t, method, tc.path, tc.params); got[0].Method != method || !sameParams(got[0].Params, want) {
				t.Errorf("server saw %s %v\nwant %s %v", got[0].Method, got[0].Params, method, want)
			}
		})
	}
}

// TestSignTwilioVectors: Twilio signatures are deterministic, so the signer
// reproduces vectors made with Twilio's own SDK (testdata/vectors).
func TestSignTwilioVectors(t *testing.T) {
	env := testEnv("TWILIO_AUTH_TOKEN", "12345")
	call := []string{"AccountSid=ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "CallSid=CAbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
		"From=+14155550100", "To=+14155550199", "CallStatus=ringing", "Direction=inbound", "ApiVersion=2010-04-01"}
	for _, tc := range []struct {
		name string
		args []string
		sig  string
	}{
		{"twilio-post-answer", append([]string{"--json", "https://ivr.example.com/twilio/voice"}, call...), "kmqkAGGuUhsr0zmY3f/RiizY+aQ="},
		{"twilio-post-gather-action-with-query", append(append([]string{"--json", "https://ivr.example.com/twilio/voice/menu/main?attempt=2"}, call...), "Digits=1", "FinishedOnKey="), "3eVj7DksrCgXCkUjqyx1mj5nCXo="},
		{"twilio-get-answer", []string{"--json", "--method", "GET", "https://ivr.example.com/twilio/voice?AccountSid=ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa&CallSid=CAbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb&From=%2B14155550100&To=%2B14155550199&CallStatus=ringing&Direction=inbound&ApiVersion=2010-04-01"}, "g4oaPeha6HiH9hvJr7rIJvO1ns4="},
	} {
		out, _ := signCmd(t, env, tc.args...)
		var j jsonRequest
		if err := json.Unmarshal([]byte(out), &j); err != nil {
			t.Fatalf("%s: %v\n%s", tc.name, err, out)
		}
		if got := j.Headers["X-Twilio-Signature"]; got != tc.sig {
			t.Errorf("%s: signature %q, want %q\n%s", tc.name, got, tc.sig, out)
		}
	}
}

func TestSignJSON(t *testing.T) {
	env := testEnv("PLIVO_MASTER_AUTH_TOKEN", "master", "IVR_PUBLIC_URL", "https://ivr.example.com")
	out, stderr := signCmd(t, env, "--provider", "plivo", "--json", "/plivo/voice/menu/main?attempt=2", "Digits=2")
	if stderr != "" {
		t.Errorf("stderr: %s", stderr)
	}
	var j jsonRequest
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatal(err)
	}
	if j.Method != "POST" || j.URL != "https://ivr.example.com/plivo/voice/menu/main?attempt=2" || j.Body != "Digits=2" || j.Headers["Content-Type"] != carrier.FormType {
		t.Fatalf("request = %+v", j)
	}
	h := j.Headers
	params := url.Values{"Digits": {"2"}}
	nonce3, nonce2 := h["X-Plivo-Signature-V3-Nonce"], h["X-Plivo-Signature-V2-Nonce"]
	if h["X-Plivo-Signature-V3"] != auth.SignPlivoV3(testPlivoToken, j.URL, nonce3, "POST", params) {
		t.Error("V3 signature is not the one auth.SignPlivoV3 makes")
	}
	if h["X-Plivo-Signature-Ma-V3"] != auth.SignPlivoV3("master", j.URL, nonce3, "POST", params) {
		t.Error("Ma-V3 signature is not the one auth.SignPlivoV3 makes")
	}
	if h["X-Plivo-Signature-V2"] != auth.SignPlivoV2(testPlivoToken, j.URL, nonce2) ||
		h["X-Plivo-Signature-Ma-V2"] != auth.SignPlivoV2("master", j.URL, nonce2) {
		t.Error("V2 signatures are not the ones auth.SignPlivoV2 makes")
	}
	if n := h["X-Plivo-Signature-V3-Nonce"]; len(n) != 20 || strings.Trim(n, "0123456789") != "" {
		t.Errorf("nonce %q: want 20 digits", n)
	}
	again, _ := signCmd(t, env, "--provider", "plivo", "--json", "/plivo/voice/menu/main?attempt=2", "Digits=2")
	if again == out {
		t.Error("two signings share a nonce")
	}
}

func TestSignDefaults(t *testing.T) {
	// No URL: the provider's answer URL under IVR_PUBLIC_URL; flags after the URL.
	out, stderr := signCmd(t, testEnv("IVR_PUBLIC_URL", "https://abc.ngrok.app/"), "--json", "CallSid=CA1", "--method", "GET")
	var j jsonRequest
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatal(err)
	}
	if j.Method != "GET" || j.URL != "https://abc.ngrok.app/twilio/voice?CallSid=CA1" || j.Body != "" {
		t.Errorf("request = %+v", j)
	}
	if stderr != "" {
		t.Errorf("stderr: %s", stderr)
	}
	if j.Headers["X-Twilio-Signature"] != auth.SignTwilio(testTwilioToken, j.URL, nil) {
		t.Error("signature is not the one auth.SignTwilio makes")
	}
	// A URL the server will not rebuild gets a warning.
	_, stderr = signCmd(t, testEnv("IVR_PUBLIC_URL", "https://abc.ngrok.app"), "http://localhost:8080/twilio/voice")
	if !strings.Contains(stderr, "not under IVR_PUBLIC_URL") {
		t.Errorf("no warning; stderr: %q", stderr)
	}
	// Everything after -- is an argument.
	out, _ = signCmd(t, testEnv(), "--json", "--", "http://localhost:8080/twilio/voice", "-x=1")
	if err := json.Unmarshal([]byte(out), &j); err != nil || j.Body != "-x=1" {
		t.Errorf("after --: %+v, %v", j, err)
	}
}

func TestSignErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  func(string) string
		want string
	}{
		{[]string{"http://x/twilio/voice"}, production, "TWILIO_AUTH_TOKEN is not set"},
		{[]string{"--provider", "plivo", "http://x/plivo/voice"}, production, "PLIVO_AUTH_TOKEN is not set"},
		{[]string{"--provider", "skype", "http://x/"}, testEnv(), `unknown provider "skype"`},
		{[]string{"--method", "PUT", "http://x/"}, testEnv(), `--method "PUT"`},
		{[]string{"http://x/twilio/voice", "Digits"}, testEnv(), `argument "Digits": want name=value`},
		{[]string{"ftp://x/twilio/voice"}, testEnv(), "not an absolute http(s) URL"},
		{[]string{"--nope"}, testEnv(), "flag provided but not defined"},
	} {
		var o, e bytes.Buffer
		err := Sign(tc.args, tc.env, &o, &e)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Sign(%q) = %v, want error with %q", tc.args, err, tc.want)
		}
		if o.Len() > 0 {
			t.Errorf("Sign(%q) printed %q on error", tc.args, o.String())
		}
	}
}

func TestSignNeverPrintsToken(t *testing.T) {
	env := testEnv("TWILIO_AUTH_TOKEN", "s3cr3t-token", "PLIVO_AUTH_TOKEN", "s3cr3t-token")
	for _, p := range []string{"twilio", "plivo"} {
		out, stderr := signCmd(t, env, "--provider", p, "http://localhost:8080/"+p+"/voice", "A=1")
		if strings.Contains(out+stderr, "s3cr3t") {
			t.Errorf("%s: token in output:\n%s", p, out)
		}
	}
}
