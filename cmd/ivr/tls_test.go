package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/carrier"
)

// writeTestCert writes a self-signed certificate for 127.0.0.1 and returns
// the cert and key paths and a pool trusting it.
func writeTestCert(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "ivr test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeFile(t, certFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	writeFile(t, keyFile, string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})))
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestTLSServesSignedRequest: with a certificate configured, run serves
// HTTPS itself and a request signed for the https URL gets the menu; the
// token comes from a _FILE secret.
func TestTLSServesSignedRequest(t *testing.T) {
	certFile, keyFile, pool := writeTestCert(t)
	tokenFile := filepath.Join(t.TempDir(), "twilio-token")
	writeFile(t, tokenFile, "file-token\n")
	base, _, _ := startServerTLS(t, map[string]string{
		"IVR_TLS_CERT_FILE":      certFile,
		"IVR_TLS_KEY_FILE":       keyFile,
		"TWILIO_AUTH_TOKEN_FILE": tokenFile,
	}, pool)
	if !strings.HasPrefix(base, "https://") {
		t.Fatalf("server should announce https, got %s", base)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	form := url.Values{"CallSid": {"CA0123456789abcdef0123456789abcdef"}, "From": {"+14155550100"}, "To": {"+14155550199"}}
	resp, err := client.Do(send(signed(carrier.Twilio, "file-token", base+"/twilio/voice", form), ""))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
		t.Fatalf("want TLS >= 1.2, got %+v", resp.TLS)
	}
	if els := elements(t, string(body)); !contains(els, "Gather") {
		t.Fatalf("signed https request should get the menu: %s", body)
	}
}
