package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/auth"
	"github.com/ivr-project/ivr/internal/carrier"
	"github.com/ivr-project/ivr/internal/testutil"
)

// testEnv is the environment run sees in a test: env, and IVR_ENV_FILE
// naming a .env file that does not exist unless env names one, so the work
// tree's own .env is never read.
func testEnv(t testing.TB, env map[string]string) func(string) string {
	noDotenv := filepath.Join(t.TempDir(), ".env")
	return func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		if k == "IVR_ENV_FILE" {
			return noDotenv
		}
		return ""
	}
}

// TestRunReadsTheEnvFile: run reads the .env file IVR_ENV_FILE names, and
// the real environment wins over it.
func TestRunReadsTheEnvFile(t *testing.T) {
	dir := t.TempDir()
	dotenv := filepath.Join(dir, "test.env")
	fromFile := filepath.Join(dir, "from-dotenv.yaml")
	writeFile(t, dotenv, "IVR_FLOW="+fromFile+"\n")
	var out bytes.Buffer
	err := run(context.Background(), []string{"ivr", "check"}, testEnv(t, map[string]string{"IVR_ENV_FILE": dotenv}), nil, &out, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "from-dotenv.yaml") {
		t.Fatalf("check should read IVR_FLOW from the .env file: %v", err)
	}
	fromEnv := filepath.Join(dir, "from-env.yaml")
	err = run(context.Background(), []string{"ivr", "check"}, testEnv(t, map[string]string{"IVR_ENV_FILE": dotenv, "IVR_FLOW": fromEnv}), nil, &out, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "from-env.yaml") {
		t.Fatalf("the environment should win over the .env file: %v", err)
	}
}

// startServer runs the real `run` on a random port and waits for /healthz.
// It returns the base URL and a stop function that waits for run to return.
func startServer(t *testing.T, env map[string]string) (string, func() error, *testutil.Buffer) {
	t.Helper()
	return startServerTLS(t, env, nil)
}

// startServerTLS is startServer for a server whose certificate pool trusts
// (nil: plain HTTP).
func startServerTLS(t *testing.T, env map[string]string, pool *x509.CertPool) (string, func() error, *testutil.Buffer) {
	t.Helper()
	return startServerWith(t, env, pool, nil)
}

// startServerOut is startServer that also copies run's stdout into out.
func startServerOut(t *testing.T, env map[string]string, out *testutil.Buffer) (string, func() error, *testutil.Buffer) {
	t.Helper()
	return startServerWith(t, env, nil, out)
}

func startServerWith(t *testing.T, env map[string]string, pool *x509.CertPool, out *testutil.Buffer) (string, func() error, *testutil.Buffer) {
	t.Helper()
	client := http.DefaultClient
	if pool != nil {
		client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	}
	dir := t.TempDir()
	base := map[string]string{
		"IVR_ADDR":         "127.0.0.1:0",
		"IVR_DATABASE_URL": "sqlite:" + filepath.Join(dir, "ivr.db"),
		"IVR_NGROK_API":    "off",
	}
	for k, v := range env {
		base[k] = v
	}
	getenv := testEnv(t, base)
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	stderr := &testutil.Buffer{}
	done := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"ivr"}, getenv, nil, pw, stderr)
		pw.Close()
		done <- err
	}()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		re := regexp.MustCompile(`listening on (\S+)`)
		for sc.Scan() {
			if out != nil {
				out.Write([]byte(sc.Text() + "\n"))
			}
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
	}()
	var url string
	select {
	case url = <-addr:
	case err := <-done:
		t.Fatalf("run returned before listening: %v\nstderr:\n%s", err, stderr.String())
	case <-time.After(20 * time.Second):
		t.Fatalf("server did not start\nstderr:\n%s", stderr.String())
	}
	var err error
	if !testutil.Eventually(testutil.WaitTimeout, func() bool {
		var resp *http.Response
		resp, err = client.Get(url + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	}) {
		t.Fatalf("healthz never answered: %v", err)
	}
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			t.Fatal("run did not return after cancel")
			return nil
		}
	}
	t.Cleanup(func() { stop() })
	return url, stop, stderr
}

// signed is the form POST a provider sends to signURL, signed with token.
// It panics on a URL that cannot be signed (a mistake in the test).
func signed(provider, token, signURL string, form url.Values) carrier.Request {
	r, err := carrier.Signer{Provider: provider, Token: token}.Sign(http.MethodPost, signURL, form)
	if err != nil {
		panic(err)
	}
	return r
}

// send is r as an *http.Request, sent to base (scheme and host: the server
// behind a public name, or one of several instances) instead of the signed
// URL's when base is not "".
func send(r carrier.Request, base string) *http.Request {
	req, err := r.HTTP(context.Background())
	if err != nil {
		panic(err)
	}
	if base != "" {
		b, err := url.Parse(base)
		if err != nil {
			panic(err)
		}
		req.URL.Scheme, req.URL.Host, req.Host = b.Scheme, b.Host, b.Host
	}
	return req
}

// postTwilio sends a Twilio-signed form POST to base+path.
func postTwilio(t *testing.T, token, base, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(send(signed(carrier.Twilio, token, base+path, form), ""))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// elements lists the element names of an XML document in order.
func elements(t *testing.T, doc string) []string {
	t.Helper()
	var names []string
	d := xml.NewDecoder(strings.NewReader(doc))
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatalf("bad XML %q: %v", doc, err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			names = append(names, se.Name.Local)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestRunServesSignedCallEndToEnd(t *testing.T) {
	const token = "test-token"
	base, stop, stderr := startServer(t, map[string]string{"TWILIO_AUTH_TOKEN": token})
	call := url.Values{"CallSid": {"CA0123456789abcdef0123456789abcdef"}, "From": {"+14155550100"}, "To": {"+14155550199"}, "CallStatus": {"ringing"}}

	resp, body := postTwilio(t, token, base, "/twilio/voice", call)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/xml") {
		t.Fatalf("answer: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if els := elements(t, body); !contains(els, "Gather") {
		t.Fatalf("answer should present the main menu (a Gather); got %v\n%s", els, body)
	}

	// A forged request gets the fallback: 200, Dial, no Gather.
	resp, body = postTwilio(t, "wrong-token", base, "/twilio/voice", call)
	els := elements(t, body)
	if resp.StatusCode != 200 || !contains(els, "Dial") || contains(els, "Gather") {
		t.Fatalf("forged: %d %v\n%s", resp.StatusCode, els, body)
	}

	// The status callback is acknowledged and then listed by the API.
	status := url.Values{"CallSid": call["CallSid"], "From": call["From"], "To": call["To"], "CallStatus": {"completed"}, "CallDuration": {"42"}}
	if resp, body := postTwilio(t, token, base, "/twilio/status", status); resp.StatusCode != 200 {
		t.Fatalf("status: %d %s", resp.StatusCode, body)
	}
	resp2, err := http.Get(base + "/admin/api/calls")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp2.Body)
	resp2.Body.Close()
	if resp2.StatusCode != 200 || !strings.Contains(string(b), `"completed"`) || !strings.Contains(string(b), "CA0123456789abcdef0123456789abcdef") {
		t.Fatalf("calls API: %d %s", resp2.StatusCode, b)
	}

	mresp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	mb, _ := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	if !strings.Contains(string(mb), `ivr_fallbacks_total{provider="twilio",reason="bad_signature"} 1`) {
		t.Fatalf("metrics should count the forged request's fallback:\n%s", grep(string(mb), "ivr_fallbacks_total"))
	}
	if err := stop(); err != nil {
		t.Fatalf("run: %v\nstderr:\n%s", err, stderr.String())
	}
	if strings.Contains(stderr.String(), token) {
		t.Fatal("the auth token appeared in the logs")
	}
}

func grep(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestRunCheck(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"ivr", "check"}, testEnv(t, nil), nil, &out, io.Discard); err != nil {
		t.Fatalf("check of the bundled example: %v\n%s", err, out.String())
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	writeFile(t, bad, "entry: nowhere\nmenus:\n  main:\n    greeting: hi\n    bogus_key: 1\n")
	out.Reset()
	err := run(context.Background(), []string{"ivr", "check", bad}, testEnv(t, nil), nil, &out, io.Discard)
	if err == nil {
		t.Fatalf("check of a broken flow should fail; printed:\n%s", out.String())
	}
	if !regexp.MustCompile(`(?m)^.*bad\.yaml:\d+:\d+: .+$`).MatchString(out.String()) {
		t.Fatalf("problems should read file:line:col: message; got:\n%s", out.String())
	}
}

func TestRunUnknownCommand(t *testing.T) {
	if err := run(context.Background(), []string{"ivr", "bogus"}, testEnv(t, nil), nil, io.Discard, io.Discard); err == nil {
		t.Fatal("unknown command should fail")
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRunUsesNgrokTunnel: with IVR_PUBLIC_URL unset, the server asks the
// ngrok agent API for the public URL, prints the webhook URLs on it and
// checks signatures against it.
func TestRunUsesNgrokTunnel(t *testing.T) {
	agent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"tunnels":[{"public_url":"https://abc.ngrok.app","proto":"https","config":{"addr":"http://localhost:8080"}}]}`))
	}))
	defer agent.Close()
	var out testutil.Buffer
	base, _, _ := startServerOut(t, map[string]string{"IVR_NGROK_API": agent.URL, "TWILIO_AUTH_TOKEN": "tok"}, &out)
	// The last lines may still be on their way through the pipe.
	testutil.Eventually(testutil.WaitTimeout, func() bool { return strings.Contains(out.String(), "Admin UI") })
	if !strings.Contains(out.String(), "https://abc.ngrok.app/twilio/voice") {
		t.Fatalf("webhook URLs should be printed on the tunnel URL:\n%s", out.String())
	}
	// Signed for the public ngrok URL, received on localhost: accepted.
	form := url.Values{"CallSid": {"CA0123456789abcdef0123456789abcdef"}, "From": {"+14155550100"}}
	req, _ := http.NewRequest(http.MethodPost, base+"/twilio/voice", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", auth.SignTwilio("tok", "https://abc.ngrok.app/twilio/voice", form))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if els := elements(t, string(body)); !contains(els, "Gather") {
		t.Fatalf("a request signed for the ngrok URL should get the menu: %s", body)
	}
}

// TestCheckSaysWarningsAndSecrets: `ivr check` prints the warnings of a flow
// that loads (a silent cycle) and which secrets the flow needs, set or not
// in its environment, and still succeeds.
func TestCheckSaysWarningsAndSecrets(t *testing.T) {
	dir := t.TempDir()
	flow := filepath.Join(dir, "flow.yaml")
	writeFile(t, flow, `entry: a
requests:
  account:
    url: "https://api.example.com/{{secret.CRM_TOKEN}}/{{secret.TENANT}}"
    save: {status: status}
menus:
  a:
    greeting: "A."
    options: {"1": [{fetch: account}, hangup]}
    on_max_timeouts: {goto: b}
  b:
    greeting: "B."
    options: {"1": hangup}
    on_max_timeouts: {goto: a}
`)
	var out bytes.Buffer
	err := run(context.Background(), []string{"ivr", "check", flow}, testEnv(t, map[string]string{"IVR_SECRET_CRM_TOKEN": "x"}), nil, &out, io.Discard)
	if err != nil {
		t.Fatalf("check: %v\n%s", err, out.String())
	}
	for _, want := range []string{"flow.yaml:7:3: warning: a silent caller never leaves menus", "secret CRM_TOKEN: set",
		"secret TENANT: not set (IVR_SECRET_TENANT or IVR_SECRET_TENANT_FILE)", "flow.yaml: ok"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("check output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestServeBrokenFlowSaysSoOnce: a broken flow at start is one "load flow
// PATH:" (it was "load flow: load flow PATH:") and says how to see every
// problem from the source too.
func TestServeBrokenFlowSaysSoOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flow.yaml")
	writeFile(t, path, "entry: main\nmenus:\n  main:\n    greting: oops\n")
	err := run(context.Background(), []string{"ivr"}, testEnv(t, map[string]string{"IVR_FLOW": path, "IVR_ADDR": "127.0.0.1:0", "TWILIO_AUTH_TOKEN": "tok"}), nil, io.Discard, io.Discard)
	if err == nil || strings.Count(err.Error(), "load flow") != 1 || !strings.Contains(err.Error(), "go run ./cmd/ivr check "+path) {
		t.Fatalf("start with a broken flow: %v", err)
	}
}
