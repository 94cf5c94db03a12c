package pool

import (
	"fmt"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/internal/protocol"
)

// Placement of activations: the buffer, placement order, cold creation.

func (p *poolActor) onRun(ctx actor.Context, m *actors.Run) {
	job := &pending{act: m.Activation, replyTo: ctx.Sender()}
	p.inHand = job
	if job.act.Arrived.IsZero() {
		job.act.Arrived = p.clock.Now()
	}
	if p.shutdown != nil {
		p.reject(ctx, job, "rejected", fmt.Errorf("activation %s: %w", job.act.ID, ErrShuttingDown))
		return
	}
	if err := validate(&job.act); err != nil {
		p.reject(ctx, job, "invalid", err)
		return
	}
	var accepted bool
	if p.fifo {
		accepted = p.runFIFO(ctx, job)
	} else {
		accepted = p.runFair(ctx, job)
	}
	if accepted && m.AckQueued && job.replyTo != nil {
		ctx.Send(job.replyTo, &actors.Queued{ActivationID: job.act.ID})
	}
}

// runFIFO is OpenWhisk v1's rule: a new activation starts at once only when
// nothing waits, otherwise it joins the tail of the one buffer.
func (p *poolActor) runFIFO(ctx actor.Context, job *pending) bool {
	if p.buf.len() > 0 {
		if !p.admitToQueue(ctx, job) {
			return false
		}
		p.buf.pushBack(job)
		if p.buf.len() <= lookAhead {
			// The new job is in the look-ahead's view: its evictions may
			// start while the head waits.
			p.evictAhead(ctx, p.buf.head())
		}
		return true
	}
	switch p.tryPlace(ctx, job, p.ledger.free()) {
	case placeReject:
		return false
	case placeEvict, placeWait, placeHold:
		if !p.admitToQueue(ctx, job) {
			return false
		}
		p.evictAhead(ctx, job)
		p.buf.pushBack(job)
	}
	return true
}

// validate refuses what placement cannot handle: a non-positive memory
// would make the ledger meaningless.
func validate(a *actors.Activation) error {
	if a.Action.Limits.Memory <= 0 {
		return fmt.Errorf("activation %s of %s/%s: memory %d B is invalid: must be > 0: %w",
			a.ID, a.Action.Namespace, a.Action.Name, a.Action.Limits.Memory, ErrInvalidActivation)
	}
	if a.Action.Limits.MaxConcurrency < 1 {
		a.Action.Limits.MaxConcurrency = 1
	}
	return nil
}

// admitToQueue checks the bound on waiting activations before job joins
// them; it refuses job when the bound is reached.
func (p *poolActor) admitToQueue(ctx actor.Context, job *pending) bool {
	if n := p.queued(); n >= p.bufferMax {
		p.reject(ctx, job, "buffer_full", fmt.Errorf("activation %s: %d activations already wait, container-pool.buffer-size is %d: %w",
			job.act.ID, n, p.bufferMax, ErrBufferFull))
		return false
	}
	p.m.buffered.Inc()
	return true
}

// queued is how many activations wait, under either rule.
func (p *poolActor) queued() int { return p.buf.len() + p.fair.len() }

func (p *poolActor) queuedMemory() config.ByteSize { return p.buf.mem + p.fair.mem }

func (p *poolActor) reject(ctx actor.Context, job *pending, reason string, err error) {
	p.m.rejected(reason)
	p.log.Warn().Err(err).Str("activation_id", job.act.ID).Msg("activation rejected")
	job.handed = true
	if job.replyTo != nil {
		ctx.Send(job.replyTo, &actors.RunResult{Result: actors.Result{ActivationID: job.act.ID}, Err: err})
	}
}

// place tries to put job, the head of the FIFO buffer, on a container. It
// reports false when the job must wait; a job it rejects counts as handled.
func (p *poolActor) place(ctx actor.Context, job *pending) bool {
	switch p.tryPlace(ctx, job, p.ledger.free()) {
	case placeEvict, placeWait, placeHold:
		// Evictions for this job, and for those buffered behind it, start
		// now (evictAhead); the job waits for the memory either way.
		p.evictAhead(ctx, job)
		return false
	}
	return true
}

// tryPlace puts job on a warm container or a stem cell, or on a new
// container when its memory fits in budget (at most what is free), or
// rejects it when it can never fit. placeEvict and placeWait mean it did
// none of these: the job must wait.
func (p *poolActor) tryPlace(ctx actor.Context, job *pending, budget config.ByteSize) verdict {
	a := &job.act
	need := a.Action.Limits.Memory
	grp := p.byIdent[job.identity()]
	s := situation{
		Need:      need,
		Total:     p.ledger.total,
		Free:      budget,
		Removing:  p.ledger.mem[memRemoving],
		Evictable: p.ledger.mem[memIdle] + p.pols.preloadedMem,
		WarmTier:  tierNone,
	}
	var warm *entry
	if grp != nil {
		s.WarmTier, warm = grp.best()
	}
	stem := -1
	var cells []*entry
	if s.WarmTier == tierNone {
		cells = p.stemCells[a.Action.Kind]
		if len(cells) > 0 {
			stem = p.pickStemCell(cells, need)
			s.StemCell = stem >= 0
		}
		// OpenWhisk v1's rule (fifo) always starts a container.
		s.Hold = !p.fifo && grp != nil && !s.StemCell && p.shouldHold(ctx, job, grp)
	}
	job.held = false
	d := decide(s)
	switch d.Verdict {
	case placeWarm:
		p.m.warmTier[d.Tier].Inc()
		p.assign(ctx, warm, job, actors.StartWarm)
	case placeStemCell:
		p.take(ctx, cells[stem], job)
	case placeCold:
		if !p.createCold(ctx, job) {
			return placeWait
		}
	case placeHold:
		job.held = true
	case placeReject:
		p.reject(ctx, job, "too_large", fmt.Errorf("activation %s of %s/%s: memory %d MB exceeds container-pool.user-memory %d MB: %w",
			a.ID, a.Action.Namespace, a.Action.Name, need.MBs(), p.ledger.total.MBs(), ErrTooLarge))
	}
	return d.Verdict
}

func (p *poolActor) pickStemCell(cells []*entry, need config.ByteSize) int {
	// Stem cells of one kind are few (the manifest's counts), so a scan and a
	// small copy to plain data cost less than keeping them sorted.
	var buf [16]stemCell
	plain := buf[:0]
	for _, e := range cells {
		plain = append(plain, stemCell{Ref: e.ref, Memory: e.mem, Expires: e.expires})
	}
	return pickStemCell(plain, need, p.cfg.ContainerPool.PrewarmPromotion)
}

// assign hands job to e.
func (p *poolActor) assign(ctx actor.Context, e *entry, job *pending, kind actors.StartKind) {
	now := p.clock.Now()
	if e.preloaded {
		// Loaded ahead for this call: a start that found its container
		// ready, as a stem cell's.
		p.unpreload(e, preloadUsed)
		if kind == actors.StartWarm {
			kind = actors.StartPrewarmed
		}
	}
	before := e.memState() // not change(): no closure on the hot path
	e.active++
	e.lastUsed = now
	e.planned, e.pausedAt = false, time.Time{}
	p.settle(e, before)
	p.started(e, job, kind)
	p.m.started(kind, now.Sub(job.act.Arrived))
	if p.hooks.placed != nil {
		p.hooks.placed(&job.act, e, kind)
	}
	ctx.Send(e.pid, &protocol.Job{Activation: job.act, ReplyTo: job.replyTo, StartKind: kind})
	job.handed = true
}

func (p *poolActor) take(ctx actor.Context, e *entry, job *pending) {
	p.dropStemCell(e)
	a := &job.act
	e.ident = a.Identity()
	p.join(e)
	e.act.remember(a)
	p.change(e, func() {
		e.phase = phaseWarming
		e.maxConc = a.Action.Limits.MaxConcurrency
	})
	p.tell(ctx, &actors.StemCellTaken{Ref: e.ref, Kind: e.kind, Memory: e.mem})
	p.assign(ctx, e, job, actors.StartPrewarmed)
}

// createCold starts a new container for job. It reports false, and the job
// must wait, when the ledger refuses the memory.
func (p *poolActor) createCold(ctx actor.Context, job *pending) bool {
	a := &job.act
	need := a.Action.Limits.Memory
	if err := p.ledger.add(memStarting, need); err != nil {
		// decide said it fits; a refusal here is a bug, and the ledger wins.
		p.log.Error().Err(err).Str("activation_id", a.ID).Msg("cold start refused by the ledger")
		return false
	}
	spec := p.coldSpec(a)
	e := &entry{
		ident:     a.Identity(),
		kind:      a.Action.Kind,
		mem:       need,
		maxConc:   a.Action.Limits.MaxConcurrency,
		phase:     phaseWarmingCold,
		availTier: tierNone,
		created:   p.clock.Now(),
	}
	p.startCold(ctx, spec, e)
	e.act.remember(a)
	kind := actors.StartCold
	if job.evicted {
		kind = actors.StartRecreated
	}
	p.tell(ctx, &actors.ColdStart{Kind: e.kind, Memory: need})
	p.assign(ctx, e, job, kind)
	return true
}

// coldSpec is what to create for a container of a's action.
func (p *poolActor) coldSpec(a *actors.Activation) factory.ContainerSpec {
	need := a.Action.Limits.Memory
	p.seq++
	spec := factory.ContainerSpec{
		TransactionID: a.TransactionID,
		Name:          factory.ContainerName(p.prefix, p.seq, a.InvocationNamespace, a.Action.Name),
		Image:         a.Action.Image,
		UserProvided:  a.Action.UserProvided,
		Kind:          a.Action.Kind,
		Memory:        need,
		CPUShares:     p.cfg.ContainerPool.CPUShare(need),
		Action:        &factory.ActionRef{Namespace: a.InvocationNamespace, Name: qualifiedName(a.Action), Version: a.Action.Version},
	}
	if lim, ok := p.cfg.ContainerPool.CPULimit(need); ok {
		spec.CPULimit = lim
	}
	return spec
}

// startCold spawns the container actor that creates e's container from
// spec, whose memory the ledger has booked as starting, and indexes e.
func (p *poolActor) startCold(ctx actor.Context, spec factory.ContainerSpec, e *entry) {
	e.pid = p.spawnContainer(ctx, containerParams{
		Pool:    ctx.Self(),
		Factory: p.factoryPID,
		Spec:    spec,
		Config:  p.cfg,
		Clock:   p.clock,
		Log:     p.log.With().Str("container", spec.Name).Logger(),
		Results: p.m.results(),
		// The pool's keep-alive policy plans from the pause.
		ReportPause: true,
	})
	p.registered(e)
	p.join(e)
	p.change(e, func() {})
}

// qualifiedName is the action's name without its namespace, e.g.
// "pkg/hello" for Namespace "guest/pkg" and Name "hello".
func qualifiedName(a actors.Action) string {
	if _, pkg, ok := strings.Cut(a.Namespace, "/"); ok && pkg != "" {
		return pkg + "/" + a.Name
	}
	return a.Name
}

// spawnContainer starts a container actor whose life the pool ends: the
// actor's own Stop of itself is ignored, and the pool poisons it once it has
// handled its ContainerRemoved. A container that stopped itself could drop
// Jobs the pool sent it before learning it was going away (protoactor drops
// what is left in a stopped actor's mailbox); kept alive, it bounces them
// back with Reschedule, and the poison pill queues behind them.
func (p *poolActor) spawnContainer(ctx actor.Context, params containerParams) *actor.PID {
	props := p.hooks.container(params).Configure(actor.WithContextDecorator(poolOwnsStop), actor.WithDispatcher(inline{}))
	return ctx.SpawnPrefix(props, containerNamePrefix)
}

func poolOwnsStop(next actor.ContextDecoratorFunc) actor.ContextDecoratorFunc {
	return func(c actor.Context) actor.Context { return next(ownedStop{c}) }
}

// ownedStop is a container actor's context whose Stop of itself is a no-op.
type ownedStop struct{ actor.Context }

func (c ownedStop) Stop(pid *actor.PID) {
	if pid.Equal(c.Self()) {
		return
	}
	c.Context.Stop(pid)
}

// join puts e in the group of its identity, for life.
func (p *poolActor) join(e *entry) {
	g := p.byIdent[e.ident]
	if g == nil {
		g = &identGroup{}
		p.byIdent[e.ident] = g
	}
	g.members++
	g.states[e.memState()]++
	e.group = g
	e.act = p.actionFor(e.ident)
}

func (p *poolActor) registered(e *entry) {
	p.entries[e.pid.Id] = e
	if p.hooks.spawned != nil {
		p.hooks.spawned(e.pid)
	}
}

// enqueueFront puts back a job that was placed and did not start, where its
// arrival puts it.
func (p *poolActor) enqueueFront(job *pending) {
	if p.fifo {
		p.buf.pushFront(job)
	} else {
		p.fair.pushArrived(job)
	}
}

// removeContainer tells e's actor to destroy its container.
func (p *poolActor) removeContainer(ctx actor.Context, e *entry, abort bool) {
	if e.phase == phaseStemCell {
		p.dropStemCell(e)
	}
	p.change(e, func() { e.removing = true })
	ctx.Send(e.pid, &protocol.Remove{Abort: abort})
}

// drain places buffered jobs, head first, until one has to wait. Jobs are
// placed by a direct call, never re-sent to the mailbox, so the head can
// neither be placed twice nor be overtaken (reference §2.3 `resent`).
func (p *poolActor) drain(ctx actor.Context) {
	if !p.fifo {
		p.drainFair(ctx)
		return
	}
	had := p.buf.len() > 0
	for p.buf.len() > 0 {
		if !p.place(ctx, p.buf.head()) {
			break
		}
		p.buf.popHead()
	}
	if had && p.buf.len() == 0 {
		// Reservations were refused while work waited.
		p.tell(ctx, &actors.CapacityChanged{})
	}
}
