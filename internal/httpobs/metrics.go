package httpobs

import (
	"net/http"

	"github.com/ivr-project/ivr/internal/buildinfo"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the server's Prometheus collectors, on a registry of their own
// (no global default registry), served at /metrics.
type Metrics struct {
	Registry   *prometheus.Registry
	Requests   *prometheus.CounterVec   // provider, route, outcome
	Latency    *prometheus.HistogramVec // provider, route
	Fallbacks  *prometheus.CounterVec   // provider, reason
	Refused    *prometheus.CounterVec   // provider, reason: refused signatures and addresses
	Reloads    *prometheus.CounterVec   // result
	StoreError *prometheus.CounterVec   // op

	Lookups       *prometheus.CounterVec   // request, outcome: the flow's HTTP requests
	LookupLatency *prometheus.HistogramVec // request
	Breakers      *prometheus.CounterVec   // request, state: a lookup breaker changed state

	Webhooks *prometheus.CounterVec // type, outcome: event webhook delivery attempts
}

// NewMetrics registers every collector. queueDepth and dropped report the
// call-event writer's state (nil when there is none).
func NewMetrics(queueDepth func() float64, dropped func() float64) *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ivr_requests_total", Help: "Webhook and admin requests by provider, route and outcome.",
		}, []string{"provider", "route", "outcome"}),
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ivr_request_duration_seconds",
			Help:    "Time to answer a request, by provider and route.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"provider", "route"}),
		Fallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ivr_fallbacks_total", Help: "Voice requests answered with the fallback (apology + dial the call center), by reason.",
		}, []string{"provider", "reason"}),
		Refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ivr_refused_requests_total", Help: "Webhook requests refused by signature, nonce or address checks, by reason.",
		}, []string{"provider", "reason"}),
		Reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ivr_flow_reloads_total", Help: "Flow reloads by result (ok, error).",
		}, []string{"result"}),
		StoreError: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ivr_store_errors_total", Help: "Store operations that failed, by operation.",
		}, []string{"op"}),
		Lookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ivr_lookup_total", Help: "The flow's HTTP lookups by request name and outcome (ok, timeout, status, too_large, bad_json, missing_field, breaker_open, error).",
		}, []string{"request", "outcome"}),
		LookupLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ivr_lookup_duration_seconds",
			Help:    "Time a lookup took, by request name (breaker_open ones take ~0).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"request"}),
		Breakers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ivr_lookup_breaker_changes_total", Help: "Lookup circuit breaker state changes, by request name and new state (open: the API is skipped for a while).",
		}, []string{"request", "state"}),
		Webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ivr_webhook_attempts_total", Help: "Event webhook delivery attempts by event type and outcome (delivered, failed: retried later, given_up).",
		}, []string{"type", "outcome"}),
	}
	m.Registry.MustRegister(m.Requests, m.Latency, m.Fallbacks, m.Refused, m.Reloads, m.StoreError,
		m.Lookups, m.LookupLatency, m.Breakers, m.Webhooks,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Expose both reload results from the start (at 0), so that the series
	// exist and rate()/alerts work before the first reload.
	m.Reloads.WithLabelValues("ok")
	m.Reloads.WithLabelValues("error")
	if queueDepth != nil {
		m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "ivr_store_queue_depth", Help: "Call events waiting to be written to the store.",
		}, queueDepth))
	}
	if dropped != nil {
		m.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "ivr_store_dropped_events_total", Help: "Call events not stored because the queue was full (the calls are kept while there is room; drops are logged).",
		}, dropped))
	}
	return m
}

// WatchWriter registers what else the call-event writer reports:
// ivr_store_lost_calls_total, calls of which it stored nothing (even the
// room for calls without their events was full; each is also logged), and
// ivr_store_writer_waits_total, answers that waited for it to catch up.
func (m *Metrics) WatchWriter(lost, waits func() float64) {
	m.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "ivr_store_lost_calls_total", Help: "Calls not recorded at all because the call-event queue was full (logged).",
	}, lost), prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "ivr_store_writer_waits_total", Help: "Requests that waited for the call-event writer to catch up (at most 1 s each).",
	}, waits))
}

// WatchOutbox registers ivr_webhook_pending: event webhooks not delivered
// yet (waiting for their first attempt or a retry), read at each scrape.
func (m *Metrics) WatchOutbox(pending func() float64) {
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "ivr_webhook_pending", Help: "Event webhooks waiting for delivery (first attempt or retry), across instances.",
	}, pending))
}

// RegisterBuild adds ivr_build_info{version,revision,goversion} 1, the usual
// way to tell which build answers; registering it again is a no-op.
func (m *Metrics) RegisterBuild(b buildinfo.Info) {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "ivr_build_info",
		Help:        "Always 1; the labels say which build is running.",
		ConstLabels: prometheus.Labels{"version": b.Version, "revision": b.Revision, "goversion": b.GoVersion},
	})
	g.Set(1)
	m.Registry.Register(g) // fails only when an earlier New registered it: keep that one
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}
