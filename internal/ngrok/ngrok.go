// Package ngrok finds the public URL of a running ngrok agent through its
// local API (http://127.0.0.1:4040/api/tunnels), so that a developer who
// starts ngrok needs no IVR_PUBLIC_URL.
package ngrok

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

type tunnels struct {
	Tunnels []struct {
		PublicURL string `json:"public_url"`
		Proto     string `json:"proto"`
		Config    struct {
			Addr string `json:"addr"`
		} `json:"config"`
	} `json:"tunnels"`
}

// Discover asks the agent at api (e.g. "http://127.0.0.1:4040") for its
// tunnels and returns the https public URL of the one forwarding to port
// (any https tunnel when none names the port).
func Discover(ctx context.Context, client *http.Client, api, port string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(api, "/")+"/api/tunnels", nil)
	if err != nil {
		return "", fmt.Errorf("ngrok agent API %s: %w", api, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("ngrok agent API %s: %w", api, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("ngrok agent API %s: %s", api, resp.Status)
	}
	var t tunnels
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&t); err != nil {
		return "", fmt.Errorf("ngrok agent API %s: %w", api, err)
	}
	var anyHTTPS string
	for _, tu := range t.Tunnels {
		u, err := url.Parse(tu.PublicURL)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			continue
		}
		if anyHTTPS == "" {
			anyHTTPS = tu.PublicURL
		}
		if port != "" && addrPort(tu.Config.Addr) == port {
			return strings.TrimRight(tu.PublicURL, "/"), nil
		}
	}
	if anyHTTPS == "" {
		return "", errors.New("ngrok is running but has no https tunnel: start it with `ngrok http 8080`")
	}
	return strings.TrimRight(anyHTTPS, "/"), nil
}

// addrPort is the port of an ngrok upstream address: "http://localhost:8080",
// "localhost:8080" or "8080".
func addrPort(addr string) string {
	addr = strings.TrimPrefix(strings.TrimPrefix(addr, "http://"), "https://")
	if i := strings.LastIndex(addr, ":"); i >= 0 {
		return addr[i+1:]
	}
	return addr
}
