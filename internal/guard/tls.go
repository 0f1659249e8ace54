package guard

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// reloadEvery is how often, at most, the certificate files are checked for a
// change. A check is two stat calls, done inside a TLS handshake.
const reloadEvery = 5 * time.Second

// TLSConfig says how the binary serves TLS itself: either CertFile and KeyFile
// (PEM files, reloaded when they change), or AutocertHosts (certificates from
// Let's Encrypt through ACME, cached in AutocertCacheDir). All empty means no
// TLS.
type TLSConfig struct {
	CertFile, KeyFile string
	AutocertHosts     []string
	AutocertCacheDir  string
	AutocertEmail     string // optional contact for the ACME account
}

// Enabled reports whether cfg asks for TLS at all.
func (cfg TLSConfig) Enabled() bool {
	return cfg.CertFile != "" || cfg.KeyFile != "" || len(cfg.AutocertHosts) > 0
}

// NewTLS builds the server's *tls.Config from cfg. It returns (nil, nil, nil)
// when cfg does not enable TLS.
//
// With CertFile and KeyFile, the pair is loaded now (an error if it is bad)
// and re-read when either file's modification time or size changes, checked
// at most every few seconds during handshakes; a pair that fails to load is
// logged and the last good certificate stays in use. The returned handler is
// nil: serve [RedirectHTTPS] on port 80 if plain HTTP should be redirected.
//
// With AutocertHosts, certificates come from Let's Encrypt for exactly those
// host names (no wildcards, no ports), cached in AutocertCacheDir, which is
// required so a restart does not re-issue them. The returned handler must be
// served on port 80: it answers ACME http-01 challenges and redirects
// everything else to https. The tls-alpn-01 challenge on port 443 works too.
//
// The configuration allows TLS 1.2 and 1.3 only, with forward-secret AEAD
// cipher suites, the key exchanges X25519MLKEM768, X25519 and P-256, and
// offers HTTP/2 and HTTP/1.1.
func NewTLS(cfg TLSConfig, logger *slog.Logger) (*tls.Config, http.Handler, error) {
	return newTLS(cfg, logger, time.Now)
}

func newTLS(cfg TLSConfig, logger *slog.Logger, now func() time.Time) (*tls.Config, http.Handler, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if !cfg.Enabled() {
		return nil, nil, nil
	}
	files := cfg.CertFile != "" || cfg.KeyFile != ""
	if files && len(cfg.AutocertHosts) > 0 {
		return nil, nil, errors.New("tls: set a certificate and key file, or autocert hosts, not both")
	}
	if files {
		if cfg.CertFile == "" || cfg.KeyFile == "" {
			return nil, nil, errors.New("tls: the certificate file and the key file go together; set both")
		}
		rl, err := newCertReloader(cfg.CertFile, cfg.KeyFile, logger, now)
		if err != nil {
			return nil, nil, err
		}
		c := baseTLSConfig()
		c.GetCertificate = rl.GetCertificate
		return c, nil, nil
	}

	hosts := make([]string, 0, len(cfg.AutocertHosts))
	for _, h := range cfg.AutocertHosts {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		if strings.ContainsAny(h, "/:*@ ") {
			return nil, nil, fmt.Errorf("tls: autocert host %q: write a bare host name like ivr.example.com (no scheme, port, path or wildcard)", h)
		}
		hosts = append(hosts, strings.ToLower(strings.TrimSuffix(h, ".")))
	}
	if len(hosts) == 0 {
		return nil, nil, errors.New("tls: autocert needs at least one host name")
	}
	if cfg.AutocertCacheDir == "" {
		return nil, nil, errors.New("tls: autocert needs a cache directory, or every restart would request new certificates and run into Let's Encrypt's rate limits")
	}
	if err := os.MkdirAll(cfg.AutocertCacheDir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("tls: autocert cache directory: %w", err)
	}
	m := &autocert.Manager{
		Prompt:     autocert.AcceptTOS,
		HostPolicy: autocert.HostWhitelist(hosts...),
		Cache:      autocert.DirCache(cfg.AutocertCacheDir),
		Email:      cfg.AutocertEmail,
	}
	c := baseTLSConfig()
	c.GetCertificate = m.GetCertificate
	c.NextProtos = append(c.NextProtos, acme.ALPNProto)
	logger.Info("tls: automatic certificates", "hosts", strings.Join(hosts, ","), "cache", cfg.AutocertCacheDir)
	return c, m.HTTPHandler(RedirectHTTPS("")), nil
}

// baseTLSConfig is the modern server configuration shared by both modes.
func baseTLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		CurvePreferences: []tls.CurveID{
			tls.X25519MLKEM768, // post-quantum hybrid, TLS 1.3 only; clients without it use the next
			tls.X25519,
			tls.CurveP256,
		},
		// TLS 1.2 only (TLS 1.3 suites are not configurable and all fine):
		// ECDHE for forward secrecy, AEAD only. No CBC, RC4, 3DES or static RSA.
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
			tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
		NextProtos: []string{"h2", "http/1.1"},
	}
}

// certReloader serves a certificate and key from files and re-reads them when
// they change. GetCertificate checks the files' modification time and size at
// most every reloadEvery; on a change it loads the pair, and if that fails it
// logs the error, keeps serving the last good certificate and tries again at
// the next check.
type certReloader struct {
	certFile, keyFile string
	logger            *slog.Logger
	now               func() time.Time
	every             time.Duration

	cert atomic.Pointer[tls.Certificate]

	mu      sync.Mutex // guards the fields below and serializes reloads
	checked time.Time  // last time the files were looked at
	loaded  fileStamp  // stamp of the pair in cert
	failed  string     // the last failure logged, to log each failure once
}

// fileStamp identifies one version of the certificate and key files.
type fileStamp struct {
	certMod, keyMod   time.Time
	certSize, keySize int64
}

func newCertReloader(certFile, keyFile string, logger *slog.Logger, now func() time.Time) (*certReloader, error) {
	rl := &certReloader{certFile: certFile, keyFile: keyFile, logger: logger, now: now, every: reloadEvery}
	stamp, err := rl.stat()
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	if err := rl.load(stamp); err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	rl.checked = now()
	return rl, nil
}

// GetCertificate is the tls.Config hook.
func (rl *certReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	rl.maybeReload()
	return rl.cert.Load(), nil
}

func (rl *certReloader) maybeReload() {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	now := rl.now()
	if now.Sub(rl.checked) < rl.every && !now.Before(rl.checked) {
		return
	}
	rl.checked = now
	stamp, err := rl.stat()
	if err != nil {
		rl.logFailure(stamp, err)
		return
	}
	if stamp == rl.loaded {
		return
	}
	if err := rl.load(stamp); err != nil {
		rl.logFailure(stamp, err)
		return
	}
	rl.failed = ""
	args := []any{"cert_file", rl.certFile}
	if leaf := rl.cert.Load().Leaf; leaf != nil {
		args = append(args, "not_after", leaf.NotAfter)
	}
	rl.logger.Info("tls: certificate reloaded", args...)
}

// logFailure logs a failed check or reload once per version of the files and
// error, so a broken pair does not log at every check.
func (rl *certReloader) logFailure(stamp fileStamp, err error) {
	key := fmt.Sprintf("%v|%v|%d|%d|%v", stamp.certMod, stamp.keyMod, stamp.certSize, stamp.keySize, err)
	if key == rl.failed {
		return
	}
	rl.failed = key
	rl.logger.Error("tls: certificate reload failed; still serving the previous certificate",
		"cert_file", rl.certFile, "key_file", rl.keyFile, "error", err)
}

func (rl *certReloader) stat() (fileStamp, error) {
	ci, err := os.Stat(rl.certFile)
	if err != nil {
		return fileStamp{}, fmt.Errorf("certificate file: %w", err)
	}
	ki, err := os.Stat(rl.keyFile)
	if err != nil {
		return fileStamp{}, fmt.Errorf("key file: %w", err)
	}
	return fileStamp{certMod: ci.ModTime(), keyMod: ki.ModTime(), certSize: ci.Size(), keySize: ki.Size()}, nil
}

// load reads the pair; on success it becomes the served certificate.
func (rl *certReloader) load(stamp fileStamp) error {
	cert, err := tls.LoadX509KeyPair(rl.certFile, rl.keyFile)
	if err != nil {
		// LoadX509KeyPair's errors name no file and never include key material.
		return fmt.Errorf("load certificate %s and key %s: %w", rl.certFile, rl.keyFile, err)
	}
	// Leaf is filled in by LoadX509KeyPair since Go 1.23.
	if cert.Leaf != nil && rl.now().After(cert.Leaf.NotAfter) {
		rl.logger.Warn("tls: certificate has expired", "cert_file", rl.certFile, "not_after", cert.Leaf.NotAfter)
	}
	rl.cert.Store(&cert)
	rl.loaded = stamp
	return nil
}

// RedirectHTTPS returns a handler for plain HTTP that sends every request to
// the same host, path and query over https: 301 Moved Permanently for GET and
// HEAD, 308 Permanent Redirect for other methods (so a POST stays a POST with
// its body). httpsPort "" or "443" leaves the port out of the new URL; any
// other value is added (":8443" and "8443" both work). A request without a
// Host gets 400.
func RedirectHTTPS(httpsPort string) http.Handler {
	port := strings.TrimPrefix(httpsPort, ":")
	if port == "443" {
		port = ""
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
		switch {
		case host == "":
			http.Error(w, "missing Host", http.StatusBadRequest)
			return
		case port != "":
			host = net.JoinHostPort(host, port)
		case strings.Contains(host, ":"):
			host = "[" + host + "]"
		}
		code := http.StatusPermanentRedirect
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			code = http.StatusMovedPermanently
		}
		http.Redirect(w, r, "https://"+host+r.URL.RequestURI(), code)
	})
}
