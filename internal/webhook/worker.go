package webhook

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ivr-project/ivr/internal/lookup"
	"github.com/ivr-project/ivr/internal/store"
)

// Outbox is the part of the store the Worker uses; *store.DB implements it.
type Outbox interface {
	ClaimOutbox(ctx context.Context, owner string, limit int, lease time.Duration) ([]store.OutboxEvent, error)
	OutboxDelivered(ctx context.Context, id int64, status int) error
	OutboxFailed(ctx context.Context, id int64, owner string, status int, errMsg string, next time.Time, giveUp bool) error
}

// Config sets up a Worker. Zero values take the defaults.
type Config struct {
	URL    string // where events are POSTed; required
	Secret []byte // the signing key (ParseSecret); required
	// Previous keys are also signed with, during a rotation: the header
	// then carries one "v1,..." signature per key, space-separated, and a
	// receiver holding either secret verifies.
	Previous [][]byte
	// Owner names this instance in the outbox leases (default: random).
	Owner string
	// Timeout bounds one attempt (default 10s). An event is leased for
	// Timeout plus a margin: an instance that dies mid-attempt leaves it
	// to the others (or to itself after a restart) when the lease ends.
	Timeout time.Duration
	Poll    time.Duration // how often the outbox is looked at when idle (default 1s)
	Batch   int           // events claimed, and sent concurrently, at a time (default 8)
	// Retries wait MinBackoff, doubling up to MaxBackoff, each with
	// jitter (between half and all of it); defaults 5s and 1h.
	MinBackoff, MaxBackoff time.Duration
	// GiveUpAfter is how long after its creation an event is still retried
	// (default 72h; at least 24h is the promise).
	GiveUpAfter time.Duration
	Client      *http.Client // default: a client with Timeout, no redirects followed
	Logger      *slog.Logger
	Now         func() time.Time
	// Observe, when set, is told each attempt's event type and outcome:
	// "delivered", "failed" (retried later) or "given_up".
	Observe func(eventType, outcome string)
}

// Defaults.
const (
	DefaultTimeout     = 10 * time.Second
	DefaultGiveUpAfter = 72 * time.Hour
	leaseMargin        = 5 * time.Second
)

// Worker delivers outbox events. Start Run once per process.
type Worker struct {
	cfg   Config
	db    Outbox
	lease time.Duration
}

// New returns a Worker for cfg (see Config for defaults).
func New(db Outbox, cfg Config) (*Worker, error) {
	if cfg.URL == "" || len(cfg.Secret) == 0 {
		return nil, fmt.Errorf("webhook worker: a URL and a secret are required")
	}
	if cfg.Owner == "" {
		var b [6]byte
		_, _ = rand.Read(b[:])
		cfg.Owner = "ivr-" + hex.EncodeToString(b[:])
	}
	cfg.Timeout = orDefault(cfg.Timeout, DefaultTimeout)
	cfg.Poll = orDefault(cfg.Poll, time.Second)
	cfg.MinBackoff = orDefault(cfg.MinBackoff, 5*time.Second)
	cfg.MaxBackoff = orDefault(cfg.MaxBackoff, time.Hour)
	cfg.GiveUpAfter = orDefault(cfg.GiveUpAfter, DefaultGiveUpAfter)
	if cfg.Batch <= 0 {
		cfg.Batch = 8
	}
	if cfg.Client == nil {
		// The lookups' transport: bounded dial, TLS handshake and
		// response headers; idle connections kept for the next delivery.
		cfg.Client = &http.Client{
			Transport:     lookup.NewTransport(),
			Timeout:       cfg.Timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Observe == nil {
		cfg.Observe = func(string, string) {}
	}
	return &Worker{cfg: cfg, db: db, lease: cfg.Timeout + leaseMargin}, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Run delivers due events until ctx is done. An attempt cut short by ctx is
// not recorded: its lease runs out and the event is sent again.
func (w *Worker) Run(ctx context.Context) {
	failures := 0
	for {
		evs, err := w.db.ClaimOutbox(ctx, w.cfg.Owner, w.cfg.Batch, w.lease)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			failures++
			if failures == 1 || failures%60 == 0 {
				w.cfg.Logger.Warn("webhook outbox not readable; retrying", slog.String("error", err.Error()), slog.Int("attempt", failures))
			}
		} else {
			failures = 0
		}
		if len(evs) > 0 {
			w.deliverAll(ctx, evs)
			if len(evs) == w.cfg.Batch {
				continue // there may be more due now
			}
		}
		t := time.NewTimer(w.cfg.Poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func (w *Worker) deliverAll(ctx context.Context, evs []store.OutboxEvent) {
	var wg sync.WaitGroup
	for _, e := range evs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.deliver(ctx, e)
		}()
	}
	wg.Wait()
}

// deliver makes one attempt and records its outcome.
func (w *Worker) deliver(ctx context.Context, e store.OutboxEvent) {
	status, err := w.post(ctx, e)
	if ctx.Err() != nil {
		return
	}
	log := w.cfg.Logger.With(slog.String("webhook_id", e.EventID), slog.String("type", e.Type),
		slog.String("provider", e.Provider), slog.String("call_id", e.CallID), slog.Int("attempt", e.Attempts+1))
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err == nil {
		w.cfg.Observe(e.Type, "delivered")
		if derr := w.db.OutboxDelivered(rctx, e.ID, status); derr != nil {
			log.Error("webhook delivered but not marked; it will be sent again", slog.String("error", derr.Error()))
			return
		}
		log.Info("webhook delivered", slog.Int("status", status))
		return
	}
	now := w.cfg.Now()
	giveUp := now.Sub(e.CreatedAt) >= w.cfg.GiveUpAfter
	next := now.Add(w.backoff(e.Attempts + 1))
	outcome := "failed"
	if giveUp {
		outcome = "given_up"
	}
	w.cfg.Observe(e.Type, outcome)
	if derr := w.db.OutboxFailed(rctx, e.ID, w.cfg.Owner, status, err.Error(), next, giveUp); derr != nil {
		log.Error("webhook attempt not recorded", slog.String("error", derr.Error()))
	}
	if giveUp {
		log.Error("webhook given up after its retry period (retry it from /admin/webhooks)",
			slog.String("error", err.Error()), slog.Duration("retry_period", w.cfg.GiveUpAfter))
		return
	}
	log.Warn("webhook attempt failed; will retry", slog.String("error", err.Error()), slog.Time("next_attempt", next))
}

// backoff is the wait after the n-th failed attempt: MinBackoff doubling
// up to MaxBackoff, with jitter between half and all of it.
func (w *Worker) backoff(n int) time.Duration {
	d := w.cfg.MinBackoff
	for i := 1; i < n && d < w.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, w.cfg.MaxBackoff)
	return d/2 + mrand.N(d/2+1)
}

// post sends e once, signed. A 2xx answer is a delivery; anything else,
// a redirect included, is an error carrying the status and the start of
// the body.
func (w *Worker) post(ctx context.Context, e store.OutboxEvent) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.URL, bytes.NewReader(e.Payload))
	if err != nil {
		return 0, fmt.Errorf("build request: %w", err)
	}
	ts := w.cfg.Now()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "ivr-webhooks/1")
	req.Header.Set("webhook-id", e.EventID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
	sig := Sign(w.cfg.Secret, e.EventID, ts, e.Payload)
	for _, k := range w.cfg.Previous {
		sig += " " + Sign(k, e.EventID, ts, e.Payload)
	}
	req.Header.Set("webhook-signature", sig)
	resp, err := w.cfg.Client.Do(req)
	if err != nil {
		// Without the URL: it may carry credentials, and the error is
		// logged and shown on /admin/webhooks.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, fmt.Errorf("POST: %w", err)
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // keep the connection reusable
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp.StatusCode, nil
	}
	msg := "HTTP " + strconv.Itoa(resp.StatusCode)
	if s := strings.TrimSpace(strings.ToValidUTF8(string(head), "")); s != "" {
		msg += ": " + s
	}
	return resp.StatusCode, fmt.Errorf("%s", msg)
}
