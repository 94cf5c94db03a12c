package policy

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/stemcell-io/stemcell/config"
)

// ErrInvalid is wrapped by the errors for options a policy refuses.
var ErrInvalid = errors.New("invalid policy option")

// Options are the knobs of every policy; DefaultOptions gives the
// published defaults. Errors name a knob by the kebab-case key shown in
// each field's comment, relative to wherever the caller maps them.
type Options struct {
	// PauseGrace (pause-grace): every keep-alive policy pauses an idle
	// container this long after its last job ended, as OpenWhisk does;
	// pausing saves CPU, not memory. >= 0. Default 10 s
	// (container-proxy.timeouts.pause-grace).
	PauseGrace time.Duration
	OpenWhisk  OpenWhiskOptions
	GreedyDual GreedyDualOptions
	Hybrid     HybridOptions
}

// OpenWhiskOptions are the knobs of the openwhisk keep-alive policy.
type OpenWhiskOptions struct {
	// IdleContainer (openwhisk.idle-container): a paused container is
	// removed this long after its pause. > 0. Default 10 min
	// (container-proxy.timeouts.idle-container).
	IdleContainer time.Duration
}

// GreedyDualOptions are the knobs of the greedy-dual policies.
type GreedyDualOptions struct {
	// DefaultCost (greedy-dual.default-cost) is the cold-start cost assumed
	// for an action until both a cold and a warm run of it were measured.
	// > 0. Default 250 ms, about a cold start of a container on Docker on
	// our machines (reference/docker-engine.md: 187-310 ms).
	DefaultCost time.Duration
	// KeepAlive (greedy-dual.keep-alive): the greedy-dual keep-alive policy
	// removes an idle container this long after its last job, a safety net
	// against containers nobody needs holding memory for ever; 0 keeps it
	// until it is evicted, as FaaSCache does. >= 0. Default 0.
	KeepAlive time.Duration
	// ClonesByRecency (greedy-dual.clone-priority: recency) ranks an
	// action's idle containers other than its most recently used one by
	// their action's last use alone, without the frequency term. FaaSCache
	// (false, clone-priority: full) gives every container of an action the
	// action's priority, so a frequent action's burst containers, once
	// idle, outrank the one container of every rarer action and stay for
	// ever: the cache analogy breaks with concurrency, as its authors note.
	ClonesByRecency bool
}

// HybridOptions are the knobs of the hybrid-histogram keep-alive policy,
// with the defaults of Serverless in the Wild (ATC'20) where it gives one.
type HybridOptions struct {
	// BinWidth (hybrid-histogram.bin-width): the width of a histogram bin.
	// > 0. Default 1 min.
	BinWidth time.Duration
	// Bins (hybrid-histogram.bins): how many bins; their span is the
	// histogram's range. >= 1. Default 240 (4 h of 1-minute bins).
	Bins int
	// HeadPercentile (hybrid-histogram.head-percentile): the idle-time
	// percentile whose bin's lower edge is the head. In (0, 100). Default 5.
	HeadPercentile float64
	// TailPercentile (hybrid-histogram.tail-percentile): the idle-time
	// percentile whose bin's upper edge is the tail. In (HeadPercentile,
	// 100]. Default 99.
	TailPercentile float64
	// Margin (hybrid-histogram.margin): the pre-warm window is the head
	// shortened by this share, the keep-alive window ends at the tail
	// lengthened by it. In [0, 1). Default 0.1.
	Margin float64
	// CVThreshold (hybrid-histogram.cv-threshold): a histogram whose bin
	// counts have a coefficient of variation below this is not
	// representative (idle times spread out) and the fixed keep-alive is
	// used. >= 0. Default 2.
	CVThreshold float64
	// MinObservations (hybrid-histogram.min-observations): with fewer idle
	// times recorded (in range or not) the fixed keep-alive is used. >= 1.
	// Default 10; the paper gives no number.
	MinObservations int
	// MaxOutOfBounds (hybrid-histogram.max-out-of-bounds): when at least
	// this share of the idle times fell beyond the range, the histogram says
	// nothing useful and OutOfBoundsKeepAlive is used (the paper fits ARIMA
	// there; this package does not). In (0, 1]. Default 0.5; the paper gives
	// no number.
	MaxOutOfBounds float64
	// FallbackKeepAlive (hybrid-histogram.fallback-keep-alive): the fixed
	// keep-alive, counted from the last job, for an action with too few
	// idle times or an unrepresentative histogram. > 0. Default: the
	// histogram's range (4 h), the paper's standard keep-alive.
	FallbackKeepAlive time.Duration
	// OutOfBoundsKeepAlive (hybrid-histogram.out-of-bounds-keep-alive): the
	// fixed keep-alive for an action with too many idle times beyond the
	// range. > 0. Default: the histogram's range, as FallbackKeepAlive.
	OutOfBoundsKeepAlive time.Duration
}

// Range is the span of the histogram, Bins × BinWidth.
func (o HybridOptions) Range() time.Duration { return time.Duration(o.Bins) * o.BinWidth }

// DefaultOptions are the knobs' defaults, each from its source: OpenWhisk's
// timeouts, FaaSCache (no timer), Serverless in the Wild's histogram.
func DefaultOptions() Options {
	return FromConfig(config.Default())
}

// FromConfig is the knobs of cfg: the pause grace and idle-container
// timeout of its container-proxy (so that the openwhisk policy is the
// pool's behaviour under the same configuration) and the keys under
// container-pool.greedy-dual and container-pool.hybrid-histogram; a nil
// cfg is the default configuration. The knob named "x" in an error of
// Validate is the key container-pool.x (pause-grace and
// openwhisk.idle-container are container-proxy.timeouts.pause-grace and
// .idle-container).
func FromConfig(cfg *config.Config) Options {
	if cfg == nil {
		cfg = config.Default()
	}
	g, h := cfg.ContainerPool.GreedyDual, cfg.ContainerPool.HybridHistogram
	return Options{
		PauseGrace: cfg.ContainerProxy.Timeouts.PauseGrace,
		OpenWhisk:  OpenWhiskOptions{IdleContainer: cfg.ContainerProxy.Timeouts.IdleContainer},
		GreedyDual: GreedyDualOptions{DefaultCost: g.DefaultCost, KeepAlive: g.KeepAlive, ClonesByRecency: g.ClonePriority == config.GreedyDualRecency},
		Hybrid: HybridOptions{
			BinWidth: h.BinWidth, Bins: h.Bins,
			HeadPercentile: h.HeadPercentile, TailPercentile: h.TailPercentile, Margin: h.Margin,
			CVThreshold: h.CVThreshold, MinObservations: h.MinObservations, MaxOutOfBounds: h.MaxOutOfBounds,
			FallbackKeepAlive: h.FallbackKeepAlive, OutOfBoundsKeepAlive: h.OutOfBoundsKeepAlive,
		},
	}
}

// FromPoolConfig is the policy cfg's container-pool chooses
// (keep-alive-policy with eviction-policy) with the knobs of FromConfig.
func FromPoolConfig(cfg *config.Config) (*Policy, error) {
	if cfg == nil {
		cfg = config.Default()
	}
	return Compose(cfg.ContainerPool.KeepAlivePolicy, cfg.ContainerPool.EvictionPolicy, FromConfig(cfg))
}

// Validate reports every knob out of range, naming the knob, its value and
// the rule.
func (o Options) Validate() error {
	return errors.Join(o.validateCommon(), o.OpenWhisk.validate(), o.GreedyDual.validate(), o.Hybrid.validate())
}

func invalid(knob string, value any, rule string) error {
	return fmt.Errorf("policy: %s: %v is invalid: %s: %w", knob, value, rule, ErrInvalid)
}

func (o Options) validateCommon() error {
	if o.PauseGrace < 0 {
		return invalid("pause-grace", o.PauseGrace, "must be >= 0")
	}
	return nil
}

func (o OpenWhiskOptions) validate() error {
	if o.IdleContainer <= 0 {
		return invalid("openwhisk.idle-container", o.IdleContainer, "must be > 0")
	}
	return nil
}

func (o GreedyDualOptions) validate() error {
	var errs []error
	if o.DefaultCost <= 0 {
		errs = append(errs, invalid("greedy-dual.default-cost", o.DefaultCost, "must be > 0"))
	}
	if o.KeepAlive < 0 {
		errs = append(errs, invalid("greedy-dual.keep-alive", o.KeepAlive, "must be >= 0 (0: until evicted)"))
	}
	return errors.Join(errs...)
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func (o HybridOptions) validate() error {
	var errs []error
	add := func(knob string, value any, rule string) {
		errs = append(errs, invalid("hybrid-histogram."+knob, value, rule))
	}
	if o.BinWidth <= 0 {
		add("bin-width", o.BinWidth, "must be > 0")
	}
	if o.Bins < 1 {
		add("bins", o.Bins, "must be >= 1")
	}
	if !finite(o.HeadPercentile) || o.HeadPercentile <= 0 || o.HeadPercentile >= 100 {
		add("head-percentile", o.HeadPercentile, "must be in (0, 100)")
	}
	if !finite(o.TailPercentile) || o.TailPercentile <= o.HeadPercentile || o.TailPercentile > 100 {
		add("tail-percentile", o.TailPercentile, fmt.Sprintf("must be in (head-percentile %v, 100]", o.HeadPercentile))
	}
	if !finite(o.Margin) || o.Margin < 0 || o.Margin >= 1 {
		add("margin", o.Margin, "must be in [0, 1)")
	}
	if !finite(o.CVThreshold) || o.CVThreshold < 0 {
		add("cv-threshold", o.CVThreshold, "must be a finite number >= 0")
	}
	if o.MinObservations < 1 {
		add("min-observations", o.MinObservations, "must be >= 1")
	}
	if !finite(o.MaxOutOfBounds) || o.MaxOutOfBounds <= 0 || o.MaxOutOfBounds > 1 {
		add("max-out-of-bounds", o.MaxOutOfBounds, "must be in (0, 1]")
	}
	if o.FallbackKeepAlive <= 0 {
		add("fallback-keep-alive", o.FallbackKeepAlive, "must be > 0")
	}
	if o.OutOfBoundsKeepAlive <= 0 {
		add("out-of-bounds-keep-alive", o.OutOfBoundsKeepAlive, "must be > 0")
	}
	return errors.Join(errs...)
}
