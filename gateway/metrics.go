package gateway

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics of the gateway. Label values are bounded: routes, status codes,
// configured provider names, error reasons.
type metrics struct {
	requests       *prometheus.CounterVec   // route, code
	overhead       *prometheus.HistogramVec // route
	duration       *prometheus.HistogramVec // route
	upstream       *prometheus.HistogramVec // provider, outcome
	attempts       *prometheus.CounterVec   // provider, outcome
	fallbacks      *prometheus.CounterVec   // model
	rateLimited    *prometheus.CounterVec   // limit
	authFailures   *prometheus.CounterVec   // reason
	clientGone     prometheus.Counter
	spansDropped   *prometheus.CounterVec // reason
	spansExported  prometheus.Counter
	exportFailures prometheus.Counter
	queueSpans     prometheus.Gauge
	ingestRecords  *prometheus.CounterVec // result
	recordsDropped prometheus.Counter
	tokens         *prometheus.CounterVec // model, direction
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	fine := []float64{5e-6, 10e-6, 15e-6, 20e-6, 30e-6, 40e-6, 50e-6, 75e-6, 100e-6, 150e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 50e-3}
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "observatory_gateway_requests_total", Help: "Gateway requests by route and HTTP status.",
		}, []string{"route", "code"}),
		overhead: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "observatory_gateway_overhead_seconds",
			Help:    "Gateway processing time per request, excluding time spent waiting on upstream providers (and backoff between retries).",
			Buckets: fine,
		}, []string{"route"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "observatory_gateway_request_duration_seconds", Help: "Total request duration as the gateway saw it.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12),
		}, []string{"route"}),
		upstream: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "observatory_gateway_upstream_duration_seconds", Help: "Duration of one upstream attempt until the response (or the first chunk of a stream).",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12),
		}, []string{"provider", "outcome"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "observatory_gateway_upstream_attempts_total", Help: "Upstream attempts by configured provider and outcome (ok or an error reason).",
		}, []string{"provider", "outcome"}),
		fallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "observatory_gateway_fallbacks_total", Help: "Calls served by a fallback provider.",
		}, []string{"model"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "observatory_gateway_rate_limited_total", Help: "Requests refused by per-key limits.",
		}, []string{"limit"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "observatory_gateway_auth_failures_total", Help: "Requests refused by authentication.",
		}, []string{"reason"}),
		clientGone: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "observatory_gateway_client_disconnects_total", Help: "Calls whose client went away before the response was complete.",
		}),
		spansDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "observatory_gateway_spans_dropped_total", Help: "Spans dropped: queue_full, export_failed, shutdown.",
		}, []string{"reason"}),
		spansExported: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "observatory_gateway_spans_exported_total", Help: "Spans exported.",
		}),
		exportFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "observatory_gateway_span_export_failures_total", Help: "Failed export attempts (each is retried).",
		}),
		queueSpans: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "observatory_gateway_queue_spans", Help: "Spans waiting for export.",
		}),
		ingestRecords: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "observatory_gateway_ingest_records_total", Help: "Ingest API records by result.",
		}, []string{"result"}),
		recordsDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "observatory_gateway_call_records_dropped_total", Help: "Calls whose span was not built because the span builder was saturated.",
		}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "observatory_gateway_tokens_total", Help: "Tokens by configured model and direction (input, output).",
		}, []string{"model", "direction"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.requests, m.overhead, m.duration, m.upstream, m.attempts, m.fallbacks,
			m.rateLimited, m.authFailures, m.clientGone, m.spansDropped, m.spansExported, m.exportFailures, m.queueSpans,
			m.ingestRecords, m.recordsDropped, m.tokens} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}
