package pool

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/policy"
)

// Loading ahead (a predictive keep-alive policy's PreWarm window, such as
// hybrid-histogram's): when an action's window opens, the pool creates a
// container for it through the cold-start path (ledger, budget, factory),
// without a job, and removes it when the window closes unless a job used
// it first. A container loaded ahead is created, not initialised: /init
// needs the activation, so its first job initialises it, as a stem cell's
// does, and counts as a prewarmed start. Nothing is evicted for it and
// nothing waiting is delayed by it: it is created only when no activation
// waits and its memory fits in what nobody was promised; until a job uses
// it, the eviction order may remove it as it does an idle container.

// preloadSpec is what a container of an action is created from: its last
// activation's action without the code (only the container's first job
// needs it) and invocation namespace.
type preloadSpec struct {
	invocationNamespace string
	action              actors.Action
}

// remember keeps what a container of the action is created from.
func (a *actionState) remember(act *actors.Activation) {
	spec := act.Action
	spec.Code, spec.Main = "", ""
	a.spec = preloadSpec{invocationNamespace: act.InvocationNamespace, action: spec}
	a.hasSpec = true
	a.st.Memory = act.Action.Limits.Memory
}

// Keys of the pool's keyed timers (actors.Timers.Arm).
type (
	preloadKey struct{ a *actionState } // the action's window opens
	unloadKey  struct{ e *entry }       // the window of the container loaded ahead closes
)

// Outcomes of a window, the label of stemcell_pool_preloads_total.
const (
	preloadCreated  = iota // a container was loaded ahead
	preloadUsed            // a job found it
	preloadUnloaded        // its window closed unused
	preloadEvicted         // removed unused for memory
	preloadSkipped         // the window opened without room or reason to load
	numPreloadOutcomes
)

var preloadOutcomes = [numPreloadOutcomes]string{"created", "used", "unloaded", "evicted", "skipped"}

// planPreload asks the keep-alive policy when to load a container of a's
// action ahead of its next call, now that nothing of it runs, and arms
// the window's opening.
func (p *poolActor) planPreload(ctx actor.Context, a *actionState, now time.Time) {
	w := p.pols.pol.PreWarm(now, &a.st)
	if w.LoadAt.IsZero() {
		if !a.window.LoadAt.IsZero() {
			p.timers.Disarm(preloadKey{a})
			a.window = policy.Window{}
		}
		return
	}
	a.window = w
	p.timers.Arm(ctx, preloadKey{a}, max(w.LoadAt.Sub(now), 0))
	p.log.Debug().Str("namespace", a.ident.InvocationNamespace).Str("action", a.ident.Name).
		Time("load_at", w.LoadAt).Time("unload_at", w.UnloadAt).Msg("pre-load planned")
}

func (p *poolActor) onTimerFired(ctx actor.Context, m *actors.TimerFired) {
	if !p.timers.Fired(m) {
		return
	}
	switch k := m.Key.(type) {
	case preloadKey:
		p.preload(ctx, k.a)
	case unloadKey:
		p.unload(ctx, k.e)
	}
}

// preload loads a container of a's action when its window is open and
// there is room and reason for one.
func (p *poolActor) preload(ctx actor.Context, a *actionState) {
	w := a.window
	a.window = policy.Window{}
	now := p.clock.Now()
	need := a.st.Memory
	switch {
	case w.LoadAt.IsZero() || !now.Before(w.UnloadAt) || p.shutdown != nil || p.stopping || !a.hasSpec:
		return
	case p.hasContainer(a.ident) || a.st.Running > 0:
		// A container of the action exists already (being created, in
		// use, kept): nothing to load.
		p.skipPreload(a, "a container of the action exists")
		return
	case p.queued() > 0 || need <= 0 || need > p.unpromised():
		p.skipPreload(a, "no room: work waits or the memory is not free")
		return
	}
	if err := p.ledger.add(memStarting, need); err != nil {
		p.log.Error().Err(err).Msg("pre-load refused by the ledger")
		return
	}
	act := actors.Activation{InvocationNamespace: a.spec.invocationNamespace, Action: a.spec.action}
	// created stays zero: the scale-out estimate learns cold starts from
	// creation to ready, and this one waits for its job in between.
	e := &entry{
		ident:     a.ident,
		kind:      act.Action.Kind,
		mem:       need,
		maxConc:   max(act.Action.Limits.MaxConcurrency, 1),
		phase:     phaseWarmingCold,
		availTier: tierNone,
		preloaded: true,
	}
	p.startCold(ctx, p.coldSpec(&act), e)
	e.lastUsed = now // its place in the eviction order: loaded now
	p.pols.preloaded = append(p.pols.preloaded, e)
	p.pols.preloadedMem += e.mem
	p.m.preloads[preloadCreated].Inc()
	p.timers.Arm(ctx, unloadKey{e}, w.UnloadAt.Sub(now))
	p.log.Debug().Str("container", e.pid.Id).Time("unload_at", w.UnloadAt).Msg("container loaded ahead of its action's next call")
}

// hasContainer says whether ident has a container that is not going away.
func (p *poolActor) hasContainer(ident actors.Identity) bool {
	g := p.byIdent[ident]
	return g != nil && g.members > g.states[memRemoving]
}

func (p *poolActor) skipPreload(a *actionState, why string) {
	p.m.preloads[preloadSkipped].Inc()
	p.log.Debug().Str("namespace", a.ident.InvocationNamespace).Str("action", a.ident.Name).Str("why", why).Msg("pre-load skipped")
}

// unload removes a container loaded ahead that no job used in its window.
func (p *poolActor) unload(ctx actor.Context, e *entry) {
	if !e.preloaded || e.removing || p.entries[e.pid.Id] != e {
		return
	}
	p.unpreload(e, preloadUnloaded)
	p.removeContainer(ctx, e, false)
}

// unpreload ends e's time as a container loaded ahead and unused, counting
// outcome (none when < 0).
func (p *poolActor) unpreload(e *entry, outcome int) {
	e.preloaded = false
	p.timers.Disarm(unloadKey{e})
	s := &p.pols
	for i, x := range s.preloaded {
		if x == e {
			last := len(s.preloaded) - 1
			s.preloaded[i], s.preloaded[last] = s.preloaded[last], nil
			s.preloaded = s.preloaded[:last]
			s.preloadedMem -= e.mem
			break
		}
	}
	if outcome >= 0 {
		p.m.preloads[outcome].Inc()
	}
}
