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
	rejected    prometheus.Counter
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
		rejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "stemcell_api_admission_rejected_total", Help: "Invocations answered 429 by admission.",
		}),
	}
	inFlight := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "stemcell_api_activations_in_flight", Help: "Activations accepted and not yet finished.",
	}, func() float64 { return float64(a.count()) })
	limit := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "stemcell_api_admission_limit", Help: "Activations admitted beyond those running (concurrent-peek-factor sizing).",
	})
	limit.Set(float64(a.limit))
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.activations, m.rejected, inFlight, limit} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("server: register metrics: %w", err)
		}
	}
	for code := range 4 {
		m.activations.WithLabelValues(store.StatusName(code))
	}
	return m, nil
}

func (m *metrics) observe(method string, status int, d time.Duration) {
	m.requests.WithLabelValues(method, strconv.Itoa(status)).Inc()
	m.duration.Observe(d.Seconds())
}
