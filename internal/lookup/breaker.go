package lookup

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"

	"github.com/sony/gobreaker/v2"
)

// breakers holds one circuit breaker per request name (the names come from
// the flow file, so the map is as small as its requests: section).
type breakers struct {
	settings gobreaker.Settings
	mu       sync.Mutex
	byName   map[string]*gobreaker.CircuitBreaker[Outcome]
}

// errAPI marks an outcome that counts against the API: a timeout, a failed
// connection, a 5xx or a 429. A 4xx (e.g. an unknown account), bad JSON or a
// missing field is the API answering: it keeps the breaker closed.
var (
	errAPI    = errors.New("the API failed")
	errCaller = errors.New("the caller went away")
)

func newBreakers(o Options, logger *slog.Logger) *breakers {
	failures := o.Failures
	if failures == 0 {
		failures = defaultFailures
	}
	openFor := o.OpenFor
	if openFor <= 0 {
		openFor = defaultOpenFor
	}
	return &breakers{
		byName: map[string]*gobreaker.CircuitBreaker[Outcome]{},
		settings: gobreaker.Settings{
			MaxRequests: 1,
			Timeout:     openFor,
			ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= failures },
			IsExcluded:  func(err error) bool { return errors.Is(err, errCaller) },
			OnStateChange: func(name string, from, to gobreaker.State) {
				level := slog.LevelInfo
				if to == gobreaker.StateOpen {
					level = slog.LevelWarn
				}
				logger.LogAttrs(context.Background(), level, "lookup breaker "+to.String(),
					slog.String("request", name), slog.String("from", from.String()),
					slog.Duration("open_for", openFor), slog.Uint64("failures", uint64(failures)))
				if o.OnBreaker != nil {
					o.OnBreaker(name, from.String(), to.String())
				}
			},
		},
	}
}

func (b *breakers) get(name string) *gobreaker.CircuitBreaker[Outcome] {
	b.mu.Lock()
	defer b.mu.Unlock()
	cb := b.byName[name]
	if cb == nil {
		s := b.settings
		s.Name = name
		cb = gobreaker.NewCircuitBreaker[Outcome](s)
		b.byName[name] = cb
	}
	return cb
}

// breakerError is what the breaker counts for outcome o: nil is a success.
// A request cut short because the caller hung up is not the API's fault
// and is not counted either way.
func breakerError(ctx context.Context, o Outcome) error {
	switch {
	case errors.Is(context.Cause(ctx), context.Canceled):
		return errCaller
	case o.Kind == KindTimeout || o.Kind == KindError:
		return errAPI
	case o.Kind == KindStatus && (o.Status >= 500 || o.Status == http.StatusTooManyRequests):
		return errAPI
	}
	return nil
}
