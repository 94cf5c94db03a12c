package policy

import (
	"errors"
	"time"

	"github.com/stemcell-io/stemcell/config"
)

// GreedyDualKeepAlive is FaaSCache's keep-alive: there is no timer, a
// container stays loaded until the eviction order removes it to make room
// (optionally until a long safety TTL, GreedyDualOptions.KeepAlive). It
// pauses after the pause grace as every policy does.
type GreedyDualKeepAlive struct {
	pauseGrace, keepAlive time.Duration
}

// NewGreedyDualKeepAlive checks o.PauseGrace and o.GreedyDual.
func NewGreedyDualKeepAlive(o Options) (*GreedyDualKeepAlive, error) {
	if err := errors.Join(o.validateCommon(), o.GreedyDual.validate()); err != nil {
		return nil, err
	}
	return &GreedyDualKeepAlive{pauseGrace: o.PauseGrace, keepAlive: o.GreedyDual.KeepAlive}, nil
}

func (*GreedyDualKeepAlive) Name() string { return GreedyDual }

// Observe learns nothing: memory pressure alone removes containers.
func (*GreedyDualKeepAlive) Observe(*Stats, time.Duration) {}

// Idle pauses at LastUsed + PauseGrace and never removes, or removes at
// LastUsed + KeepAlive when that knob is set.
func (k *GreedyDualKeepAlive) Idle(_ time.Time, c Container) Plan {
	return fixedPlan(c.LastUsed, k.pauseGrace, k.keepAlive)
}

// PreWarm never loads ahead.
func (*GreedyDualKeepAlive) PreWarm(time.Time, *Stats) Window { return Window{} }

// fixedPlan pauses grace after last and removes keep after last (never
// when keep is 0); no pause when the removal comes first.
func fixedPlan(last time.Time, grace, keep time.Duration) Plan {
	if keep == 0 {
		return Plan{PauseAt: last.Add(grace)}
	}
	if grace >= keep {
		return Plan{RemoveAt: last.Add(keep)}
	}
	return Plan{PauseAt: last.Add(grace), RemoveAt: last.Add(keep)}
}

// GreedyDualEviction is FaaSCache's Greedy-Dual order. An idle container's
// priority is
//
//	UseClock + Frequency × cost / memory
//
// with UseClock the eviction clock when its action was last started,
// Frequency the action's activations since it last had no container, cost
// its cold-start cost in milliseconds (Stats.ColdCost, or DefaultCost until
// measured) and memory the container's, in MiB. The lowest priority goes
// first, so what is frequent, costly to start and small stays. Each
// eviction raises the clock to the victim's priority, so containers used
// since then outrank those that were not: recency without a timer.
type GreedyDualEviction struct {
	clock       float64
	defaultCost time.Duration
	byRecency   bool // GreedyDualOptions.ClonesByRecency
	r           ranker
}

// NewGreedyDualEviction checks o.GreedyDual.
func NewGreedyDualEviction(o Options) (*GreedyDualEviction, error) {
	if err := o.GreedyDual.validate(); err != nil {
		return nil, err
	}
	return &GreedyDualEviction{defaultCost: o.GreedyDual.DefaultCost, byRecency: o.GreedyDual.ClonesByRecency}, nil
}

func (*GreedyDualEviction) Name() string { return GreedyDual }

// Clock is the eviction clock: the highest priority evicted so far.
func (g *GreedyDualEviction) Clock() float64 { return g.clock }

// Started stamps the action with the clock.
func (g *GreedyDualEviction) Started(st *Stats) { st.UseClock = g.clock }

// Evicted raises the clock to c's priority.
func (g *GreedyDualEviction) Evicted(c Container) {
	if c.StemCell || c.Stats == nil {
		return
	}
	g.clock = max(g.clock, g.Priority(&c))
}

// Priority is c's priority as defined on the type; a stem cell's is 0.
// With ClonesByRecency, a container of an action that ended a job after
// c's last one (not its most recently used) has its action's UseClock.
func (g *GreedyDualEviction) Priority(c *Container) float64 {
	st := c.Stats
	if c.StemCell || st == nil {
		return 0
	}
	if g.byRecency && clone(c) {
		// Its action's last use, as LRU ranks; an eviction of it does
		// not raise the clock (UseClock is at most the clock).
		return st.UseClock
	}
	cost, ok := st.ColdCost()
	if !ok {
		cost = g.defaultCost
	}
	// A container of no memory would divide by zero; count it as 1 MiB.
	mem := max(c.Memory, config.MB)
	ms := float64(cost) / float64(time.Millisecond)
	return st.UseClock + float64(st.Frequency)*ms/mem.MiB()
}

// Order sorts by priority, the lowest first; equal priorities (containers
// of one action) least recently used first.
func (g *GreedyDualEviction) Order(dst []int, cs []Container) []int {
	return g.r.order(dst, cs, g.priority)
}

func (g *GreedyDualEviction) priority(_ int, c *Container) float64 { return g.Priority(c) }

// clone reports whether c is a container of an action that ended a job
// after c's last one: not the action's most recently used container.
func clone(c *Container) bool {
	return c.Stats != nil && c.LastUsed.Before(c.Stats.LastEnd)
}
