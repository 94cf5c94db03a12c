package config

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Keep-alive and eviction policy names (container-pool.keep-alive-policy,
// container-pool.eviction-policy). Package policy implements them; it
// imports this package, so the names are repeated there and a test in
// policy checks that both lists agree.
const (
	PolicyOpenWhisk       = "openwhisk"        // fixed TTL from the last use; LRU
	PolicyGreedyDual      = "greedy-dual"      // keep until evicted; Greedy-Dual order (FaaSCache)
	PolicyHybridHistogram = "hybrid-histogram" // per-action windows from idle times (Serverless in the Wild); keep-alive only
)

// KeepAlivePolicies and EvictionPolicies are the names each key accepts.
var (
	KeepAlivePolicies = []string{PolicyOpenWhisk, PolicyGreedyDual, PolicyHybridHistogram}
	EvictionPolicies  = []string{PolicyOpenWhisk, PolicyGreedyDual}
)

// GreedyDualConfig holds the knobs of the greedy-dual policies
// (container-pool.greedy-dual).
type GreedyDualConfig struct {
	// DefaultCost is the cold-start cost assumed for an action until a cold
	// and a warm run of it were measured.
	DefaultCost time.Duration `koanf:"default-cost"`
	// KeepAlive removes an idle container this long after its last job
	// under the greedy-dual keep-alive policy; 0 keeps it until evicted.
	KeepAlive time.Duration `koanf:"keep-alive"`
	// ClonePriority ranks an action's idle containers other than its most
	// recently used one: GreedyDualFull (FaaSCache: each with the action's
	// priority) or GreedyDualRecency (by recency alone).
	ClonePriority string `koanf:"clone-priority"`
}

// The values of container-pool.greedy-dual.clone-priority.
const (
	GreedyDualFull    = "full"
	GreedyDualRecency = "recency"
)

// HybridHistogramConfig holds the knobs of the hybrid-histogram keep-alive
// policy (container-pool.hybrid-histogram).
type HybridHistogramConfig struct {
	BinWidth             time.Duration `koanf:"bin-width"`
	Bins                 int           `koanf:"bins"`
	HeadPercentile       float64       `koanf:"head-percentile"`
	TailPercentile       float64       `koanf:"tail-percentile"`
	Margin               float64       `koanf:"margin"`
	CVThreshold          float64       `koanf:"cv-threshold"`
	MinObservations      int           `koanf:"min-observations"`
	MaxOutOfBounds       float64       `koanf:"max-out-of-bounds"`
	FallbackKeepAlive    time.Duration `koanf:"fallback-keep-alive"`
	OutOfBoundsKeepAlive time.Duration `koanf:"out-of-bounds-keep-alive"`
}

// Range is the span of the histogram, Bins × BinWidth.
func (h HybridHistogramConfig) Range() time.Duration { return time.Duration(h.Bins) * h.BinWidth }

// defaultGreedyDual and defaultHybridHistogram are the published defaults:
// FaaSCache keeps containers until evicted; Serverless in the Wild uses
// 1-minute bins over 4 hours, the 5th and 99th percentiles, 10 % margins
// and a CV threshold of 2. The cost default is a cold start on Docker on
// our machines (reference/docker-engine.md); min-observations and
// max-out-of-bounds are ours (the paper gives no number).
func defaultGreedyDual() GreedyDualConfig {
	return GreedyDualConfig{DefaultCost: 250 * time.Millisecond, ClonePriority: GreedyDualFull}
}

func defaultHybridHistogram() HybridHistogramConfig {
	return HybridHistogramConfig{
		BinWidth: time.Minute, Bins: 240,
		HeadPercentile: 5, TailPercentile: 99, Margin: 0.1,
		CVThreshold: 2, MinObservations: 10, MaxOutOfBounds: 0.5,
		FallbackKeepAlive: 4 * time.Hour, OutOfBoundsKeepAlive: 4 * time.Hour,
	}
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// validatePolicies checks the policy names and every knob, whether or not
// the chosen policies use it, so that a bad value is found before someone
// switches policies. The rules are policy.Options.Validate's.
func (p *ContainerPoolConfig) validatePolicies(k string, errs *Errors) {
	oneOf := func(key, v string, names []string) {
		for _, n := range names {
			if v == n {
				return
			}
		}
		errs.invalid(key, v, "must be one of "+strings.Join(names, ", "))
	}
	oneOf(k+".keep-alive-policy", p.KeepAlivePolicy, KeepAlivePolicies)
	oneOf(k+".eviction-policy", p.EvictionPolicy, EvictionPolicies)

	g := p.GreedyDual
	if g.DefaultCost <= 0 {
		errs.invalid(k+".greedy-dual.default-cost", g.DefaultCost, "must be > 0")
	}
	if g.KeepAlive < 0 {
		errs.invalid(k+".greedy-dual.keep-alive", g.KeepAlive, "must be >= 0 (0: until evicted)")
	}
	oneOf(k+".greedy-dual.clone-priority", g.ClonePriority, []string{GreedyDualFull, GreedyDualRecency})

	h := p.HybridHistogram
	hk := k + ".hybrid-histogram."
	if h.BinWidth <= 0 {
		errs.invalid(hk+"bin-width", h.BinWidth, "must be > 0")
	}
	if h.Bins < 1 {
		errs.invalid(hk+"bins", h.Bins, "must be >= 1")
	}
	if !finite(h.HeadPercentile) || h.HeadPercentile <= 0 || h.HeadPercentile >= 100 {
		errs.invalid(hk+"head-percentile", h.HeadPercentile, "must be in (0, 100)")
	}
	if !finite(h.TailPercentile) || h.TailPercentile <= h.HeadPercentile || h.TailPercentile > 100 {
		errs.invalid(hk+"tail-percentile", h.TailPercentile, fmt.Sprintf("must be in (head-percentile %v, 100]", h.HeadPercentile))
	}
	if !finite(h.Margin) || h.Margin < 0 || h.Margin >= 1 {
		errs.invalid(hk+"margin", h.Margin, "must be in [0, 1)")
	}
	if !finite(h.CVThreshold) || h.CVThreshold < 0 {
		errs.invalid(hk+"cv-threshold", h.CVThreshold, "must be a finite number >= 0")
	}
	if h.MinObservations < 1 {
		errs.invalid(hk+"min-observations", h.MinObservations, "must be >= 1")
	}
	if !finite(h.MaxOutOfBounds) || h.MaxOutOfBounds <= 0 || h.MaxOutOfBounds > 1 {
		errs.invalid(hk+"max-out-of-bounds", h.MaxOutOfBounds, "must be in (0, 1]")
	}
	if h.FallbackKeepAlive <= 0 {
		errs.invalid(hk+"fallback-keep-alive", h.FallbackKeepAlive, "must be > 0")
	}
	if h.OutOfBoundsKeepAlive <= 0 {
		errs.invalid(hk+"out-of-bounds-keep-alive", h.OutOfBoundsKeepAlive, "must be > 0")
	}
}
