package prewarm

import (
	"errors"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stemcell-io/stemcell/config"
)

// metrics are created once per Props, not per actor instance, so that a
// restarted scheduler keeps counting into the same series.
type metrics struct {
	stockCount   *prometheus.GaugeVec   // kind, memory_mb, state
	stockMB      *prometheus.GaugeVec   // kind, memory_mb, state
	creations    *prometheus.CounterVec // kind, memory_mb
	failures     *prometheus.CounterVec // kind, memory_mb
	expiries     *prometheus.CounterVec // kind, memory_mb
	coldStarts   *prometheus.CounterVec // kind, memory_mb
	unhealthy    *prometheus.CounterVec // kind, memory_mb
	refusals     *prometheus.CounterVec // kind, memory_mb
	queueLength  prometheus.Gauge
	retryStopped prometheus.Gauge
}

// Stock states: ready in the pool, being created (memory asked or container
// starting), queued behind the throttle.
const (
	stateReady    = "ready"
	stateCreating = "creating"
	stateQueued   = "queued"
)

func newMetrics(reg prometheus.Registerer) *metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	kl := []string{"kind", "memory_mb"}
	m := &metrics{
		stockCount: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "stemcell_prewarm_stock_containers",
			Help: "Stem cells by kind, memory and state (ready, creating, queued).",
		}, []string{"kind", "memory_mb", "state"}),
		stockMB: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "stemcell_prewarm_stock_megabytes",
			Help: "Memory of the stem cells by kind, memory and state, in MB.",
		}, []string{"kind", "memory_mb", "state"}),
		creations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stemcell_prewarm_creations_total",
			Help: "Stem cell creations started (memory granted, container requested).",
		}, kl),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stemcell_prewarm_creation_failures_total",
			Help: "Stem cell creations that failed.",
		}, kl),
		expiries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stemcell_prewarm_expiries_total",
			Help: "Stem cells removed because their reactive TTL passed.",
		}, kl),
		coldStarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stemcell_prewarm_cold_starts_total",
			Help: "Cold starts of a kind and memory that has stem cells, one per cold start.",
		}, kl),
		unhealthy: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stemcell_prewarm_unhealthy_total",
			Help: "Stem cells removed after failing the TCP health check max-fails times in a row.",
		}, kl),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stemcell_prewarm_memory_refusals_total",
			Help: "Memory reservations the pool refused for a stem cell.",
		}, kl),
		queueLength: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "stemcell_prewarm_throttle_queue_length",
			Help: "Stem cell creations waiting for the creation throttle.",
		}),
		retryStopped: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "stemcell_prewarm_retry_stopped",
			Help: "1 while backfill is stopped by prewarm-max-retry-limit until the next check.",
		}),
	}
	m.stockCount = register(reg, m.stockCount)
	m.stockMB = register(reg, m.stockMB)
	m.creations = register(reg, m.creations)
	m.failures = register(reg, m.failures)
	m.expiries = register(reg, m.expiries)
	m.coldStarts = register(reg, m.coldStarts)
	m.unhealthy = register(reg, m.unhealthy)
	m.refusals = register(reg, m.refusals)
	m.queueLength = register(reg, m.queueLength)
	m.retryStopped = register(reg, m.retryStopped)
	return m
}

// register adds c to reg, or returns the collector already registered under
// the same description (two pools sharing the default registry).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic("prewarm: registering metrics: " + err.Error())
	}
	return c
}

func keyLabels(k Key) prometheus.Labels {
	return prometheus.Labels{"kind": k.Kind, "memory_mb": strconv.FormatInt(int64(k.Memory/config.MB), 10)}
}

func (m *metrics) forKey(v *prometheus.CounterVec, k Key) prometheus.Counter {
	return v.With(keyLabels(k))
}

// setStock publishes the stock of one key in one state.
func (m *metrics) setStock(k Key, state string, n int) {
	l := keyLabels(k)
	l["state"] = state
	m.stockCount.With(l).Set(float64(n))
	m.stockMB.With(l).Set(float64(n) * float64(k.Memory/config.MB))
}
