package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"

	"github.com/ivr-project/ivr/internal/config"
	"github.com/ivr-project/ivr/internal/ivr"
)

// checkSecrets checks that every {{secret.NAME}} the flow's requests use is
// set (IVR_SECRET_NAME or IVR_SECRET_NAME_FILE), and that a flow with
// callback has the providers' REST credentials: production refuses to start
// without one; local mode warns (those lookups fail, and their on_error
// runs; callbacks are stored but cannot be placed).
func checkSecrets(cfg config.Config, f *ivr.Flow, logger *slog.Logger) error {
	errs := cfg.Secrets.Check(f.Secrets())
	callbacks := flowCallbackProblems(cfg, f)
	if len(errs) == 0 && len(callbacks) == 0 {
		return nil
	}
	if cfg.Production {
		return fmt.Errorf("flow secrets: %w", errors.Join(append(errs, callbacks...)...))
	}
	for _, err := range errs {
		logger.Warn(err.Error() + " (until then its lookups fail and run their on_error)")
	}
	for _, err := range callbacks {
		logger.Warn(err.Error() + " (until then callbacks are stored but cannot be placed)")
	}
	return nil
}

// flowCallbackProblems: what a flow with callback misses to place calls.
func flowCallbackProblems(cfg config.Config, f *ivr.Flow) []error {
	if !f.UsesCallback() {
		return nil
	}
	return cfg.CallbackProblems()
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
