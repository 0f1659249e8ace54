package simulate

import (
	"fmt"
	"net"
	"strings"

	"github.com/ivr-project/ivr/internal/carrier"
	"github.com/ivr-project/ivr/internal/config"
	"github.com/ivr-project/ivr/internal/guard"
)

// secret is the server's rule for secrets: NAME, or the file named by
// NAME_FILE, never both ("" when neither is set).
func secret(getenv func(string) string, name string) (string, error) {
	return guard.Secret(getenv, name)
}

// newSigner builds the signer for provider from the server's environment,
// its token by the server's rule (config.ProviderToken: in local mode
// without one, the development token the server uses too).
func newSigner(getenv func(string) string, provider string) (carrier.Signer, error) {
	s := carrier.Signer{Provider: provider}
	token, _, err := config.ProviderToken(getenv, provider)
	if err != nil {
		return s, err
	}
	if provider == "plivo" {
		if s.Master, err = secret(getenv, "PLIVO_MASTER_AUTH_TOKEN"); err != nil {
			return s, err
		}
	}
	if token == "" {
		name := strings.ToUpper(provider) + "_AUTH_TOKEN"
		return s, fmt.Errorf("%s is not set (nor %s_FILE): it must be the token the server checks "+
			"(IVR_MODE is not local, so no development token is used); or play a call in the browser at /admin/try, which needs no token", name, name)
	}
	s.Token = token
	return s, nil
}

// baseURL is where the server is reached: IVR_PUBLIC_URL when set (that is
// the URL the server checks signatures against), else localhost on the
// port of IVR_ADDR (default config.DefaultAddr).
func baseURL(getenv func(string) string) string {
	if u := strings.TrimRight(getenv("IVR_PUBLIC_URL"), "/"); u != "" {
		return u
	}
	host := "localhost"
	_, port, _ := net.SplitHostPort(config.DefaultAddr)
	if addr := getenv("IVR_ADDR"); addr != "" {
		if h, p, err := net.SplitHostPort(addr); err == nil && p != "" {
			port = p
			if h != "" && h != "0.0.0.0" && h != "::" {
				host = h
			}
		}
	}
	return "http://" + net.JoinHostPort(host, port)
}

// voiceURL is the provider's default answer URL.
func voiceURL(getenv func(string) string, provider string) string {
	return baseURL(getenv) + "/" + provider + "/voice"
}
