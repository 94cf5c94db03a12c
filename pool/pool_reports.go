package pool

import (
	"fmt"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/internal/protocol"
)

// What container actors report back, and the ledger moves they cause.

func pidID(pid *actor.PID, ctx actor.Context) string {
	if pid == nil {
		pid = ctx.Sender()
	}
	if pid == nil {
		return ""
	}
	return pid.Id
}

func (p *poolActor) lookup(pid *actor.PID, ctx actor.Context, what string) *entry {
	if pid == nil {
		pid = ctx.Sender()
	}
	if pid == nil {
		p.log.Error().Str("report", what).Msg("container report without a container PID ignored")
		return nil
	}
	e := p.entries[pid.Id]
	if e == nil {
		// A report from a container the pool no longer knows (reference
		// §11.4): ignore it rather than crash.
		p.log.Warn().Str("container", pid.Id).Str("report", what).Msg("report from an unknown container ignored")
	}
	return e
}

func (p *poolActor) onJobDone(ctx actor.Context, m *protocol.JobDone) {
	e := p.lookup(m.Container, ctx, "JobDone")
	if e == nil {
		return
	}
	before := e.memState()
	if e.active == 0 {
		p.log.Error().Str("container", e.pid.Id).Msg("JobDone with no job placed: count stays at 0")
	} else {
		e.active--
	}
	// A finished job means the first init succeeded.
	if e.phase == phaseWarmingCold || e.phase == phaseWarming {
		e.phase = phaseWarmed
	}
	if !m.LastUsed.IsZero() {
		e.lastUsed = m.LastUsed
	}
	if e.group != nil {
		e.group.run.observe(m.RunTime)
		p.runs.observe(m.RunTime)
	}
	p.settle(e, before)
	at := m.LastUsed
	if at.IsZero() {
		at = p.clock.Now()
	}
	p.finished(e, m, at)
	p.drain(ctx)
	// After drain: a container that took a waiting job needs no plan (and
	// must not go away for one); one still idle gets its plan before any
	// job placed on it later.
	if e.wantIdle() {
		p.planIdle(ctx, e, at)
	}
	if a := e.act; a != nil && a.st.Running == 0 {
		p.planPreload(ctx, a, at)
	}
}

func (p *poolActor) onReady(ctx actor.Context, m *protocol.ContainerReady) {
	e := p.lookup(m.Container, ctx, "ContainerReady")
	if e == nil || e.phase == phaseStemCell {
		return
	}
	if e.phase == phaseWarmingCold && !e.created.IsZero() {
		p.cold.observe(p.clock.Now().Sub(e.created))
	}
	if e.group != nil {
		e.group.readyAt = p.clock.Now()
	}
	p.knowContainer(e, m.ID)
	p.change(e, func() { e.phase = phaseWarmed })
	p.drain(ctx)
}

func (p *poolActor) onRemoving(ctx actor.Context, m *protocol.ContainerRemoving) {
	e := p.lookup(m.Container, ctx, "ContainerRemoving")
	if e == nil || e.removing {
		return
	}
	if e.phase == phaseStemCell {
		p.dropStemCell(e)
	}
	p.change(e, func() { e.removing = true })
	// Memory on its way back may spare the buffer head an eviction.
	p.drain(ctx)
}

func (p *poolActor) onRemoved(ctx actor.Context, m *protocol.ContainerRemoved) {
	e := p.lookup(m.Container, ctx, "ContainerRemoved")
	if e == nil {
		return
	}
	p.forget(e, "the engine removed the container")
	ctx.Poison(e.pid)
	if e.ref != 0 && e.phase == phaseStemCell {
		p.tell(ctx, &actors.StemCellRemoved{Ref: e.ref, Replace: m.Replace})
	}
	p.memoryBack(ctx)
}

// forget drops e from every index and gives its memory back; why says
// what confirmed that the container is gone (see memoryReturned).
func (p *poolActor) forget(e *entry, why string) {
	if e.phase == phaseStemCell {
		p.dropStemCell(e)
	}
	p.change(e, func() { e.removing = true }) // leaves the warm index and the LRU
	p.removed(e)
	if g := e.group; g != nil {
		g.states[e.memState()]--
		if g.members--; g.members == 0 {
			delete(p.byIdent, e.ident)
		}
		e.group = nil
	}
	p.memoryReturned(memRemoving, e.mem, why)
	delete(p.entries, e.pid.Id)
	p.forgetContainer(e)
	if e.ref != 0 {
		delete(p.byRef, e.ref)
	}
}

// memoryBack follows every return of memory: the buffer head first, then the
// prewarm scheduler, then a shutdown waiting for the last container.
func (p *poolActor) memoryBack(ctx actor.Context) {
	p.drain(ctx)
	if p.queued() == 0 {
		p.tell(ctx, &actors.CapacityChanged{})
	}
	p.checkShutdown(ctx)
}

func (p *poolActor) onReschedule(ctx actor.Context, m *protocol.Reschedule) {
	job := &pending{act: m.Job.Activation, replyTo: m.Job.ReplyTo}
	p.inHand = job
	// A container may bounce jobs after its ContainerRemoved: then it is
	// already forgotten, and only the job matters.
	if e := p.entries[pidID(m.Container, ctx)]; e != nil {
		// The bounced job no longer runs there, and a container that bounces
		// work is going away (health error, removal race).
		if e.phase == phaseStemCell {
			p.dropStemCell(e)
		}
		p.change(e, func() {
			if e.active > 0 {
				e.active--
				p.notRun(e, 1)
			}
			e.removing = true
		})
	}
	p.m.rescheduled.Inc()
	if p.shutdown != nil {
		p.reject(ctx, job, "shutdown", fmt.Errorf("activation %s was bounced by its container during shutdown: %w", job.act.ID, ErrShuttingDown))
		return
	}
	p.enqueueFront(job)
	p.drain(ctx)
}

func (p *poolActor) onTerminated(ctx actor.Context, m *actor.Terminated) {
	if m.Who == nil {
		return
	}
	if p.dropSubscriber(m.Who) {
		p.log.Info().Str("subscriber", m.Who.String()).Msg("memory-sync subscriber stopped; dropped")
		return
	}
	if p.stopping || p.entries[m.Who.Id] == nil {
		return
	}
	// Terminated is a system message: it overtakes what the container sent
	// before it stopped. Look again once those have been handled.
	ctx.Send(ctx.Self(), &containerGone{pid: m.Who})
}

func (p *poolActor) onGone(ctx actor.Context, m *containerGone) {
	e := p.entries[m.pid.Id]
	if e == nil {
		return
	}
	// The actor stopped (a supervisor gave up on it) without reporting
	// ContainerRemoved: nobody will ever report it, so the books close here.
	// The factory's Cleanup at shutdown removes whatever it may have left in
	// the engine.
	p.log.Error().Str("container", m.pid.Id).Msg("container actor stopped without reporting its removal; its memory is released")
	p.forget(e, "the container actor stopped without reporting its removal; nobody will report it")
	if e.ref != 0 && e.phase == phaseStemCell {
		p.tell(ctx, &actors.StemCellRemoved{Ref: e.ref, Replace: true})
	}
	p.memoryBack(ctx)
}

// change applies f to e and then puts e where its new state belongs: the
// ledger, the warm index and the idle LRU. Every state change of an entry
// goes through here, so the three can never disagree.
func (p *poolActor) change(e *entry, f func()) {
	before := e.memState()
	f()
	p.settle(e, before)
}

// settle puts e where its state belongs, given the ledger state it had
// before the change.
func (p *poolActor) settle(e *entry, before memState) {
	after := e.memState()
	p.ledger.move(before, after, e.mem)
	if g := e.group; g != nil && before != after {
		g.states[before]--
		g.states[after]++
	}

	if t := e.wantTier(); t != e.availTier {
		if e.availTier != tierNone {
			e.group.remove(e)
		}
		if t != tierNone {
			e.group.add(t, e)
		}
	}
	switch idle := e.wantIdle(); {
	case idle && !e.lru.in:
		p.idle.pushBack(e)
	case !idle && e.lru.in:
		p.idle.remove(e)
	}
}
