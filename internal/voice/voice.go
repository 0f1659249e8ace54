// Package voice is the provider side of the HTTP layer: the voice, status
// and message handlers, the lookups loop, the fallback rule (whatever goes
// wrong on a voice route, the answer is HTTP 200 with the provider's
// apology-and-dial XML), the paths as people paste them and the demo API.
// It never imports the admin side.
package voice

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/ivr-project/ivr/internal/config"
	"github.com/ivr-project/ivr/internal/httpobs"
	"github.com/ivr-project/ivr/internal/ivr"
	"github.com/ivr-project/ivr/internal/lookup"
	"github.com/ivr-project/ivr/internal/seal"
	"github.com/ivr-project/ivr/internal/store"
)

// LookupDeps is what NewLookups needs.
type LookupDeps struct {
	Config  config.Config
	Logger  *slog.Logger
	Metrics *httpobs.Metrics
	// Client performs the flow's HTTP requests; nil = a client of its own,
	// counted in Metrics.
	Client *lookup.Client
	// Sealer seals the call's variables into the action URLs; nil = one
	// from Config.StateKey, or else a per-process random key.
	Sealer ivr.Sealer
	// DemoAPI is the base URL of the /demo routes (local mode only).
	DemoAPI string
}

// NewLookups builds the voice routes' lookup runner from d.
func NewLookups(d LookupDeps) (*Lookups, error) {
	client := d.Client
	if client == nil {
		client = lookup.New(lookup.Options{Logger: d.Logger, OnBreaker: func(request, _, to string) {
			d.Metrics.Breakers.WithLabelValues(request, to).Inc()
		}})
	}
	sealer := d.Sealer
	if sealer == nil {
		var err error
		if d.Config.StateKey != nil {
			sealer, err = seal.New(d.Config.StateKey)
		} else if d.Config.Production {
			err = errors.New("production: set IVR_STATE_KEY")
		} else {
			d.Logger.Info("IVR_STATE_KEY is not set: call state is sealed with a key made for this process " +
				"(calls in progress do not survive a restart or move to another instance; production mode requires the key)")
			sealer, err = seal.NewRandom()
		}
		if err != nil {
			return nil, fmt.Errorf("state key: %w", err)
		}
	}
	lk := &Lookups{client: client, metrics: d.Metrics, logger: d.Logger, sealer: sealer,
		margin: lookupMargin(d.Config.VoiceDeadline)}
	lk.budget = d.Config.VoiceDeadline - lk.margin
	if d.Config.Secrets != nil {
		lk.secrets = d.Config.Secrets.Get
	}
	if !d.Config.Production {
		lk.demoAPI = strings.TrimRight(d.DemoAPI, "/")
	}
	return lk, nil
}

// Tokens are the auth tokens each provider's routes verify with. A provider
// with no token configured gets a random in-process secret instead: nothing
// from outside can sign with it (its routes accept nothing, as the contract
// says), while the admin "Try it" can still play calls through the real
// signed path. It is never printed.
type Tokens struct {
	Twilio, TwilioSecondary, Plivo string
}

// SigningTokens are cfg's tokens, random ones where none is configured.
func SigningTokens(cfg config.Config) Tokens {
	t := Tokens{Twilio: randomToken(), Plivo: randomToken()}
	if len(cfg.TwilioTokens) > 0 {
		t.Twilio = cfg.TwilioTokens[0]
	}
	if len(cfg.TwilioTokens) > 1 {
		t.TwilioSecondary = cfg.TwilioTokens[1]
	}
	if cfg.PlivoToken != "" {
		t.Plivo = cfg.PlivoToken
	}
	return t
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// NewFailer is the failure answer of p's routes. noToken: no auth token is
// configured for p; failures and events may be nil.
func NewFailer(p *Provider, logger *slog.Logger, metrics *httpobs.Metrics, noToken bool, failures *store.FailureCounter, events *store.Writer) Failer {
	return Failer{p: p, logger: logger, metrics: metrics, noToken: noToken, failures: failures, events: events}
}

type draftKey struct{}

// draftFlow is the draft flow a Try request asked to play, or nil.
func draftFlow(ctx context.Context) *ivr.Flow {
	f, _ := ctx.Value(draftKey{}).(*ivr.Flow)
	return f
}

// WithDraft returns ctx carrying a draft flow for the voice handler to play
// instead of the live flow, recording nothing (the admin's "Try the draft").
func WithDraft(ctx context.Context, f *ivr.Flow) context.Context {
	return context.WithValue(ctx, draftKey{}, f)
}
