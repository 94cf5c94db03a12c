package server

import (
	"fmt"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stemcell-io/stemcell/store"
)

// metrics are the API's Prometheus series; the pool and the prewarm
// scheduler register theirs in the same registry.
type metrics struct {
	requests    *prometheus.CounterVec
	duration    prometheus.Histogram
	activations *prometheus.CounterVec
	rejected    *prometheus.CounterVec // by reason: concurrent, per_minute, buffer_full
}

func newMetrics(reg prometheus.Registerer, a *admission) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stemcell_http_requests_total", Help: "HTTP requests by method and status code.",
		}, []string{"method", "code"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "stemcell_http_request_duration_seconds", Help: "Time to answer an HTTP request.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 18),
		}),
		activations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stemcell_api_activations_total", Help: "Activations finished, by status.",
		}, []string{"status"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stemcell_api_admission_rejected_total",
			Help: "Invocations answered 429, by reason: concurrent and per_minute (the namespace's limits), buffer_full (the pool's buffer).",
		}, []string{"reason"}),
	}
	// A total, not one series per namespace: namespaces come and go with
	// the keys file, and an operator looks at the whole daemon first.
	inFlight := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "stemcell_api_activations_in_flight", Help: "Activations accepted and not yet finished, over all namespaces.",
	}, func() float64 { return float64(a.count()) })
	limit := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "stemcell_api_admission_limit", Help: "Per-namespace invoke limits (limits.actions.invokes.*); 0 is no limit.",
	}, []string{"limit"})
	limit.WithLabelValues(refusedConcurrent).Set(float64(a.concurrent))
	limit.WithLabelValues(refusedPerMinute).Set(float64(a.perMinute))
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.activations, m.rejected, inFlight, limit} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("server: register metrics: %w", err)
		}
	}
	for code := range 4 {
		m.activations.WithLabelValues(store.StatusName(code))
	}
	for _, reason := range []string{refusedConcurrent, refusedPerMinute, refusedBufferFull} {
		m.rejected.WithLabelValues(reason)
	}
	return m, nil
}

func (m *metrics) observe(method string, status int, d time.Duration) {
	m.requests.WithLabelValues(method, strconv.Itoa(status)).Inc()
	m.duration.Observe(d.Seconds())
}
