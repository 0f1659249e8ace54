package guard

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/testutil"
)

// testCA is a certificate authority made up for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1000),
		Subject:               pkix.Name{CommonName: "ivr test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// issue writes a leaf certificate for ivr.test with the given serial number
// and its key as PEM files.
func (ca *testCA) issue(t *testing.T, serial int64, certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "ivr.test"},
		DNSNames:     []string{"ivr.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "PRIVATE KEY", keyDER)
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// touch gives both files a new modification time, as a renewal would.
func touch(t *testing.T, at time.Time, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if err := os.Chtimes(p, at, at); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTLSServerReloadsCertificate(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	ca := newTestCA(t)
	ca.issue(t, 1, certFile, keyFile)

	var clock atomic.Int64
	start := time.Now()
	clock.Store(start.UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	advance := func(d time.Duration) { clock.Add(int64(d)) }

	logs := &testutil.Buffer{}
	cfg, redirect, err := newTLS(TLSConfig{CertFile: certFile, KeyFile: keyFile}, slog.New(slog.NewTextHandler(logs, nil)), now)
	if err != nil {
		t.Fatalf("newTLS: %v", err)
	}
	if redirect != nil {
		t.Errorf("file mode returned a port-80 handler; want nil")
	}

	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	ts.TLS = cfg
	ts.StartTLS()
	defer ts.Close()

	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: ca.pool, ServerName: "ivr.test"},
		ForceAttemptHTTP2: true,
		DisableKeepAlives: true, // a new handshake per request
	}}
	served := func() (serial int64, proto string) {
		t.Helper()
		resp, err := client.Get(ts.URL + "/healthz")
		if err != nil {
			t.Fatalf("GET over TLS: %v", err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || string(body) != "ok" {
			t.Fatalf("GET: %d %q", resp.StatusCode, body)
		}
		if resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
			t.Fatalf("connection state %+v: want TLS 1.2 or newer", resp.TLS)
		}
		return resp.TLS.PeerCertificates[0].SerialNumber.Int64(), resp.Proto
	}

	serial, proto := served()
	if serial != 1 {
		t.Fatalf("serving certificate %d, want 1", serial)
	}
	if proto != "HTTP/2.0" {
		t.Errorf("protocol %s, want HTTP/2.0 (NextProtos h2)", proto)
	}

	// Renew: new pair on disk. Within the check interval the old one stays.
	ca.issue(t, 2, certFile, keyFile)
	touch(t, start.Add(time.Minute), certFile, keyFile)
	if serial, _ := served(); serial != 1 {
		t.Fatalf("before the next check: serving %d, want still 1", serial)
	}
	advance(reloadEvery + time.Second)
	if serial, _ := served(); serial != 2 {
		t.Fatalf("after the check: serving %d, want the renewed 2", serial)
	}
	if !strings.Contains(logs.String(), "certificate reloaded") {
		t.Errorf("no reload logged; logs:\n%s", logs)
	}

	// A broken write: keep serving the last good certificate, log it once.
	if err := os.WriteFile(certFile, []byte("-----BEGIN CERTIFICATE-----\ngarbage\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	touch(t, start.Add(2*time.Minute), certFile)
	advance(reloadEvery + time.Second)
	if serial, _ := served(); serial != 2 {
		t.Fatalf("after a bad write: serving %d, want the last good 2", serial)
	}
	advance(reloadEvery + time.Second)
	if serial, _ := served(); serial != 2 {
		t.Fatalf("after a bad write, second check: serving %d, want 2", serial)
	}
	if n := strings.Count(logs.String(), "certificate reload failed"); n != 1 {
		t.Errorf("reload failure logged %d times, want once; logs:\n%s", n, logs)
	}

	// Fixed: the next check picks up the good pair.
	ca.issue(t, 3, certFile, keyFile)
	touch(t, start.Add(3*time.Minute), certFile, keyFile)
	advance(reloadEvery + time.Second)
	if serial, _ := served(); serial != 3 {
		t.Fatalf("after the fix: serving %d, want 3", serial)
	}
	if strings.Contains(logs.String(), "PRIVATE KEY") {
		t.Errorf("key material in the logs:\n%s", logs)
	}
}

func TestTLSConfigIsModern(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	newTestCA(t).issue(t, 1, certFile, keyFile)
	cfg, _, err := NewTLS(TLSConfig{CertFile: certFile, KeyFile: keyFile}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MinVersion != tls.VersionTLS12 {
		t.Errorf("MinVersion = %x, want TLS 1.2", cfg.MinVersion)
	}
	if !slices.Contains(cfg.CurvePreferences, tls.X25519) || !slices.Contains(cfg.CurvePreferences, tls.CurveP256) {
		t.Errorf("CurvePreferences = %v, want X25519 and P-256", cfg.CurvePreferences)
	}
	insecure := map[uint16]bool{}
	for _, s := range tls.InsecureCipherSuites() {
		insecure[s.ID] = true
	}
	for _, id := range cfg.CipherSuites {
		if insecure[id] {
			t.Errorf("insecure cipher suite %s", tls.CipherSuiteName(id))
		}
		if strings.Contains(tls.CipherSuiteName(id), "CBC") {
			t.Errorf("CBC cipher suite %s", tls.CipherSuiteName(id))
		}
	}
	if !slices.Equal(cfg.NextProtos, []string{"h2", "http/1.1"}) {
		t.Errorf("NextProtos = %v", cfg.NextProtos)
	}
}

func TestNewTLSErrors(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	newTestCA(t).issue(t, 1, certFile, keyFile)
	otherKey := filepath.Join(dir, "other-key.pem")
	newTestCA(t).issue(t, 2, filepath.Join(dir, "other-cert.pem"), otherKey)

	tests := []struct {
		name string
		cfg  TLSConfig
		want string
	}{
		{"cert without key", TLSConfig{CertFile: certFile}, "set both"},
		{"both modes", TLSConfig{CertFile: certFile, KeyFile: keyFile, AutocertHosts: []string{"ivr.example.com"}}, "not both"},
		{"missing cert", TLSConfig{CertFile: filepath.Join(dir, "nope.pem"), KeyFile: keyFile}, "nope.pem"},
		{"mismatched key", TLSConfig{CertFile: certFile, KeyFile: otherKey}, "load certificate"},
		{"autocert without cache", TLSConfig{AutocertHosts: []string{"ivr.example.com"}}, "cache directory"},
		{"autocert with URL", TLSConfig{AutocertHosts: []string{"https://ivr.example.com"}, AutocertCacheDir: dir}, "bare host name"},
		{"autocert wildcard", TLSConfig{AutocertHosts: []string{"*.example.com"}, AutocertCacheDir: dir}, "bare host name"},
		{"autocert empty hosts", TLSConfig{AutocertHosts: []string{" "}, AutocertCacheDir: dir}, "at least one host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := NewTLS(tt.cfg, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewTLS error = %v, want one saying %q", err, tt.want)
			}
		})
	}
}

func TestNewTLSOff(t *testing.T) {
	cfg, h, err := NewTLS(TLSConfig{}, nil)
	if cfg != nil || h != nil || err != nil {
		t.Fatalf("NewTLS(empty) = %v, %v, %v; want all nil", cfg, h, err)
	}
}

func TestNewTLSAutocert(t *testing.T) {
	cache := filepath.Join(t.TempDir(), "acme")
	cfg, h, err := NewTLS(TLSConfig{AutocertHosts: []string{"IVR.example.com."}, AutocertCacheDir: cache}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.GetCertificate == nil || !slices.Contains(cfg.NextProtos, "acme-tls/1") {
		t.Errorf("autocert config: GetCertificate set %v, NextProtos %v", cfg.GetCertificate != nil, cfg.NextProtos)
	}
	if fi, err := os.Stat(cache); err != nil || !fi.IsDir() {
		t.Errorf("cache directory not created: %v", err)
	}
	// A host outside the whitelist gets no certificate (and no ACME traffic).
	if _, err := cfg.GetCertificate(&tls.ClientHelloInfo{ServerName: "evil.example.net"}); err == nil {
		t.Error("certificate for a host outside AutocertHosts; want an error")
	}
	// Port 80: anything but an ACME challenge is redirected to https.
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "http://ivr.example.com/twilio/voice?x=1", nil))
	if loc := w.Header().Get("Location"); w.Code != http.StatusMovedPermanently || loc != "https://ivr.example.com/twilio/voice?x=1" {
		t.Errorf("port 80 answer %d Location %q", w.Code, loc)
	}
}

func TestRedirectHTTPS(t *testing.T) {
	tests := []struct {
		name, port, method, host, target string
		code                             int
		loc                              string
	}{
		{"get default port", "", http.MethodGet, "ivr.example.com", "/twilio/voice?a=1&b=2", http.StatusMovedPermanently, "https://ivr.example.com/twilio/voice?a=1&b=2"},
		{"drops :80", "443", http.MethodGet, "ivr.example.com:80", "/x", http.StatusMovedPermanently, "https://ivr.example.com/x"},
		{"other port", ":8443", http.MethodHead, "ivr.example.com:8080", "/x", http.StatusMovedPermanently, "https://ivr.example.com:8443/x"},
		{"post keeps method", "", http.MethodPost, "ivr.example.com", "/twilio/voice", http.StatusPermanentRedirect, "https://ivr.example.com/twilio/voice"},
		{"ipv6 host", "", http.MethodGet, "[2001:db8::1]:80", "/", http.StatusMovedPermanently, "https://[2001:db8::1]/"},
		{"ipv6 host with port", "8443", http.MethodGet, "[2001:db8::1]", "/", http.StatusMovedPermanently, "https://[2001:db8::1]:8443/"},
		{"escaped path", "", http.MethodGet, "h", "/a%20b/c?q=%2F", http.StatusMovedPermanently, "https://h/a%20b/c?q=%2F"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.target, nil)
			r.Host = tt.host
			w := httptest.NewRecorder()
			RedirectHTTPS(tt.port).ServeHTTP(w, r)
			if w.Code != tt.code || w.Header().Get("Location") != tt.loc {
				t.Errorf("got %d %q, want %d %q", w.Code, w.Header().Get("Location"), tt.code, tt.loc)
			}
		})
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Host = ""
	w := httptest.NewRecorder()
	RedirectHTTPS("").ServeHTTP(w, r)
	if w.Code != http.StatusBadRequest {
		t.Errorf("no Host: %d, want 400", w.Code)
	}
}
