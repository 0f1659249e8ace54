// Package config reads the server's settings from the environment (and a
// .env file, which the real environment overrides). Every variable is listed
// in .env.example with a comment; the README names the public ones.
package config

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/joho/godotenv"

	"github.com/ivr-project/ivr/internal/guard"
	"github.com/ivr-project/ivr/internal/seal"
)

// ExampleCallCenter is the placeholder number of the bundled example flow
// (Twilio's magic test number). Production mode refuses it.
const ExampleCallCenter = "+15005550006"

// DefaultAddr is where the server listens without IVR_ADDR.
const DefaultAddr = ":8080"

// Config is every setting of `ivr serve`.
type Config struct {
	Production bool   // IVR_MODE=production: refuse unsafe settings at start
	Addr       string // IVR_ADDR
	PublicURL  string // IVR_PUBLIC_URL ("" = derive from the request, or ngrok's agent)
	TrustProxy bool   // IVR_TRUST_PROXY_HEADERS
	FlowPath   string // IVR_FLOW ("" = the bundled example)
	LogFormat  string // IVR_LOG_FORMAT: "json" | "text"

	CallCenter       string // IVR_CALL_CENTER_NUMBER
	FallbackText     string // IVR_FALLBACK_TEXT
	FallbackVoice    string // IVR_FALLBACK_VOICE
	FallbackLanguage string // IVR_FALLBACK_LANGUAGE
	VoiceDeadline    time.Duration

	DatabaseURL   string // IVR_DATABASE_URL
	RetentionDays int    // IVR_RETENTION_DAYS (0 = keep forever)
	// CallCloseAfter: a call still without a final status this long after
	// it started is closed with status "unknown" (IVR_CALL_CLOSE_AFTER).
	CallCloseAfter time.Duration

	// Outbound event webhooks: off while WebhookURL is empty.
	WebhookURL     string        // IVR_WEBHOOK_URL
	WebhookSecret  string        // IVR_WEBHOOK_SECRET: whsec_<base64>, checked by the webhook package
	WebhookTimeout time.Duration // IVR_WEBHOOK_TIMEOUT: one delivery attempt

	AdminToken string // IVR_ADMIN_TOKEN

	TwilioTokens     []string // TWILIO_AUTH_TOKEN, TWILIO_AUTH_TOKEN_SECONDARY
	PlivoToken       string   // PLIVO_AUTH_TOKEN
	DevTokens        []string // providers using their development token (local mode, token unset): see ProviderToken
	PlivoMasterToken string   // PLIVO_MASTER_AUTH_TOKEN

	// Outbound calls (callbacks) through the providers' REST APIs.
	TwilioAccountSID string // TWILIO_ACCOUNT_SID
	PlivoAuthID      string // PLIVO_AUTH_ID
	TwilioAPIURL     string // IVR_TWILIO_API_URL (default https://api.twilio.com)
	PlivoAPIURL      string // IVR_PLIVO_API_URL (default https://api.plivo.com)
	CallbackFrom     string // IVR_CALLBACK_FROM: caller ID of callbacks ("" = the number the caller called)

	// Defense in depth.
	TLSCertFile       string
	TLSKeyFile        string
	AutocertHosts     []string
	AutocertCacheDir  string
	HTTPRedirectAddr  string
	TwilioAllow       []netip.Prefix
	PlivoAllow        []netip.Prefix
	TrustedProxies    []netip.Prefix
	TwilioBasicUser   string
	TwilioBasicPass   string
	PlivoBasicUser    string
	PlivoBasicPass    string
	Providers         map[string]bool // IVR_PROVIDERS: which providers' routes are enabled (default twilio,plivo)
	NgrokAPI          string          // IVR_NGROK_API (default http://127.0.0.1:4040), "off" to disable
	NgrokPoll         time.Duration   // IVR_NGROK_POLL: how often the agent is asked whether its tunnel changed
	FlowWatchInterval time.Duration
	// StateKey seals the call's variables into the action URLs
	// (IVR_STATE_KEY, 32 bytes as hex or base64); nil = a per-process
	// random key (local mode only).
	StateKey []byte
	// Secrets answers {{secret.NAME}} in a flow's requests from
	// IVR_SECRET_<NAME> or IVR_SECRET_<NAME>_FILE.
	Secrets *Secrets
	// ShutdownDrain is how long, after SIGTERM/SIGINT, /readyz answers 503
	// while requests are still served, so a load balancer takes the instance
	// out of rotation before it stops accepting (IVR_SHUTDOWN_DRAIN).
	ShutdownDrain time.Duration
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

// ValidE164 reports whether n is an E.164 number such as +14155550100.
func ValidE164(n string) bool { return e164.MatchString(n) }

// ReadDotenv loads the variables of the .env file at path into a map (the
// real environment wins in Getenv). A missing file is not an error.
func ReadDotenv(path string) (map[string]string, error) {
	m, err := godotenv.Read(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return m, nil
}

// Getenv layers getenv over the .env values: the real environment wins.
func Getenv(getenv func(string) string, dotenv map[string]string) func(string) string {
	return func(k string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return dotenv[k]
	}
}

// Load reads the configuration. Every problem is reported at once, each
// saying what to set.
func Load(getenv func(string) string) (Config, error) {
	e := &variables{getenv: getenv}
	c := Config{
		Addr:              e.str("IVR_ADDR", DefaultAddr),
		PublicURL:         strings.TrimRight(e.str("IVR_PUBLIC_URL", ""), "/"),
		TrustProxy:        e.boolean("IVR_TRUST_PROXY_HEADERS"),
		FlowPath:          e.str("IVR_FLOW", ""),
		CallCenter:        e.str("IVR_CALL_CENTER_NUMBER", ""),
		FallbackText:      e.str("IVR_FALLBACK_TEXT", "We are sorry, something went wrong. Please hold while we connect you to an agent."),
		FallbackVoice:     e.str("IVR_FALLBACK_VOICE", ""),
		FallbackLanguage:  e.str("IVR_FALLBACK_LANGUAGE", "en-US"),
		VoiceDeadline:     e.duration("IVR_VOICE_DEADLINE", 8*time.Second),
		DatabaseURL:       e.str("IVR_DATABASE_URL", "sqlite:ivr.db"),
		AdminToken:        e.secret("IVR_ADMIN_TOKEN"),
		PlivoMasterToken:  e.secret("PLIVO_MASTER_AUTH_TOKEN"),
		TLSCertFile:       e.str("IVR_TLS_CERT_FILE", ""),
		TLSKeyFile:        e.str("IVR_TLS_KEY_FILE", ""),
		AutocertCacheDir:  e.str("IVR_TLS_AUTOCERT_CACHE", "autocert-cache"),
		HTTPRedirectAddr:  e.str("IVR_HTTP_REDIRECT_ADDR", ""),
		TwilioAllow:       e.cidrs("IVR_TWILIO_ALLOW_CIDRS"),
		PlivoAllow:        e.cidrs("IVR_PLIVO_ALLOW_CIDRS"),
		TrustedProxies:    e.cidrs("IVR_TRUSTED_PROXIES"),
		TwilioBasicUser:   e.str("IVR_TWILIO_BASIC_USER", ""),
		TwilioBasicPass:   e.secret("IVR_TWILIO_BASIC_PASSWORD"),
		PlivoBasicUser:    e.str("IVR_PLIVO_BASIC_USER", ""),
		PlivoBasicPass:    e.secret("IVR_PLIVO_BASIC_PASSWORD"),
		NgrokAPI:          e.str("IVR_NGROK_API", "http://127.0.0.1:4040"),
		NgrokPoll:         e.duration("IVR_NGROK_POLL", 5*time.Second),
		FlowWatchInterval: e.duration("IVR_FLOW_WATCH_INTERVAL", 2*time.Second),
		ShutdownDrain:     e.duration("IVR_SHUTDOWN_DRAIN", 0),
		CallCloseAfter:    e.duration("IVR_CALL_CLOSE_AFTER", 6*time.Hour),
		WebhookURL:        e.str("IVR_WEBHOOK_URL", ""),
		WebhookSecret:     e.secret("IVR_WEBHOOK_SECRET"),
		WebhookTimeout:    e.duration("IVR_WEBHOOK_TIMEOUT", 10*time.Second),
		TwilioAccountSID:  e.str("TWILIO_ACCOUNT_SID", ""),
		PlivoAuthID:       e.str("PLIVO_AUTH_ID", ""),
		TwilioAPIURL:      strings.TrimRight(e.str("IVR_TWILIO_API_URL", "https://api.twilio.com"), "/"),
		PlivoAPIURL:       strings.TrimRight(e.str("IVR_PLIVO_API_URL", "https://api.plivo.com"), "/"),
		CallbackFrom:      e.str("IVR_CALLBACK_FROM", ""),
	}
	e.readMore(&c)
	errs := append(e.errs, c.pairProblems()...)
	errs = append(errs, c.webhookProblems()...)
	errs = append(errs, c.outboundProblems()...)
	if c.Production {
		errs = append(errs, c.productionProblems()...)
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("configuration: %w", errors.Join(errs...))
	}
	return c, nil
}

// variables reads the environment and collects what is wrong with them.
type variables struct {
	getenv func(string) string
	errs   []error
}

// str is name's value, trimmed, or def when it is empty.
func (e *variables) str(name, def string) string {
	if v := strings.TrimSpace(e.getenv(name)); v != "" {
		return v
	}
	return def
}

// secret is name's value or the content of the file NAME_FILE names.
func (e *variables) secret(name string) string {
	v, err := guard.Secret(e.getenv, name)
	if err != nil {
		e.errs = append(e.errs, err)
	}
	return v
}

func (e *variables) boolean(name string) bool {
	v := e.str(name, "false")
	b, err := strconv.ParseBool(v)
	if err != nil {
		e.errs = append(e.errs, fmt.Errorf("%s=%q: write true or false", name, v))
	}
	return b
}

// duration reads a positive duration; where the default is 0 (off), 0 may
// be written too.
func (e *variables) duration(name string, def time.Duration) time.Duration {
	v := e.str(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 || (d == 0 && def != 0) {
		e.errs = append(e.errs, fmt.Errorf("%s=%q: write a positive duration such as 8s", name, v))
		return def
	}
	return d
}

// cidrs reads a list of addresses and prefixes from name and the file
// NAME_FILE names.
func (e *variables) cidrs(name string) []netip.Prefix {
	v := e.str(name, "")
	if f := e.str(name+"_FILE", ""); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			e.errs = append(e.errs, fmt.Errorf("%s_FILE: %w", name, err))
			return nil
		}
		v += "\n" + string(b)
	}
	if strings.TrimSpace(v) == "" {
		return nil
	}
	p, err := guard.ParseCIDRs(v)
	if err != nil {
		e.errs = append(e.errs, fmt.Errorf("%s: %w", name, err))
	}
	return p
}

// list splits name's value (or def) at commas and spaces.
func (e *variables) list(name, def string) []string {
	return strings.FieldsFunc(e.str(name, def), func(r rune) bool { return r == ',' || r == ' ' })
}

// readMore reads the settings that are more than one variable's value: the
// tokens, the state key, the providers, the mode and what depends on it.
func (e *variables) readMore(c *Config) {
	e.readTokens(c)
	if k := e.secret("IVR_STATE_KEY"); k != "" {
		key, err := seal.ParseKey(k)
		if err != nil {
			e.errs = append(e.errs, errors.New("IVR_STATE_KEY: write 32 bytes as 64 hex digits or base64 (make one with: openssl rand -hex 32)"))
		}
		c.StateKey = key
	}
	c.Secrets = NewSecrets(e.getenv)
	if h := e.list("IVR_TLS_AUTOCERT_HOSTS", ""); len(h) > 0 {
		c.AutocertHosts = h
	}
	c.Providers = map[string]bool{}
	for _, p := range e.list("IVR_PROVIDERS", "twilio,plivo") {
		if p != "twilio" && p != "plivo" {
			e.errs = append(e.errs, fmt.Errorf("IVR_PROVIDERS: unknown provider %q: write twilio, plivo or twilio,plivo", p))
		}
		c.Providers[p] = true
	}
	switch mode := e.str("IVR_MODE", "local"); mode {
	case "local":
	case "production":
		c.Production = true
	default:
		e.errs = append(e.errs, fmt.Errorf("IVR_MODE=%q: write local or production", mode))
	}
	c.LogFormat = e.str("IVR_LOG_FORMAT", map[bool]string{true: "json", false: "text"}[c.Production])
	if c.LogFormat != "json" && c.LogFormat != "text" {
		e.errs = append(e.errs, fmt.Errorf("IVR_LOG_FORMAT=%q: write json or text", c.LogFormat))
	}
	if v := e.str("IVR_RETENTION_DAYS", "0"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			e.errs = append(e.errs, fmt.Errorf("IVR_RETENTION_DAYS=%q: write a whole number of days (0 keeps records forever)", v))
		}
		c.RetentionDays = n
	}
}

// pairProblems checks what must be E.164 and the settings that go in pairs.
func (c Config) pairProblems() []error {
	var errs []error
	if c.CallCenter != "" && !ValidE164(c.CallCenter) {
		errs = append(errs, fmt.Errorf("IVR_CALL_CENTER_NUMBER=%q is not E.164: write it as + then country code and number, e.g. +14155550100", c.CallCenter))
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		errs = append(errs, errors.New("set both IVR_TLS_CERT_FILE and IVR_TLS_KEY_FILE, or neither"))
	}
	if (c.TwilioBasicUser == "") != (c.TwilioBasicPass == "") {
		errs = append(errs, errors.New("set both IVR_TWILIO_BASIC_USER and IVR_TWILIO_BASIC_PASSWORD, or neither"))
	}
	if (c.PlivoBasicUser == "") != (c.PlivoBasicPass == "") {
		errs = append(errs, errors.New("set both IVR_PLIVO_BASIC_USER and IVR_PLIVO_BASIC_PASSWORD, or neither"))
	}
	return errs
}

// webhookProblems checks IVR_WEBHOOK_URL and its secret.
func (c Config) webhookProblems() []error {
	if c.WebhookURL == "" {
		if c.WebhookSecret != "" {
			return []error{errors.New("IVR_WEBHOOK_SECRET is set but IVR_WEBHOOK_URL is not: set the URL events are POSTed to, or unset the secret")}
		}
		return nil
	}
	var errs []error
	u, err := url.Parse(c.WebhookURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("IVR_WEBHOOK_URL=%q: write an absolute http(s) URL, e.g. https://hooks.example.com/ivr", redactURL(c.WebhookURL)))
	} else if c.Production && u.Scheme != "https" {
		errs = append(errs, errors.New("production: IVR_WEBHOOK_URL must be https (events carry callers' numbers)"))
	}
	if c.WebhookSecret == "" {
		errs = append(errs, errors.New("IVR_WEBHOOK_URL is set: set IVR_WEBHOOK_SECRET (or IVR_WEBHOOK_SECRET_FILE) to whsec_ and base64 random bytes, e.g. whsec_$(openssl rand -base64 32)"))
	}
	return errs
}

// redactURL is raw for an error message without what may be a credential:
// the user info and the query values become "xxxxx"; a URL that does not
// parse shows only its first characters up to any "@" or "?".
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if i := strings.IndexAny(raw, "@?#"); i >= 0 {
			raw = raw[:i]
		}
		if i := strings.Index(raw, "://"); i >= 0 && strings.Contains(raw[i+3:], ":") {
			raw = raw[:i+3] // "user:password" before the host
		}
		return raw + "xxxxx"
	}
	if u.User != nil {
		u.User = url.User("xxxxx")
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			q[k] = []string{"xxxxx"}
		}
		u.RawQuery = q.Encode()
	}
	u.Fragment, u.RawFragment = "", ""
	return u.String()
}

// productionProblems lists what production mode refuses to start with.
func (c Config) productionProblems() []error {
	var errs []error
	if c.CallCenter == "" || c.CallCenter == ExampleCallCenter {
		errs = append(errs, errors.New("production: set IVR_CALL_CENTER_NUMBER to the E.164 number every fallback dials"))
	}
	if c.Providers["twilio"] && len(c.TwilioTokens) == 0 {
		errs = append(errs, errors.New("production: set TWILIO_AUTH_TOKEN (or TWILIO_AUTH_TOKEN_FILE), or leave twilio out of IVR_PROVIDERS"))
	}
	if c.Providers["plivo"] && c.PlivoToken == "" {
		errs = append(errs, errors.New("production: set PLIVO_AUTH_TOKEN (or PLIVO_AUTH_TOKEN_FILE), or leave plivo out of IVR_PROVIDERS"))
	}
	if c.AdminToken == "" {
		errs = append(errs, errors.New("production: set IVR_ADMIN_TOKEN (or IVR_ADMIN_TOKEN_FILE); the admin UI must not be open"))
	}
	if c.StateKey == nil {
		errs = append(errs, errors.New("production: set IVR_STATE_KEY (or IVR_STATE_KEY_FILE) to 32 random bytes as hex, e.g. from: openssl rand -hex 32; every instance uses the same key"))
	}
	if c.PublicURL == "" && !c.TrustProxy {
		errs = append(errs, errors.New("production: set IVR_PUBLIC_URL to the https URL the providers call (or IVR_TRUST_PROXY_HEADERS=true behind a proxy you run)"))
	}
	return errs
}

// outboundProblems checks the settings of outbound calls that are set.
func (c Config) outboundProblems() []error {
	var errs []error
	if c.CallbackFrom != "" && !ValidE164(c.CallbackFrom) {
		errs = append(errs, fmt.Errorf("IVR_CALLBACK_FROM=%q: write the caller ID of callbacks in E.164, like +15551234567", c.CallbackFrom))
	}
	for name, v := range map[string]string{"IVR_TWILIO_API_URL": c.TwilioAPIURL, "IVR_PLIVO_API_URL": c.PlivoAPIURL} {
		if u, err := url.Parse(v); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("%s=%q: write an absolute http(s) URL (the default is the provider's own API)", name, v))
		} else if c.Production && u.Scheme != "https" {
			errs = append(errs, fmt.Errorf("production: %s must be https (requests carry the account's credentials)", name))
		}
	}
	return errs
}

// CallbackProblems lists what outbound calls miss on the enabled
// providers: a flow with callback needs them (production refuses the flow
// without them).
func (c Config) CallbackProblems() []error {
	var errs []error
	if c.Providers["twilio"] && (c.TwilioAccountSID == "" || len(c.TwilioTokens) == 0 || slices.Contains(c.DevTokens, "twilio")) {
		errs = append(errs, errors.New("the flow has callback: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN so callbacks can be placed through Twilio's API (or leave twilio out of IVR_PROVIDERS)"))
	}
	if c.Providers["plivo"] && (c.PlivoAuthID == "" || c.PlivoToken == "" || slices.Contains(c.DevTokens, "plivo")) {
		errs = append(errs, errors.New("the flow has callback: set PLIVO_AUTH_ID and PLIVO_AUTH_TOKEN so callbacks can be placed through Plivo's API (or leave plivo out of IVR_PROVIDERS)"))
	}
	return errs
}
