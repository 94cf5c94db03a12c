package pool

import (
	"cmp"
	"fmt"
	"iter"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/internal/protocol"
	"github.com/stemcell-io/stemcell/policy"
)

// The pool's side of package policy (container-pool.keep-alive-policy and
// eviction-policy). The pool owns one policy.Policy and one policy.Stats
// per action identity and reports to them: an activation placed (Started),
// a job done (Finished), a container gone idle or paused (Idle: its plan
// goes to the container as protocol.KeepAlive), memory short (Order: the
// order in which idle containers are evicted), a container removed
// (Removed), and an action with nothing running (PreWarm: preload.go).

// actionState is what the pool keeps per action identity for its
// policies. It outlives the action's containers, so that what a policy
// learnt (idle times, cold and warm durations) survives a cold start; it
// is dropped once the action has had no container and no activation for
// actionRetention (sweepActions).
type actionState struct {
	ident actors.Identity
	st    policy.Stats
	// spec is what a container loaded ahead of the action's next call is
	// created from (preload.go); set by its first container.
	spec    preloadSpec
	hasSpec bool
	// window is the pre-load planned, zero LoadAt: none.
	window policy.Window
	// seen is when the action last started or finished an activation.
	seen time.Time
}

// policies is the pool's policy state.
type policies struct {
	pol *policy.Policy
	// builtIn is what a container does without a plan from the pool: the
	// openwhisk keep-alive with the configuration's timeouts. A plan equal
	// to its plan is not sent.
	builtIn   *policy.OpenWhiskKeepAlive
	actions   map[actors.Identity]*actionState
	retention time.Duration
	nextSweep time.Time

	// preloaded are the containers loaded ahead that no job used yet, and
	// their memory: evictable as idle containers are (preload.go).
	preloaded    []*entry
	preloadedMem config.ByteSize

	// Scratch of Order, kept to spare allocations.
	cs  []policy.Container
	es  []*entry
	idx []int
}

// newPolicies builds the configured policies. An empty name is openwhisk
// (a configuration built by hand rather than loaded). The openwhisk
// timeouts are clamped to what the policy accepts: the container's own
// timers use the configuration as it is, and the pool only compares plans
// with them.
func newPolicies(cfg *config.Config) (policies, error) {
	o := policy.FromConfig(cfg)
	o.PauseGrace = max(o.PauseGrace, 0)
	o.OpenWhisk.IdleContainer = max(o.OpenWhisk.IdleContainer, time.Nanosecond)
	ka := cmp.Or(cfg.ContainerPool.KeepAlivePolicy, config.PolicyOpenWhisk)
	ev := cmp.Or(cfg.ContainerPool.EvictionPolicy, config.PolicyOpenWhisk)
	builtIn, err := policy.NewOpenWhiskKeepAlive(o)
	if err != nil {
		return policies{}, err
	}
	pol, err := policy.Compose(ka, ev, o)
	if err != nil {
		return policies{}, fmt.Errorf("container-pool.keep-alive-policy %q with container-pool.eviction-policy %q: %w", ka, ev, err)
	}
	return policies{
		pol:       pol,
		builtIn:   builtIn,
		actions:   map[actors.Identity]*actionState{},
		retention: actionRetention(o),
	}, nil
}

// actionRetention is how long an action's statistics are kept once it has
// no container and no activation: twice the hybrid histogram's range (8 h
// by default; an idle time beyond the range only counts as out of bounds),
// at least an hour.
func actionRetention(o policy.Options) time.Duration {
	return max(2*o.Hybrid.Range(), time.Hour)
}

// actionFor is the state of ident, made on first use.
func (p *poolActor) actionFor(ident actors.Identity) *actionState {
	a := p.pols.actions[ident]
	if a == nil {
		a = &actionState{ident: ident}
		p.pols.actions[ident] = a
	}
	return a
}

// policyStart is how package policy names a start kind; a job whose kind
// the container did not report is measured as nothing.
func policyStart(k actors.StartKind) policy.Start {
	switch k {
	case actors.StartWarm:
		return policy.StartWarm
	case actors.StartPrewarmed:
		return policy.StartPrewarmed
	case actors.StartCold, actors.StartRecreated:
		return policy.StartCold
	}
	return policy.NumStarts
}

// started reports a job placed on e.
func (p *poolActor) started(e *entry, job *pending, kind actors.StartKind) {
	a := e.act
	if a == nil {
		return
	}
	p.pols.pol.Started(&a.st, job.act.Arrived, policyStart(kind))
	a.seen = job.act.Arrived
	if !a.window.LoadAt.IsZero() {
		// The call the pre-load was for came (or one before it).
		p.timers.Disarm(preloadKey{a})
		a.window = policy.Window{}
	}
}

// finished reports a job done on e at at, as the container measured it: a
// warm run by its /run time, a cold one from the container's creation on.
func (p *poolActor) finished(e *entry, m *protocol.JobDone, at time.Time) {
	a := e.act
	if a == nil {
		return
	}
	start := policyStart(m.StartKind)
	d := m.RunTime
	if start == policy.StartCold && d > 0 && !e.created.IsZero() {
		d = at.Sub(e.created)
	}
	p.pols.pol.Finished(&a.st, at, start, d)
	a.seen = at
}

// notRun reports n jobs placed on e that will not finish there (bounced,
// or lost with its actor): they did not run.
func (p *poolActor) notRun(e *entry, n int) {
	if a := e.act; a != nil {
		for range n {
			p.pols.pol.Finished(&a.st, a.st.LastEnd, policy.NumStarts, 0)
		}
	}
}

// policyContainer is e as a policy sees it.
func (p *poolActor) policyContainer(e *entry) policy.Container {
	c := policy.Container{
		ID: e.pid.Id, Memory: e.mem, Created: e.created, LastUsed: e.lastUsed, PausedAt: e.pausedAt,
		StemCell: e.phase == phaseStemCell,
	}
	if e.act != nil && !c.StemCell {
		c.Stats = &e.act.st
	}
	return c
}

// planIdle asks the keep-alive policy for e's plan, now that e went idle
// or paused, and sends it unless the container would do the same by
// itself. Once a plan was sent, every later one of the idle period is
// sent too: it replaces the first.
func (p *poolActor) planIdle(ctx actor.Context, e *entry, now time.Time) {
	c := p.policyContainer(e)
	plan := p.pols.pol.Idle(now, c)
	if !e.planned && samePlan(plan, p.pols.builtIn.Idle(now, c)) {
		return
	}
	e.planned = true
	ctx.Send(e.pid, &protocol.KeepAlive{PauseAt: plan.PauseAt, RemoveAt: plan.RemoveAt})
}

func samePlan(a, b policy.Plan) bool {
	return a.PauseAt.Equal(b.PauseAt) && a.RemoveAt.Equal(b.RemoveAt)
}

func (p *poolActor) onPaused(ctx actor.Context, m *protocol.ContainerPaused) {
	e := p.lookup(m.Container, ctx, "ContainerPaused")
	// A job placed since the pause was sent makes it old news: the
	// container resumes for it.
	if e == nil || !e.wantIdle() {
		return
	}
	e.pausedAt = m.At
	p.planIdle(ctx, e, p.clock.Now())
}

// removed reports e's removal; call it before e leaves its group.
func (p *poolActor) removed(e *entry) {
	// Jobs still counted on a container that is gone were lost with its
	// actor (onGone): no JobDone will come for them.
	p.notRun(e, e.active)
	last := e.group != nil && e.group.members == 1
	p.pols.pol.Removed(p.policyContainer(e), e.evicted, last)
	if e.preloaded {
		p.unpreload(e, -1)
	}
}

// evictionOrder yields the idle warm containers, the containers loaded
// ahead and not used yet, then cells, in the order
// the eviction policy removes them. It orders them only when the caller
// starts to range over it: most plans need no victim at all.
func (p *poolActor) evictionOrder(cells []*entry) iter.Seq[*entry] {
	return func(yield func(*entry) bool) {
		s := &p.pols
		cs, es := s.cs[:0], s.es[:0]
		// The idle list is in the order the containers went idle; their
		// LastUsed (from the containers' JobDone) may disagree with it by
		// the time a report took. Holding them non-decreasing along the
		// list makes LRU give the list back unchanged, which is what the
		// pool did before the policies (and breaks Greedy-Dual's ties the
		// same way).
		var prev time.Time
		for e := p.idle.front; e != nil; e = e.lru.next {
			c := p.policyContainer(e)
			if c.LastUsed.Before(prev) {
				c.LastUsed = prev
			}
			prev = c.LastUsed
			cs, es = append(cs, c), append(es, e)
		}
		for _, e := range s.preloaded {
			cs, es = append(cs, p.policyContainer(e)), append(es, e)
		}
		for _, e := range cells {
			cs, es = append(cs, p.policyContainer(e)), append(es, e)
		}
		order := s.pol.Order(s.idx[:0], cs)
		for _, i := range order {
			if !yield(es[i]) {
				break
			}
		}
		clear(cs)
		clear(es)
		s.cs, s.es, s.idx = cs[:0], es[:0], order[:0]
	}
}

// evict removes e for memory, chosen through the eviction order.
func (p *poolActor) evict(ctx actor.Context, e *entry) {
	p.m.evictions.Inc()
	p.m.evictedByPolicy.Inc()
	e.evicted = true
	if e.preloaded {
		p.unpreload(e, preloadEvicted)
	}
	p.removeContainer(ctx, e, false)
}

// sweepActions drops the state of actions with no container and no
// activation for the retention, at most once a minute (from the
// memory-sync tick).
func (p *poolActor) sweepActions(now time.Time) {
	s := &p.pols
	if now.Before(s.nextSweep) {
		return
	}
	s.nextSweep = now.Add(time.Minute)
	for id, a := range s.actions {
		if p.byIdent[id] != nil || a.st.Running > 0 || now.Sub(a.seen) < s.retention {
			continue
		}
		if !a.window.LoadAt.IsZero() && now.Before(a.window.UnloadAt) {
			continue // a pre-load is still planned
		}
		p.timers.Disarm(preloadKey{a})
		delete(s.actions, id)
	}
}
