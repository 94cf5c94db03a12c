package sim

import (
	"math"
	"slices"
	"sync"
	"time"

	"github.com/stemcell-io/stemcell/actors"
)

// Result holds the figures of one simulated run, as the literature defines
// them (reference/policies.md §5.3). Every figure is a deterministic
// function of the workload, the configuration and the seed.
type Result struct {
	Activations int `json:"activations"`
	// Starts by kind: warm, prewarmed, cold, recreated; Errors are
	// activations that did not succeed (refused by the pool included).
	Starts map[string]int `json:"starts"`
	Errors int            `json:"errors"`

	// ColdPercent is (cold + recreated) / activations started, in %.
	ColdPercent float64 `json:"cold_percent"`
	// PrewarmedPercent is prewarmed / activations started, in %: starts a
	// stem cell served, counted apart from the cold ones.
	PrewarmedPercent float64 `json:"prewarmed_percent"`
	// ColdPercentP75Action is the 75th percentile across the invoked
	// actions of each action's own cold-start % (Serverless in the Wild's
	// "3rd quartile app cold start"); P50 and P90 beside it.
	ColdPercentP50Action float64 `json:"cold_percent_p50_action"`
	ColdPercentP75Action float64 `json:"cold_percent_p75_action"`
	ColdPercentP90Action float64 `json:"cold_percent_p90_action"`
	// ActionColdPercent is every invoked action's cold-start %, sorted
	// ascending: the per-action distribution.
	ActionColdPercent []float64 `json:"action_cold_percent"`

	// WastedGBs is the memory time of containers loaded but doing no work
	// (idle warm, paused, ready stem cells, being removed), in GB·s;
	// LoadedGBs is all loaded memory time. Both are integrated over the
	// simulated time from the first arrival to the end of the workload (or
	// the last result, if later).
	WastedGBs   float64 `json:"wasted_gb_s"`
	LoadedGBs   float64 `json:"loaded_gb_s"`
	PeakMemMB   float64 `json:"peak_memory_mb"`
	SimulatedS  float64 `json:"simulated_s"`
	MeanWasteMB float64 `json:"mean_wasted_mb"`

	// AddedExecPercent is FaaSCache's "increase in execution time": the
	// start overhead summed over all activations (latency − execution −
	// queueing) over the summed execution time, in %.
	AddedExecPercent float64 `json:"added_exec_percent"`
	// Queueing is the time an activation waited for a container beyond the
	// engine's own start work: the pool's wait time (arrival to the start
	// of /init or /run) less the creation latency for a cold start.
	QueueMeanMS float64 `json:"queue_mean_ms"`
	QueueP99MS  float64 `json:"queue_p99_ms"`
	// Latency is arrival to result.
	LatencyP50MS float64 `json:"latency_p50_ms"`
	LatencyP99MS float64 `json:"latency_p99_ms"`

	Evictions int `json:"evictions"`
	// ScaleOutPercent is the share of the containers created for an
	// action while another container of it was alive and not being
	// removed (busy, most likely): cold starts of concurrency, which no keep-alive policy saves
	// (reference/policies.md §5.6). Creations counts them all.
	Creations       int     `json:"creations"`
	ScaleOutPercent float64 `json:"scale_out_percent"`
}

// recorder accumulates the figures as activations finish; it keeps no
// per-activation record, only per-action counters and two histograms.
type recorder struct {
	mu      sync.Mutex
	create  time.Duration // the engine's creation latency, not queueing
	perFn   []fnCounts
	starts  map[string]int
	errors  int
	n       int
	execSum time.Duration
	overSum time.Duration
	queue   logHistogram
	latency logHistogram
	qSum    time.Duration
}

type fnCounts struct{ started, cold int }

func newRecorder(functions int, create time.Duration) *recorder {
	return &recorder{create: create, perFn: make([]fnCounts, functions), starts: map[string]int{}}
}

// record adds one answered activation of function fn that ran for exec
// and was answered latency after its arrival. Every figure is a sum or a
// count, so the order answers come in does not change the result.
func (r *recorder) record(fn int, exec, latency time.Duration, res actors.Result, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	if err != nil || res.Status != 0 {
		r.errors++
	}
	if err != nil || res.StartKind == "" {
		return
	}
	kind := string(res.StartKind)
	r.starts[kind]++
	r.perFn[fn].started++
	cold := res.StartKind == actors.StartCold || res.StartKind == actors.StartRecreated
	if cold {
		r.perFn[fn].cold++
	}
	queue := res.WaitTime
	if cold {
		queue -= r.create
	}
	queue = max(queue, 0)
	r.qSum += queue
	r.queue.add(queue)
	r.latency.add(latency)
	r.execSum += exec
	r.overSum += max(latency-exec-queue, 0)
}

func (r *recorder) result() Result {
	started := 0
	for _, c := range r.starts {
		started += c
	}
	res := Result{Activations: r.n, Starts: r.starts, Errors: r.errors}
	if started > 0 {
		cold := r.starts[string(actors.StartCold)] + r.starts[string(actors.StartRecreated)]
		res.ColdPercent = 100 * float64(cold) / float64(started)
		res.PrewarmedPercent = 100 * float64(r.starts[string(actors.StartPrewarmed)]) / float64(started)
		res.QueueMeanMS = ms(r.qSum) / float64(started)
	}
	for _, c := range r.perFn {
		if c.started > 0 {
			res.ActionColdPercent = append(res.ActionColdPercent, 100*float64(c.cold)/float64(c.started))
		}
	}
	slices.Sort(res.ActionColdPercent)
	res.ColdPercentP50Action = Percentile(res.ActionColdPercent, 50)
	res.ColdPercentP75Action = Percentile(res.ActionColdPercent, 75)
	res.ColdPercentP90Action = Percentile(res.ActionColdPercent, 90)
	if r.execSum > 0 {
		res.AddedExecPercent = 100 * float64(r.overSum) / float64(r.execSum)
	}
	res.QueueP99MS = ms(r.queue.quantile(0.99))
	res.LatencyP50MS = ms(r.latency.quantile(0.50))
	res.LatencyP99MS = ms(r.latency.quantile(0.99))
	return res
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Percentile is the p-th percentile (0..100) of sorted values by the
// nearest-rank rule (the value of rank ceil(p·n/100)); 0 for none.
func Percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// logHistogram counts durations in buckets 2 % wide from 1 µs up, so a
// quantile costs no per-activation storage and is off by at most 2 %.
type logHistogram struct {
	counts []uint64
	zero   uint64 // durations under 1 µs
	total  uint64
}

const histGrowth = 1.02

func (h *logHistogram) add(d time.Duration) {
	h.total++
	if d < time.Microsecond {
		h.zero++
		return
	}
	i := int(math.Log(float64(d)/float64(time.Microsecond)) / math.Log(histGrowth))
	if i >= len(h.counts) {
		h.counts = append(h.counts, make([]uint64, i+1-len(h.counts))...)
	}
	h.counts[i]++
}

// quantile is the upper edge of the bucket holding the q-th quantile.
func (h *logHistogram) quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.total)))
	seen := h.zero
	if seen >= rank {
		return 0
	}
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(float64(time.Microsecond) * math.Pow(histGrowth, float64(i+1)))
		}
	}
	return time.Duration(float64(time.Microsecond) * math.Pow(histGrowth, float64(len(h.counts))))
}
