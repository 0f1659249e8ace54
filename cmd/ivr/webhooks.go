package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/ivr-project/ivr/internal/config"
	"github.com/ivr-project/ivr/internal/httpobs"
	"github.com/ivr-project/ivr/internal/store"
	"github.com/ivr-project/ivr/internal/tick"
	"github.com/ivr-project/ivr/internal/webhook"
)

// newWebhooks turns the outbox on and returns its delivery worker when
// IVR_WEBHOOK_URL is set; nil otherwise.
func newWebhooks(cfg config.Config, db *store.DB, metrics *httpobs.Metrics, logger *slog.Logger) (*webhook.Worker, error) {
	if cfg.WebhookURL == "" {
		return nil, nil
	}
	key, previous, err := webhook.ParseSecrets(cfg.WebhookSecret)
	if err != nil {
		return nil, fmt.Errorf("IVR_WEBHOOK_SECRET: %w", err)
	}
	w, err := webhook.New(db, webhook.Config{
		URL: cfg.WebhookURL, Secret: key, Previous: previous, Timeout: cfg.WebhookTimeout, Logger: logger,
		Observe: func(typ, outcome string) { metrics.Webhooks.WithLabelValues(typ, outcome).Inc() },
	})
	if err != nil {
		return nil, err
	}
	db.EnableOutbox()
	metrics.WatchOutbox(func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		n, err := db.OutboxPending(ctx)
		if err != nil {
			return -1 // the store did not answer
		}
		return float64(n)
	})
	host := ""
	if u, err := url.Parse(cfg.WebhookURL); err == nil {
		host = u.Host // never the whole URL: it may carry credentials
	}
	logger.Info("event webhooks on", slog.String("host", host))
	return w, nil
}

// closeStaleCalls closes, once a minute, calls that started more than after
// ago and never got their final status callback (status "unknown"; each
// gets its call.completed).
func closeStaleCalls(ctx context.Context, db *store.DB, after time.Duration, logger *slog.Logger) {
	const batch = 500
	closeAll := func() {
		for {
			n, err := db.CloseStaleCalls(ctx, time.Now().Add(-after), batch)
			if err != nil {
				if ctx.Err() == nil {
					logger.Error("closing calls without a final status", slog.String("error", err.Error()))
				}
				return
			}
			if n > 0 {
				logger.Info("closed calls without a final status as unknown", slog.Int("calls", n), slog.Duration("after", after))
			}
			if n < batch {
				return
			}
		}
	}
	closeAll()
	tick.Every(ctx, time.Minute, closeAll)
}
