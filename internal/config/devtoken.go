package config

import (
	"fmt"
	"strings"

	"github.com/ivr-project/ivr/internal/guard"
)

// The development tokens. In local mode (IVR_MODE unset or local), a
// provider whose auth token is not set (NAME nor NAME_FILE, in the
// environment or .env) uses its development token, on the server and in
// the tools (ivr simulate, ivr sign) alike, so a fresh checkout answers its
// own simulated calls. They are public: real calls need the account's
// token, and production mode never uses them.
const (
	DevTwilioToken = "ivr-local-development-twilio-token"
	DevPlivoToken  = "ivr-local-development-plivo-token"
)

// DevTokenNotice is what the server says once at start when a development
// token is in use.
const DevTokenNotice = "local development token; set TWILIO_AUTH_TOKEN (and PLIVO_AUTH_TOKEN) for real calls"

// ProviderToken is provider's (twilio or plivo) auth token as the server
// and the tools read it: NAME or the file NAME_FILE names; in local mode
// without either, the provider's development token (dev is then true).
// Production mode without a token gives "".
func ProviderToken(getenv func(string) string, provider string) (token string, dev bool, err error) {
	var name, devToken string
	switch provider {
	case "twilio":
		name, devToken = "TWILIO_AUTH_TOKEN", DevTwilioToken
	case "plivo":
		name, devToken = "PLIVO_AUTH_TOKEN", DevPlivoToken
	default:
		return "", false, fmt.Errorf("unknown provider %q (want twilio or plivo)", provider)
	}
	token, err = guard.Secret(getenv, name)
	if err != nil || token != "" {
		return token, false, err
	}
	if mode := strings.TrimSpace(getenv("IVR_MODE")); mode == "" || mode == "local" {
		return devToken, true, nil
	}
	return "", false, nil
}

// readTokens reads the providers' auth tokens by ProviderToken's rule (and
// TWILIO_AUTH_TOKEN_SECONDARY as it is).
func (e *variables) readTokens(c *Config) {
	for _, p := range []string{"twilio", "plivo"} {
		token, dev, err := ProviderToken(e.getenv, p)
		if err != nil {
			e.errs = append(e.errs, err)
		}
		if dev {
			c.DevTokens = append(c.DevTokens, p)
		}
		switch {
		case p == "plivo":
			c.PlivoToken = token
		case token != "":
			c.TwilioTokens = append(c.TwilioTokens, token)
		}
	}
	if t := e.secret("TWILIO_AUTH_TOKEN_SECONDARY"); t != "" {
		c.TwilioTokens = append(c.TwilioTokens, t)
	}
}
