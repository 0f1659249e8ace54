package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/carrier"
	"github.com/ivr-project/ivr/internal/testutil"
)

// TestNginxTerminatesTLS puts a real nginx (Debian's package) in front of ivr,
// terminating TLS with a self-signed certificate, as in the README's "two
// instances" section. The provider signs the https URL it was given, while ivr
// itself receives plain http from nginx: that is the proxy pitfall the
// providers' documentation warns about. Configured as the README says (a public
// URL, or trusted X-Forwarded-Proto), a request signed for the https URL
// reaches the menu and one signed for the http URL gets the fallback; with
// neither, it is the other way round.
func TestNginxTerminatesTLS(t *testing.T) {
	nginx := "/usr/sbin/nginx" // Debian's path, not on every user's PATH
	if _, err := os.Stat(nginx); err != nil {
		nginx = testutil.NeedCommand(t, "nginx", "install Debian's nginx package (bash scripts/test.sh does it as root)")
	}
	const token = "nginx-test-token"
	certFile, keyFile, pool := writeTestCert(t)
	cases := []struct {
		name      string
		env       func(public string) map[string]string
		httpsMenu bool // whether the https signature (not the http one) reaches the menu
	}{
		{"public URL", func(public string) map[string]string {
			return map[string]string{"IVR_PUBLIC_URL": public}
		}, true},
		{"trusted X-Forwarded-Proto", func(string) map[string]string {
			return map[string]string{"IVR_TRUST_PROXY_HEADERS": "true"}
		}, true},
		{"neither (the pitfall)", func(string) map[string]string { return nil }, false},
	}
	var servers []nginxServer
	publics := make([]string, len(cases))
	for i, c := range cases {
		ln, err := net.Listen("tcp", "127.0.0.1:0") // handed to nginx as it is, never re-bound
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		publics[i] = fmt.Sprintf("https://127.0.0.1:%d", port)
		env := map[string]string{"TWILIO_AUTH_TOKEN": token}
		for k, v := range c.env(publics[i]) {
			env[k] = v
		}
		upstream, _, _ := startServer(t, env)
		servers = append(servers, nginxServer{ln: ln.(*net.TCPListener), port: port, upstream: strings.TrimPrefix(upstream, "http://")})
	}
	startNginx(t, nginx, certFile, keyFile, pool, servers)

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	call := url.Values{"CallSid": {"CA0123456789abcdef0123456789abcdef"}, "From": {"+14155550100"}, "To": {"+14155550199"}}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			target := publics[i] + "/twilio/voice"
			for _, signed := range []string{target, "http://" + strings.TrimPrefix(target, "https://")} {
				els := postThroughNginx(t, client, target, signed, token, call)
				wantMenu := strings.HasPrefix(signed, "https://") == c.httpsMenu
				menu := contains(els, "Gather")
				fallback := contains(els, "Dial") && !menu
				if wantMenu && !menu {
					t.Errorf("signed for %s: want the menu (a Gather), got %v", signed, els)
				}
				if !wantMenu && !fallback {
					t.Errorf("signed for %s: want the fallback (a Dial, no Gather), got %v", signed, els)
				}
			}
		})
	}
}

// postThroughNginx posts call to target (nginx) signed for the URL signedFor and
// returns the answer's XML elements; the answer must be a 200.
func postThroughNginx(t *testing.T, client *http.Client, target, signedFor, token string, call url.Values) []string {
	t.Helper()
	req := send(signed(carrier.Twilio, token, signedFor, call), "")
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	req.URL, req.Host = u, u.Host
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("signed for %s: status %d: %s", signedFor, resp.StatusCode, body)
	}
	return elements(t, string(body))
}

// nginxServer is one TLS listener of the test nginx and the ivr behind it.
type nginxServer struct {
	ln       *net.TCPListener // bound here on port 0; nginx inherits it
	port     int
	upstream string // host:port of ivr
}

// inheritListeners hands each server's bound listener to cmd the way nginx
// takes sockets over from an old binary: as extra files named in the NGINX
// environment variable ("3;4;"), matched to the listen directives by
// address. Nothing is re-bound, so no other process can take the port in
// between. The parent's copies are closed once nginx has started. (nginx
// 1.22 takes inherited sockets over only with its master process: without
// one it crashes.)
func inheritListeners(t *testing.T, cmd *exec.Cmd, servers []nginxServer) (closeParent func()) {
	t.Helper()
	var fds strings.Builder
	var files []*os.File
	for i, s := range servers {
		f, err := s.ln.File()
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
		fmt.Fprintf(&fds, "%d;", 3+i)
	}
	cmd.ExtraFiles = files
	cmd.Env = append(os.Environ(), "NGINX="+fds.String())
	return func() {
		for i, f := range files {
			f.Close()
			servers[i].ln.Close()
		}
	}
}

// startNginx runs nginx in the foreground (its master and one worker) with
// everything under a temporary prefix, and waits until each listener answers
// /healthz over TLS. It is stopped when the test ends.
func startNginx(t *testing.T, nginx, certFile, keyFile string, pool *x509.CertPool, servers []nginxServer) {
	t.Helper()
	dir := t.TempDir()
	var conf strings.Builder
	fmt.Fprintf(&conf, `daemon off;
master_process on;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log stderr warn;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
`, dir)
	for _, s := range servers {
		fmt.Fprintf(&conf, `    server {
        listen 127.0.0.1:%d ssl;
        ssl_certificate %s;
        ssl_certificate_key %s;
        location / {
            proxy_pass http://%s;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }
    }
`, s.port, certFile, keyFile, s.upstream)
	}
	conf.WriteString("}\n")
	confFile := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confFile, []byte(conf.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	stderr := &testutil.Buffer{}
	cmd := exec.Command(nginx, "-p", dir, "-c", confFile, "-e", "stderr")
	cmd.Stdout, cmd.Stderr = stderr, stderr
	closeParent := inheritListeners(t, cmd, servers)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start nginx: %v", err)
	}
	closeParent()
	var waitErr error
	exited := make(chan struct{})
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		// The master stops its worker on SIGTERM; a killed master would
		// leave the worker holding the ports.
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 2 * time.Second}
	for _, s := range servers {
		healthz := fmt.Sprintf("https://127.0.0.1:%d/healthz", s.port)
		var lastErr error
		ok := testutil.Eventually(15*time.Second, func() bool {
			select {
			case <-exited:
				return true
			default:
			}
			resp, err := client.Get(healthz)
			if err != nil {
				lastErr = err
				return false
			}
			resp.Body.Close()
			lastErr = fmt.Errorf("status %d", resp.StatusCode)
			return resp.StatusCode == 200
		})
		select {
		case <-exited:
			t.Fatalf("nginx exited: %v\n%s", waitErr, stderr.String())
		default:
		}
		if !ok {
			t.Fatalf("nginx never answered %s: %v\n%s", healthz, lastErr, stderr.String())
		}
	}
}
