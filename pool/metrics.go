package pool

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/factory"
)

// metrics are the pool's Prometheus series (reference §8 in Prometheus
// style). Per-activation updates are pre-resolved counters and one
// histogram, so the hot path pays no label lookups; gauges are set on the
// memory-sync tick only.
type metrics struct {
	startedBy   [4]prometheus.Counter // cold, prewarmed, warm, recreated
	warmTier    [numTiers]prometheus.Counter
	wait        prometheus.Histogram
	buffered    prometheus.Counter
	rescheduled prometheus.Counter
	evictions   prometheus.Counter
	crashes     prometheus.Counter
	rejectedBy  *prometheus.CounterVec
	container   containerCounters
	memory      *prometheus.GaugeVec
	containers  *prometheus.GaugeVec
	bufferLen   prometheus.Gauge
	bufferMem   prometheus.Gauge

	// The policies (setPolicy): which ones, the evictions through the
	// eviction order labelled with its name, and the pre-loads by outcome.
	policyInfo      *prometheus.GaugeVec
	evictionsBy     *prometheus.CounterVec
	evictedByPolicy prometheus.Counter
	preloads        [numPreloadOutcomes]prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, pool string) (*metrics, error) {
	labels := prometheus.Labels{"pool": pool}
	opts := func(name, help string) prometheus.Opts {
		return prometheus.Opts{Namespace: "stemcell", Subsystem: "pool", Name: name, Help: help, ConstLabels: labels}
	}
	started := prometheus.NewCounterVec(prometheus.CounterOpts(opts("activations_started_total",
		"Activations placed on a container, by how the container started.")), []string{"start"})
	warm := prometheus.NewCounterVec(prometheus.CounterOpts(opts("warm_placements_total",
		"Activations placed on a container of their identity, by its state (warmed, warming, warmingCold).")), []string{"state"})
	wait := prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "stemcell", Subsystem: "pool", Name: "wait_seconds",
		Help: "Time from arrival to placement on a container.", ConstLabels: labels,
		Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10)})
	m := &metrics{
		wait: wait,
		buffered: prometheus.NewCounter(prometheus.CounterOpts(opts("activations_buffered_total",
			"Activations that had to wait in the buffer (OpenWhisk's rescheduledActivation)."))),
		rescheduled: prometheus.NewCounter(prometheus.CounterOpts(opts("activations_rescheduled_total",
			"Activations bounced back by a container and placed again."))),
		evictions: prometheus.NewCounter(prometheus.CounterOpts(opts("evictions_total",
			"Idle warm containers removed to make room."))),
		crashes: prometheus.NewCounter(prometheus.CounterOpts(opts("crashes_total",
			"Panics of the pool actor it recovered from: the callers it held were answered and its containers removed."))),
		rejectedBy: prometheus.NewCounterVec(prometheus.CounterOpts(opts("activations_rejected_total",
			"Activations answered with an error by the pool itself, by reason.")), []string{"reason"}),
		memory: prometheus.NewGaugeVec(prometheus.GaugeOpts(opts("memory_bytes",
			"User memory by container state; free is what is neither held nor promised.")), []string{"state"}),
		containers: prometheus.NewGaugeVec(prometheus.GaugeOpts(opts("containers",
			"Containers by state.")), []string{"state"}),
		bufferLen: prometheus.NewGauge(prometheus.GaugeOpts(opts("buffer_activations",
			"Activations waiting in the buffer."))),
		bufferMem: prometheus.NewGauge(prometheus.GaugeOpts(opts("buffer_memory_bytes",
			"Memory the buffered activations need."))),
		policyInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts(opts("policy_info",
			"1 for the pool's keep-alive and eviction policies (container-pool.keep-alive-policy, eviction-policy).")), []string{"keep_alive", "eviction"}),
		evictionsBy: prometheus.NewCounterVec(prometheus.CounterOpts(opts("policy_evictions_total",
			"Idle containers (and stem cells) removed for memory in the order of the eviction policy, by policy.")), []string{"policy"}),
	}
	preloads := prometheus.NewCounterVec(prometheus.CounterOpts(opts("preloads_total",
		"Containers loaded ahead of an action's next call by the keep-alive policy, by outcome: created, used by a job, unloaded unused when the window closed, evicted unused for memory, skipped (no room, work waiting, or a container of the action exists).")), []string{"outcome"})
	for i, o := range preloadOutcomes {
		m.preloads[i] = preloads.WithLabelValues(o)
	}
	results := prometheus.NewCounterVec(prometheus.CounterOpts(opts("results_total",
		"Results of activations that ran (or were answered by their container), by status (0 success, 1 application error, 2 developer error, 3 internal error); counted by the container actor, so results sent to raw Run messages count too.")), []string{"status"})
	for i, k := range startKinds {
		m.startedBy[i] = started.WithLabelValues(string(k))
	}
	for t := tier(0); t < numTiers; t++ {
		m.warmTier[t] = warm.WithLabelValues(t.String())
	}
	for s := range m.container.results {
		m.container.results[s] = results.WithLabelValues(strconv.Itoa(s))
	}
	transitions := prometheus.NewCounterVec(prometheus.CounterOpts(opts("container_transitions_total",
		"State transitions of the container actors, by state left and state entered.")), []string{"from", "to"})
	for from := containerState(0); from < numContainerStates; from++ {
		for to := containerState(0); to < numContainerStates; to++ {
			if allowedTransitions[from].has(to) {
				m.container.transitions[from][to] = transitions.WithLabelValues(from.String(), to.String())
			}
		}
	}
	m.container.refused = prometheus.NewCounterVec(prometheus.CounterOpts(opts("container_illegal_transitions_total",
		"State transitions the container actors refused as illegal (a bug), by state and refused target.")), []string{"from", "to"})
	for _, c := range []prometheus.Collector{started, warm, wait, m.buffered, m.rescheduled, m.evictions, m.crashes, m.rejectedBy,
		results, transitions, m.container.refused, m.memory, m.containers, m.bufferLen, m.bufferMem,
		m.policyInfo, m.evictionsBy, preloads} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

var startKinds = [4]actors.StartKind{actors.StartCold, actors.StartPrewarmed, actors.StartWarm, actors.StartRecreated}

func (m *metrics) started(kind actors.StartKind, wait time.Duration) {
	for i, k := range startKinds {
		if k == kind {
			m.startedBy[i].Inc()
			break
		}
	}
	m.wait.Observe(wait.Seconds())
}

func (m *metrics) rejected(reason string) { m.rejectedBy.WithLabelValues(reason).Inc() }

// setPolicy names the pool's policies in the info gauge and the eviction
// counter.
func (m *metrics) setPolicy(keepAlive, eviction string) {
	m.policyInfo.Reset()
	m.policyInfo.WithLabelValues(keepAlive, eviction).Set(1)
	m.evictedByPolicy = m.evictionsBy.WithLabelValues(eviction)
}

// containerCounters are what every container actor counts: results by
// status and its state transitions. The pool hands them to every container
// actor (containerParams.Results): a container answers its callers
// directly, so that is the one place every result passes, and its state
// machine is the one place every transition passes. The counters of the
// allowed transitions are resolved once, so a transition on the warm path
// pays no label lookup.
type containerCounters struct {
	results     [4]prometheus.Counter
	transitions [numContainerStates][numContainerStates]prometheus.Counter // nil where not allowed
	refused     *prometheus.CounterVec
}

// inc counts one result; nil counts nothing (a pool without metrics).
func (c *containerCounters) inc(s factory.Status) {
	if c != nil && s >= 0 && int(s) < len(c.results) {
		c.results[s].Inc()
	}
}

// transition counts an allowed state transition.
func (c *containerCounters) transition(from, to containerState) {
	if c != nil {
		if n := c.transitions[from][to]; n != nil {
			n.Inc()
		}
	}
}

// illegal counts a transition the state machine refused.
func (c *containerCounters) illegal(from, to containerState) {
	if c != nil && c.refused != nil {
		c.refused.WithLabelValues(from.String(), to.String()).Inc()
	}
}

// results is what the pool passes its container actors.
func (m *metrics) results() *containerCounters {
	if m == nil {
		return nil
	}
	return &m.container
}

func (m *metrics) observe(s *actors.MemorySnapshot) {
	set := func(state string, u actors.Usage) {
		m.memory.WithLabelValues(state).Set(float64(u.Memory))
		m.containers.WithLabelValues(state).Set(float64(u.Count))
	}
	set("busy", s.Busy)
	set("idle", s.Idle)
	set("prewarmed", s.Prewarmed)
	set("starting", s.Starting)
	set("removing", s.Removing)
	m.memory.WithLabelValues("free").Set(float64(s.Free))
	m.bufferLen.Set(float64(s.Buffered.Count))
	m.bufferMem.Set(float64(s.Buffered.Memory))
}
