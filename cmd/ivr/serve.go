package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ivr-project/ivr/internal/auth"
	"github.com/ivr-project/ivr/internal/buildinfo"
	"github.com/ivr-project/ivr/internal/config"
	"github.com/ivr-project/ivr/internal/guard"
	"github.com/ivr-project/ivr/internal/httpobs"
	"github.com/ivr-project/ivr/internal/ivr"
	"github.com/ivr-project/ivr/internal/ngrok"
	"github.com/ivr-project/ivr/internal/publish"
	"github.com/ivr-project/ivr/internal/server"
	"github.com/ivr-project/ivr/internal/store"
	"github.com/ivr-project/ivr/internal/tick"
	"github.com/ivr-project/ivr/internal/webhook"
)

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
	tuneGC()
	svc, err := openServices(ctx, &cfg, logger)
	if err != nil {
		return err
	}
	defer svc.db.Close()

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (set IVR_ADDR to a free address)", cfg.Addr, err)
	}
	port := ""
	if _, p, err := net.SplitHostPort(ln.Addr().String()); err == nil {
		port = p
	}
	live := discoverPublicURL(ctx, &cfg, port, logger)
	build := buildinfo.Read()
	var draining atomic.Bool // set at shutdown: /readyz answers 503
	handler, err := server.New(server.Deps{
		Config: cfg, Logger: logger, Flows: svc.flows, Store: svc.db, Events: svc.events, Failures: svc.failures,
		Nonces: svc.nonces, Metrics: svc.metrics, Publisher: svc.pub, Draining: draining.Load, DemoAPI: demoAPI(cfg, ln.Addr()),
		Build: build, LivePublicURL: live,
	})
	if err != nil {
		ln.Close()
		return err
	}
	web, err := newWebServers(cfg, handler, ln, port, logger)
	if err != nil {
		return err
	}
	drain := newDrainer()
	drain.install(web.srv)
	web.ln = drain.listener(web.ln)
	stopBackground := svc.start(ctx, cfg, logger)
	defer stopBackground()
	if live != nil {
		wctx, stopWatch := context.WithCancel(ctx)
		defer stopWatch()
		go followNgrok(wctx, cfg, port, live, logger)
	}

	local := fmt.Sprintf("%s://%s", web.scheme, displayAddr(web.ln.Addr()))
	logger.Info("ivr starting", "version", build.Version, "revision", build.Revision, "go_version", build.GoVersion)
	fmt.Fprintf(stdout, "ivr listening on %s\n", local)
	printWebhooks(stdout, cfg.PublicURL, local, cfg.Providers, cfg.NgrokAPI != "off")

	errc := web.serve()
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve: %w", err)
		}
	case <-ctx.Done():
	}
	if ctx.Err() != nil && cfg.ShutdownDrain > 0 {
		if err := drainPeriod(cfg.ShutdownDrain, web.srv, &draining, errc, logger); err != nil {
			return err
		}
	}
	draining.Store(true) // with or without a drain: /readyz in flight answers 503
	return shutdown(web, drain, stopBackground, svc, logger)
}

// tuneGC sets Go's GOGC to 400 unless the process environment sets it (the
// runtime reads GOGC from there only). The live heap is a few MiB, so the
// default (100) collects very often under load (~10 % of the CPU in the
// load test); 400 trades a few more MiB of RSS for most of that.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
}

// services are what the server and its background work share: the flow,
// the store and its queues, the nonce store, the metrics and the webhooks.
type services struct {
	flows    *publish.Source
	db       *store.DB
	pub      *publish.Service // the flow revisions, in step with flows
	events   *store.Writer
	failures *store.FailureCounter
	nonces   auth.NonceStore
	metrics  *httpobs.Metrics
	hooks    *webhook.Worker // nil without IVR_WEBHOOK_URL
}

// openServices checks the public URL, loads the flow (filling in the call
// center from it when unset; in store mode the newest published one) and
// opens the store. The caller closes db.
func openServices(ctx context.Context, cfg *config.Config, logger *slog.Logger) (*services, error) {
	if err := (auth.URLResolver{PublicBase: cfg.PublicURL}).Validate(); err != nil {
		return nil, fmt.Errorf("IVR_PUBLIC_URL: %w", err)
	}
	flows, err := publish.NewSource(cfg.FlowPath, logger)
	if err != nil {
		// err names the file already ("load flow PATH: ...").
		return nil, fmt.Errorf("%w (run `ivr check %s`, or `go run ./cmd/ivr check %s` from the source, to see every problem)", err, cfg.FlowPath, cfg.FlowPath)
	}
	for name, tokenSet := range map[string]bool{"twilio": len(cfg.TwilioTokens) > 0, "plivo": cfg.PlivoToken != ""} {
		if cfg.Providers[name] && !tokenSet {
			logger.Warn("no auth token for " + name + ": its routes accept nothing (set " + strings.ToUpper(name) + "_AUTH_TOKEN)")
		}
	}
	if len(cfg.DevTokens) > 0 {
		logger.Warn(config.DevTokenNotice, "providers", strings.Join(cfg.DevTokens, ","))
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("%w (check IVR_DATABASE_URL)", err) // names the store, its password hidden
	}
	s := &services{flows: flows, db: db, events: store.NewWriter(db, 10000, logger), failures: store.NewFailureCounter(db, logger)}
	if s.pub, err = openPublisher(ctx, cfg, flows, db, logger); err != nil {
		db.Close()
		return nil, err
	}
	s.nonces = auth.NewMemoryNonces(100000, 15*time.Minute)
	if db.Driver() == "postgres" {
		s.nonces = db // shared by every instance on this database
	}
	s.metrics = httpobs.NewMetrics(func() float64 { return float64(s.events.Depth()) }, func() float64 { return float64(s.events.Dropped()) })
	if s.hooks, err = newWebhooks(*cfg, db, s.metrics, logger); err != nil {
		db.Close()
		return nil, err
	}
	s.metrics.WatchWriter(func() float64 { return float64(s.events.LostCalls()) }, func() float64 { return float64(s.events.Waits()) })
	return s, nil
}

// openPublisher puts the flow and the store's revisions in step (store
// mode: the newest published flow goes live; file mode: the file is
// recorded), then fills in the call center from the live flow when unset
// and checks the secrets it names.
func openPublisher(ctx context.Context, cfg *config.Config, flows *publish.Source, db *store.DB, logger *slog.Logger) (*publish.Service, error) {
	pub := publish.New(flows, db, logger)
	if cfg.Production { // as at start: a flow whose secrets are not set here is refused
		pub.Validate(func(f *ivr.Flow) []string {
			var msgs []string
			for _, err := range append(cfg.Secrets.Check(f.Secrets()), flowCallbackProblems(*cfg, f)...) {
				msgs = append(msgs, err.Error())
			}
			return msgs
		})
	}
	if err := pub.Sync(ctx); err != nil {
		var ps ivr.Problems
		if !errors.As(err, &ps) {
			return nil, fmt.Errorf("flow revisions: %w", err)
		}
		logger.Error("the newest published flow does not load here; serving the bundled example until a good one is published", "error", err)
	}
	if cfg.CallCenter == "" {
		cfg.CallCenter = flows.Flow().CallCenter()
	}
	if cfg.CallCenter == "" {
		cfg.CallCenter = config.ExampleCallCenter
		logger.Warn("IVR_CALL_CENTER_NUMBER is not set: fallbacks dial the example placeholder " + config.ExampleCallCenter + " (production mode refuses this)")
	}
	if err := checkSecrets(*cfg, flows.Flow(), logger); err != nil {
		return nil, err
	}
	return pub, nil
}

// discoverPublicURL takes the public URL from a local ngrok agent when
// IVR_PUBLIC_URL is unset (never in production). It returns the live public
// base URL the server checks signatures against, which followNgrok keeps up
// to date (nil: IVR_PUBLIC_URL or no ngrok discovery).
func discoverPublicURL(ctx context.Context, cfg *config.Config, port string, logger *slog.Logger) *auth.LiveBase {
	if cfg.PublicURL != "" || cfg.NgrokAPI == "off" || cfg.Production {
		return nil
	}
	live := &auth.LiveBase{}
	dctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	if u, err := ngrok.Discover(dctx, http.DefaultClient, cfg.NgrokAPI, port); err == nil {
		cfg.PublicURL = u
		live.Store(u)
		logger.Info("using the ngrok tunnel as the public URL", slog.String("public_url", u))
	}
	return live
}

// followNgrok asks the ngrok agent every IVR_NGROK_POLL whether its tunnel
// changed (a restarted free tunnel gets a new host) and, if so, checks
// signatures against the new URL from then on and says which webhook URLs
// to paste into the consoles now.
func followNgrok(ctx context.Context, cfg config.Config, port string, live *auth.LiveBase, logger *slog.Logger) {
	ngrok.Watch(ctx, http.DefaultClient, cfg.NgrokAPI, port, live.Load(), cfg.NgrokPoll, func(old, now string) {
		live.Store(now)
		attrs := []any{slog.String("public_url", now), slog.String("was", old)}
		for _, p := range []string{"twilio", "plivo"} {
			if cfg.Providers[p] {
				attrs = append(attrs, slog.String(p+"_voice_url", now+"/"+p+"/voice"))
			}
		}
		logger.Warn("the ngrok tunnel changed: signatures are now checked against its new URL; "+
			"paste the new webhook URLs into the consoles", attrs...)
	})
}

// start runs the background work until the returned stop is called: the
// event writer, the failure counter, folding the insights rollup, the flow watcher and SIGHUP reloads,
// retention, closing stale calls and the webhook deliveries. stop waits for
// the webhook worker; it may be called more than once.
func (s *services) start(ctx context.Context, cfg config.Config, logger *slog.Logger) (stop func()) {
	bgctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	go s.events.Run(bgctx)
	go s.failures.Run(bgctx, failureFlushInterval)
	go s.db.RunInsightsCompaction(bgctx, failureFlushInterval, logger)
	if cfg.FlowPath != "" {
		go s.flows.Watch(bgctx, cfg.FlowWatchInterval)
	}
	go s.pub.Follow(bgctx, cfg.FlowWatchInterval) // other instances' publishes, disk edits recorded
	go refreshSecrets(bgctx, cfg.Secrets, cfg.FlowWatchInterval)
	s.flows.OnReload(func(err error) {
		cfg.Secrets.Refresh() // a SIGHUP or a flow edit also picks up rotated secret files
		if err != nil {
			s.metrics.Reloads.WithLabelValues("error").Inc()
			return
		}
		s.metrics.Reloads.WithLabelValues("ok").Inc()
		// As at start: a secret the new flow needs and this environment
		// lacks makes its lookups fail; say so now, not at the first call.
		for _, err := range cfg.Secrets.Check(s.flows.Flow().Secrets()) {
			logger.Warn(err.Error()+" (until then its lookups fail and run their on_error)", "event", "flow reloaded")
		}
	})
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go reloadOnHUP(bgctx, hup, s.flows)
	if cfg.RetentionDays > 0 {
		go retain(bgctx, s.db, cfg.RetentionDays, logger)
	}
	go closeStaleCalls(bgctx, s.db, cfg.CallCloseAfter, logger)
	hooksDone := make(chan struct{})
	go func() {
		defer close(hooksDone)
		if s.hooks != nil {
			s.hooks.Run(bgctx) // an attempt cut short at shutdown is sent again later
		}
	}()
	return func() {
		signal.Stop(hup)
		cancel()
		<-hooksDone
	}
}

// webServers are the HTTP(S) server and, with TLS and IVR_HTTP_REDIRECT_ADDR,
// the plain-HTTP server that redirects to it (or answers ACME challenges).
type webServers struct {
	srv      *http.Server
	redirect *http.Server // nil without one
	ln       net.Listener // TLS-wrapped when serving TLS
	scheme   string
}

func newWebServers(cfg config.Config, handler http.Handler, ln net.Listener, port string, logger *slog.Logger) (*webServers, error) {
	web := &webServers{
		srv: &http.Server{
			Handler:           handler,
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       10 * time.Second,
			WriteTimeout:      20 * time.Second,
			IdleTimeout:       120 * time.Second,
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		},
		ln: ln, scheme: "http",
	}
	if cfg.TLSCertFile == "" && len(cfg.AutocertHosts) == 0 {
		return web, nil
	}
	tlsCfg, challenge, err := guard.NewTLS(guard.TLSConfig{
		CertFile: cfg.TLSCertFile, KeyFile: cfg.TLSKeyFile,
		AutocertHosts: cfg.AutocertHosts, AutocertCacheDir: cfg.AutocertCacheDir,
	}, logger)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("tls: %w", err)
	}
	web.srv.TLSConfig = tlsCfg
	web.ln = tls.NewListener(ln, tlsCfg)
	web.scheme = "https"
	if cfg.HTTPRedirectAddr != "" {
		h := challenge
		if h == nil {
			h = guard.RedirectHTTPS(port)
		}
		web.redirect = &http.Server{Addr: cfg.HTTPRedirectAddr, Handler: h, ReadHeaderTimeout: 5 * time.Second}
	}
	return web, nil
}

// serve starts the servers; their errors arrive on the returned channel.
func (web *webServers) serve() chan error {
	errc := make(chan error, 2)
	web.ln = &closeOnceListener{Listener: web.ln}
	go func() { errc <- web.srv.Serve(web.ln) }()
	if web.redirect != nil {
		go func() { errc <- web.redirect.ListenAndServe() }()
	}
	return errc
}

// shutdown stops accepting, lets the requests in flight finish, stops the
// background work and flushes the counts and the call events.
func shutdown(web *webServers, drain *drainer, stopBackground func(), svc *services, logger *slog.Logger) error {
	logger.Info("shutting down: finishing requests in flight")
	sctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	web.ln.Close() // stop accepting; requests already accepted reach their handlers first
	drain.wait(sctx, web.srv.ReadHeaderTimeout)
	shutdownErr := web.srv.Shutdown(sctx)
	if web.redirect != nil {
		web.redirect.Shutdown(sctx)
	}
	stopBackground()
	if err := svc.failures.Flush(sctx); err != nil {
		logger.Error("fallback and refusal counts not stored", slog.String("error", err.Error()))
	}
	if err := svc.events.Flush(sctx); err != nil {
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

// refreshSecrets re-reads the flow's secrets (IVR_SECRET_NAME_FILE may be
// rotated) as often as the flow file is looked at.
func refreshSecrets(ctx context.Context, secrets *config.Secrets, every time.Duration) {
	if every <= 0 {
		return
	}
	tick.Every(ctx, every, secrets.Refresh)
}

// reloadOnHUP re-reads the flow file on SIGHUP (Reload logs and counts the result).
func reloadOnHUP(ctx context.Context, hup <-chan os.Signal, flows *publish.Source) {
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
	deleteOld := func() {
		n, err := db.DeleteOlderThan(ctx, time.Now().AddDate(0, 0, -days))
		if err != nil {
			logger.Error("retention", slog.String("error", err.Error()))
		} else if n > 0 {
			logger.Info("retention: deleted old records", slog.Int64("rows", n), slog.Int("days", days))
		}
	}
	deleteOld()
	tick.Every(ctx, time.Hour, deleteOld)
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
// ngrok says whether an ngrok agent was looked for (IVR_NGROK_API not off).
func printWebhooks(w io.Writer, public, local string, providers map[string]bool, ngrok bool) {
	base := strings.TrimRight(public, "/")
	if base == "" {
		base = local
		why := "IVR_PUBLIC_URL is not set"
		if ngrok {
			why += " and no ngrok agent was found"
		}
		fmt.Fprintln(w, why+": signatures are checked against the URL each request arrives on.")
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
