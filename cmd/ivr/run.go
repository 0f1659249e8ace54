package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ivr-project/ivr/internal/auth"
	"github.com/ivr-project/ivr/internal/buildinfo"
	"github.com/ivr-project/ivr/internal/config"
	"github.com/ivr-project/ivr/internal/guard"
	"github.com/ivr-project/ivr/internal/ivr"
	"github.com/ivr-project/ivr/internal/ngrok"
	"github.com/ivr-project/ivr/internal/seal"
	"github.com/ivr-project/ivr/internal/server"
	"github.com/ivr-project/ivr/internal/simulate"
	"github.com/ivr-project/ivr/internal/store"
)

const usage = `usage: ivr [command]

  ivr [serve]                 serve the webhooks, the admin UI, /healthz, /readyz and /metrics
  ivr check [FLOW]            validate a flow file (default: IVR_FLOW or the bundled example)
  ivr simulate [flags]        play a call through a running server (ivr simulate -h)
  ivr sign [flags] URL [k=v]  print a curl command with a valid signature (ivr sign -h)
  ivr version                 print the version, VCS revision and time, and Go version (also --version)
  ivr healthcheck [URL]       exit 0 when the server on IVR_ADDR (or URL) answers /healthz

Configuration comes from the environment and a .env file; see README.md.
`

// run is the whole program: main only calls it, and tests call it with their
// own arguments, environment and output.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	dotenv, err := config.ReadDotenv(".env")
	if err != nil {
		return err
	}
	getenv = config.Getenv(getenv, dotenv)
	cmd, rest := "serve", []string(nil)
	if len(args) > 1 {
		cmd, rest = args[1], args[2:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, rest, getenv, stdout, stderr)
	case "check":
		return check(rest, getenv, stdout)
	case "simulate":
		return helpIsNoError(simulate.Simulate(ctx, rest, getenv, os.Stdin, stdout, stderr))
	case "sign":
		return helpIsNoError(simulate.Sign(rest, getenv, stdout, stderr))
	case "version", "--version", "-version":
		return version(rest, stdout)
	case "healthcheck":
		return healthcheck(ctx, rest, getenv, stdout)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

// helpIsNoError makes `-h` exit 0.
func helpIsNoError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

// check validates a flow file and prints every problem as file:line:col: message.
func check(args []string, getenv func(string) string, stdout io.Writer) error {
	path := getenv("IVR_FLOW")
	if len(args) > 0 {
		path = args[0]
	}
	var err error
	if path == "" {
		path = "example.yaml (bundled)"
		_, err = ivr.Parse(path, ivr.Example())
	} else {
		_, err = ivr.Load(path)
	}
	var problems ivr.Problems
	if errors.As(err, &problems) {
		for _, p := range problems {
			fmt.Fprintln(stdout, p.String())
		}
		return fmt.Errorf("%s: %d problem(s)", path, len(problems))
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: ok\n", path)
	return nil
}

// stateSealer seals the call's variables with IVR_STATE_KEY, or in local
// mode without one, with a key made for this process.
func stateSealer(cfg config.Config, logger *slog.Logger) (*seal.Box, error) {
	if cfg.StateKey != nil {
		return seal.New(cfg.StateKey)
	}
	logger.Info("IVR_STATE_KEY is not set: call state is sealed with a key made for this process " +
		"(calls in progress do not survive a restart or move to another instance; production mode requires the key)")
	return seal.NewRandom()
}

// demoAPI is the base URL at which this process's own demo API answers
// the flow's lookups ({{demo_api}}): the address it listens on (the
// loopback when it listens on every address). Production serves no demo.
func demoAPI(cfg config.Config, addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if cfg.Production || !ok {
		return ""
	}
	ip := tcp.IP
	if ip == nil || ip.IsUnspecified() { // listening on every address: the loopback is one
		ip = net.IPv4(127, 0, 0, 1)
	}
	scheme := "http"
	if cfg.TLSCertFile != "" || len(cfg.AutocertHosts) > 0 {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(ip.String(), strconv.Itoa(tcp.Port)) + "/demo"
}

func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// serve runs the server until ctx is done, then shuts down gracefully:
// in-flight requests finish and pending call events are flushed.
func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		return fmt.Errorf("serve takes no arguments (got %q): configure it with environment variables", args)
	}
	cfg, err := config.Load(getenv)
	logger := newLogger(cfg.LogFormat, stderr)
	if err != nil {
		return err
	}
	if os.Getenv("GOGC") == "" { // the runtime reads GOGC from the process environment only
		// The live heap is a few MiB, so Go's default (GOGC=100) collects
		// very often under load (~10 % of the CPU in the load test). 400
		// trades a few more MiB of RSS for most of that. GOGC wins when set.
		debug.SetGCPercent(400)
	}

	if err := (auth.URLResolver{PublicBase: cfg.PublicURL}).Validate(); err != nil {
		return fmt.Errorf("IVR_PUBLIC_URL: %w", err)
	}
	flows, err := ivr.NewSource(cfg.FlowPath, logger)
	if err != nil {
		return fmt.Errorf("load flow: %w (run `ivr check %s` to see every problem)", err, cfg.FlowPath)
	}
	if cfg.CallCenter == "" {
		cfg.CallCenter = flows.Flow().CallCenter()
	}
	if cfg.CallCenter == "" {
		cfg.CallCenter = config.ExampleCallCenter
		logger.Warn("IVR_CALL_CENTER_NUMBER is not set: fallbacks dial the example placeholder " + config.ExampleCallCenter + " (production mode refuses this)")
	}
	for name, tokenSet := range map[string]bool{"twilio": len(cfg.TwilioTokens) > 0, "plivo": cfg.PlivoToken != ""} {
		if cfg.Providers[name] && !tokenSet {
			logger.Warn("no auth token for " + name + ": its routes accept nothing (set " + strings.ToUpper(name) + "_AUTH_TOKEN)")
		}
	}

	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("%w (check IVR_DATABASE_URL)", err) // names the store, its password hidden
	}
	defer db.Close()
	events := store.NewWriter(db, 10000, logger)
	hooks, err := newWebhooks(cfg, db, logger)
	if err != nil {
		return err
	}
	failures := store.NewFailureCounter(db, logger)
	var nonces auth.NonceStore = auth.NewMemoryNonces(100000, 15*time.Minute)
	if db.Driver() == "postgres" {
		nonces = db // shared by every instance on this database
	}
	metrics := server.NewMetrics(func() float64 { return float64(events.Depth()) }, func() float64 { return float64(events.Dropped()) })
	metrics.CountLostCalls(func() float64 { return float64(events.LostCalls()) })

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (set IVR_ADDR to a free address)", cfg.Addr, err)
	}
	port := ""
	if _, p, err := net.SplitHostPort(ln.Addr().String()); err == nil {
		port = p
	}
	if cfg.PublicURL == "" && cfg.NgrokAPI != "off" && !cfg.Production {
		dctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		if u, err := ngrok.Discover(dctx, http.DefaultClient, cfg.NgrokAPI, port); err == nil {
			cfg.PublicURL = u
			logger.Info("using the ngrok tunnel as the public URL", slog.String("public_url", u))
		}
		cancel()
	}

	sealer, err := stateSealer(cfg, logger)
	if err != nil {
		return err
	}
	build := buildinfo.Read()
	var draining atomic.Bool // set at shutdown: /readyz answers 503
	handler, err := server.New(server.Deps{
		Config: cfg, Logger: logger, Flows: flows, Store: db, Events: events, Failures: failures, Nonces: nonces, Metrics: metrics,
		Draining: draining.Load, Sealer: sealer, DemoAPI: demoAPI(cfg, ln.Addr()),
		Build: build,
	})
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      20 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	scheme := "http"
	var redirect *http.Server
	if cfg.TLSCertFile != "" || len(cfg.AutocertHosts) > 0 {
		tlsCfg, challenge, err := guard.NewTLS(guard.TLSConfig{
			CertFile: cfg.TLSCertFile, KeyFile: cfg.TLSKeyFile,
			AutocertHosts: cfg.AutocertHosts, AutocertCacheDir: cfg.AutocertCacheDir,
		}, logger)
		if err != nil {
			ln.Close()
			return fmt.Errorf("tls: %w", err)
		}
		srv.TLSConfig = tlsCfg
		ln = tls.NewListener(ln, tlsCfg)
		scheme = "https"
		if cfg.HTTPRedirectAddr != "" {
			h := challenge
			if h == nil {
				h = guard.RedirectHTTPS(port)
			}
			redirect = &http.Server{Addr: cfg.HTTPRedirectAddr, Handler: h, ReadHeaderTimeout: 5 * time.Second}
		}
	}

	drain := newDrainer()
	drain.install(srv)

	bgctx, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBackground()
	go events.Run(bgctx)
	go failures.Run(bgctx, failureFlushInterval)
	if cfg.FlowPath != "" {
		go flows.Watch(bgctx, cfg.FlowWatchInterval)
	}
	flows.OnReload(func(err error) {
		if err != nil {
			metrics.Reloads.WithLabelValues("error").Inc()
			return
		}
		metrics.Reloads.WithLabelValues("ok").Inc()
	})
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go reloadOnHUP(bgctx, hup, flows)
	if cfg.RetentionDays > 0 {
		go retain(bgctx, db, cfg.RetentionDays, logger)
	}
	go closeStaleCalls(bgctx, db, cfg.CallCloseAfter, logger)
	hooksDone := make(chan struct{})
	go func() {
		defer close(hooksDone)
		if hooks != nil {
			hooks.Run(bgctx) // an attempt cut short at shutdown is sent again later
		}
	}()

	local := fmt.Sprintf("%s://%s", scheme, displayAddr(ln.Addr()))
	logger.Info("ivr starting", "version", build.Version, "revision", build.Revision, "go_version", build.GoVersion)
	fmt.Fprintf(stdout, "ivr listening on %s\n", local)
	printWebhooks(stdout, cfg.PublicURL, local, cfg.Providers)

	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	if redirect != nil {
		go func() { errc <- redirect.ListenAndServe() }()
	}
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve: %w", err)
		}
	case <-ctx.Done():
	}

	if ctx.Err() != nil && cfg.ShutdownDrain > 0 {
		if err := drainPeriod(cfg.ShutdownDrain, srv, &draining, errc, logger); err != nil {
			return err
		}
	}
	draining.Store(true) // with or without a drain: /readyz in flight answers 503
	logger.Info("shutting down: finishing requests in flight")
	sctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	ln.Close() // stop accepting; requests already accepted reach their handlers first
	drain.wait(sctx, srv.ReadHeaderTimeout)
	shutdownErr := srv.Shutdown(sctx)
	if redirect != nil {
		redirect.Shutdown(sctx)
	}
	stopBackground()
	<-hooksDone
	if err := failures.Flush(sctx); err != nil {
		logger.Error("fallback and refusal counts not stored", slog.String("error", err.Error()))
	}
	if err := events.Flush(sctx); err != nil {
		logger.Error("call events not flushed", slog.String("error", err.Error()))
		return fmt.Errorf("flush call events: %w", err)
	}
	if shutdownErr != nil {
		return fmt.Errorf("shutdown: %w", shutdownErr)
	}
	logger.Info("stopped")
	return nil
}

// failureFlushInterval is how often the fallback and refusal counts of
// this instance are added to the store.
const failureFlushInterval = 10 * time.Second

// reloadOnHUP re-reads the flow file on SIGHUP (Reload logs and counts the result).
func reloadOnHUP(ctx context.Context, hup <-chan os.Signal, flows *ivr.Source) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			flows.Reload()
		}
	}
}

// retain deletes records older than days, once an hour.
func retain(ctx context.Context, db *store.DB, days int, logger *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		n, err := db.DeleteOlderThan(ctx, time.Now().AddDate(0, 0, -days))
		if err != nil {
			logger.Error("retention", slog.String("error", err.Error()))
		} else if n > 0 {
			logger.Info("retention: deleted old records", slog.Int64("rows", n), slog.Int("days", days))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func displayAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if host == "::" || host == "0.0.0.0" || host == "" {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// printWebhooks prints the exact URLs to paste into the providers' consoles,
// for the providers IVR_PROVIDERS enables, never with a doubled slash.
func printWebhooks(w io.Writer, public, local string, providers map[string]bool) {
	base := strings.TrimRight(public, "/")
	if base == "" {
		base = local
		fmt.Fprintln(w, "IVR_PUBLIC_URL is not set and no ngrok agent was found: signatures are checked against the URL each request arrives on.")
	}
	fmt.Fprintln(w, "Webhook URLs (paste into the consoles):")
	if providers["twilio"] {
		fmt.Fprintf(w, `  Twilio  A call comes in:        %[1]s/twilio/voice   (HTTP POST)
          Call status changes:    %[1]s/twilio/status
          A message comes in:     %[1]s/twilio/message
`, base)
	}
	if providers["plivo"] {
		fmt.Fprintf(w, `  Plivo   Answer URL:             %[1]s/plivo/voice    (POST)
          Hangup URL:             %[1]s/plivo/hangup
          Message URL:            %[1]s/plivo/message
`, base)
	}
	if len(providers) == 0 {
		fmt.Fprintln(w, "  (none: IVR_PROVIDERS enables no provider)")
	}
	fmt.Fprintf(w, "  Admin UI:                       %s/admin/\n", local)
}
