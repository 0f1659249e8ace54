package voice

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/ivr-project/ivr/internal/httpobs"
	"github.com/ivr-project/ivr/internal/ivr"
	"github.com/ivr-project/ivr/internal/lookup"
)

// Lookups runs a voice step's engine loop: Step, and while the engine needs
// a lookup, perform it (inside what is left of the voice deadline), hand the
// result back and Step again. It also gives every request what the engine
// needs for lookups and sealed state: the secrets, the sealer and the demo
// API's base URL.
type Lookups struct {
	unsent  sync.Map // flow revision + request name: an unsent lookup already warned about
	client  *lookup.Client
	metrics *httpobs.Metrics
	logger  *slog.Logger
	secrets func(string) (string, bool)
	sealer  ivr.Sealer
	demoAPI string
	// margin is what the lookups leave of the voice deadline to answer
	// (on_error included), so a slow API ends in the flow's own on_error,
	// not the fallback; budget is the deadline less the margin, for a step
	// whose context carries no deadline.
	margin, budget time.Duration
}

// lookupMargin leaves an eighth of the deadline (at most a second) to answer.
func lookupMargin(deadline time.Duration) time.Duration {
	return min(deadline/8, time.Second)
}

// performed is one lookup a step ran, counted and logged (report) once the
// answer is out.
type performed struct {
	need ivr.Lookup
	o    lookup.Outcome
}

// prepare fills in what every ivr.Request carries for lookups and sealing.
func (l *Lookups) prepare(req *ivr.Request) {
	req.Secrets = l.secrets
	req.Sealer = l.sealer
	req.DemoAPI = l.demoAPI
}

// step is flow.Step with the lookups it asks for performed. The lookups'
// outcomes go into the result's events: the request name, outcome, status
// and duration, never a value or a body. The lookups end a margin before
// the voice deadline (ctx's, counted from when the webhook's handling
// began; else from the call's Now); what they were is returned for report,
// which the caller runs once its answer is out: under a burst of lookups
// ending together, logs and metrics must not spend the time left to answer.
func (l *Lookups) step(ctx context.Context, flow *ivr.Flow, req ivr.Request) (ivr.Result, []performed, error) {
	res, err := flow.Step(req)
	if err != nil || res.Need == nil {
		return res, nil, err
	}
	end := req.Call.Now.Add(l.budget)
	if d, ok := ctx.Deadline(); ok {
		end = d.Add(-l.margin)
	}
	ctx, cancel := context.WithDeadline(ctx, end)
	defer cancel()
	var done []ivr.Event
	var ran []performed
	for res.Need != nil {
		if len(req.Lookups) >= ivr.MaxFetchesPerStep {
			return ivr.Result{}, ran, fmt.Errorf("the step asks for more than %d fetches", ivr.MaxFetchesPerStep)
		}
		need := *res.Need
		o := l.client.Do(ctx, need)
		ran = append(ran, performed{need, o})
		// An unsent lookup has no outcome (Outcome ""): the engine's event
		// says why.
		m := &ivr.EventMore{Request: need.Request}
		if need.Unsent == "" {
			m.Outcome, m.Status, m.Duration = o.Kind, o.Status, o.Duration
		}
		d := ivr.Event{At: time.Now(), Kind: ivr.EventFetch, More: m}
		done = append(done, d)
		req.Lookups = append(req.Lookups, o.Result)
		if res, err = flow.Step(req); err != nil {
			return res, ran, err
		}
	}
	if err := context.Cause(ctx); errors.Is(err, errDeadline) {
		return ivr.Result{}, ran, err // the deadline's fallback has answered
	}
	res.Events = withLookupEvents(res.Events, done)
	return res, ran, nil
}

// report counts, times and logs the lookups a step ran (see observe).
func (l *Lookups) report(ctx context.Context, call ivr.Call, rev string, ran []performed) {
	for _, p := range ran {
		l.observe(ctx, call, rev, p.need, p.o)
	}
}

// observe counts, times and logs one lookup: its name, host, outcome,
// status and duration (the lookup's LogValue leaves out the URL's path,
// headers and body).
func (l *Lookups) observe(ctx context.Context, call ivr.Call, rev string, need ivr.Lookup, o lookup.Outcome) {
	l.metrics.Lookups.WithLabelValues(need.Request, o.Kind).Inc()
	l.metrics.LookupLatency.WithLabelValues(need.Request).Observe(o.Duration.Seconds())
	level := slog.LevelDebug
	if o.Kind != lookup.KindOK {
		level = slog.LevelWarn
	}
	// A lookup that cannot be sent (a secret not set) fails at every call
	// alike: warned about once per flow revision, then at debug level.
	if o.Kind == lookup.KindUnsent {
		if _, seen := l.unsent.LoadOrStore(rev+"\x00"+need.Request, true); seen {
			level = slog.LevelDebug
		}
	}
	if !l.logger.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{slog.String("provider", call.Provider), slog.String("call_id", call.ID),
		slog.String("request_id", httpobs.RequestID(ctx)), slog.Any("lookup", need),
		slog.String("outcome", o.Kind), slog.Int("status", o.Status), slog.Duration("duration", o.Duration)}
	if o.Err != nil {
		attrs = append(attrs, slog.String("error", o.Err.Error()))
	}
	l.logger.LogAttrs(ctx, level, "lookup", attrs...)
}

// withLookupEvents gives each lookup's outcome to the engine's event for it,
// so a lookup is one event: the i-th fetch event of the step is the i-th
// lookup, and gets its outcome, status and duration (the engine's Reason
// stays: what the flow did about it); one the engine did not record is
// added at the end. An unsent lookup (Outcome "") keeps the engine's
// event, which says why. A lookup's event is timed when it ended, and the
// events after it no earlier.
func withLookupEvents(evs, done []ivr.Event) []ivr.Event {
	out := slices.Clone(evs)
	from := 0
	for _, d := range done {
		i := slices.IndexFunc(out[from:], func(e ivr.Event) bool { return e.Kind == ivr.EventFetch && e.Request() == d.Request() })
		if d.Outcome() == "" { // unsent: the engine's event stays as it is
			if i >= 0 {
				from += i + 1
			}
			continue
		}
		if i < 0 {
			if len(out) > 0 {
				d.Menu = out[len(out)-1].Menu
			}
			out = append(out, d)
			continue
		}
		e := &out[from+i]
		var m ivr.EventMore // copied: the engine's event shares its More
		if e.More != nil {
			m = *e.More
		}
		m.Outcome, m.Status, m.Duration = d.Outcome(), d.Status(), d.Duration()
		e.More = &m
		e.At = d.At // when the lookup ended, not when the step began
		from += i + 1
	}
	// What the step did after a lookup happened after it ended.
	for k := 1; k < len(out); k++ {
		if out[k].At.Before(out[k-1].At) {
			out[k].At = out[k-1].At
		}
	}
	return out
}
