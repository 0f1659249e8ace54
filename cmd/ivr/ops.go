package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/ivr-project/ivr/internal/buildinfo"
	"github.com/ivr-project/ivr/internal/config"
)

// version prints which build this is: `ivr version` and `ivr --version`.
func version(args []string, stdout io.Writer) error {
	if len(args) > 0 {
		return fmt.Errorf("version takes no arguments (got %q)", args)
	}
	fmt.Fprint(stdout, buildinfo.Read())
	return nil
}

// healthcheck asks the server on IVR_ADDR (or the URL given) for /healthz and
// fails unless it answers 200 with status ok. It is the container image's
// HEALTHCHECK: a scratch image has no curl.
func healthcheck(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) > 1 {
		return fmt.Errorf("healthcheck takes at most one argument, the /healthz URL (got %q)", args)
	}
	target := ""
	if len(args) == 1 {
		target = args[0]
	} else {
		var err error
		if target, err = localHealthz(getenv); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("healthcheck %s: %w", target, err)
	}
	// The server's own certificate is for its public name, not for the
	// loopback address asked here; this only checks that it answers.
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w (is ivr serve running on that address?)", err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&body); resp.StatusCode != http.StatusOK || err != nil || body.Status != "ok" {
		return fmt.Errorf("healthcheck %s: status %d, %q (%v)", target, resp.StatusCode, body.Status, err)
	}
	fmt.Fprintln(stdout, "ok", target)
	return nil
}

// localHealthz is the /healthz URL of a server listening on IVR_ADDR on this
// host: a wildcard host means loopback; https when ivr serves TLS itself.
func localHealthz(getenv func(string) string) (string, error) {
	addr := getenv("IVR_ADDR")
	if addr == "" {
		addr = config.DefaultAddr
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("healthcheck: IVR_ADDR %q: %w (want host:port, e.g. :8080)", addr, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	scheme := "http"
	if getenv("IVR_TLS_CERT_FILE") != "" || getenv("IVR_TLS_AUTOCERT_HOSTS") != "" {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port) + "/healthz", nil
}
