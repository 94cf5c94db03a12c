package pool

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
)

// Errors a caller can see in RunResult.Err.
var (
	// ErrShuttingDown rejects work sent after Shutdown, and answers work that
	// was still buffered when it came.
	ErrShuttingDown = errors.New("pool is shutting down")
	// ErrBufferFull rejects work when container-pool.buffer-size activations
	// already wait.
	ErrBufferFull = errors.New("pool buffer is full")
	// ErrTooLarge rejects an action whose memory can never fit the pool.
	ErrTooLarge = errors.New("action memory exceeds the pool")
	// ErrInvalidActivation rejects an activation the pool cannot place.
	ErrInvalidActivation = errors.New("invalid activation")
)

// Messages the pool sends itself.
type (
	memSyncTick      struct{}
	containerGone    struct{ pid *actor.PID }
	shutdownDeadline struct{}
	cleanupDone      struct{ err error }
)

// hooks are the pool's collaborators, replaceable in tests.
type hooks struct {
	// container builds a container actor.
	container func(containerParams) *actor.Props
	// factory builds the factory actor; nil means none (tests whose
	// containers do not create).
	factory func() *actor.Props
	// prewarm builds the prewarm scheduler given the pool's and the factory
	// actor's PIDs; nil means no stem cells.
	prewarm func(self, factoryPID *actor.PID) *actor.Props
	// cleanup runs at the end of Shutdown, off the actor goroutine.
	cleanup func() error
	// placed, when set, sees every placement.
	placed func(a *actors.Activation, e *entry, kind actors.StartKind)
	// spawned, when set, sees every container actor spawned.
	spawned func(pid *actor.PID)
	// afterStep, when set, is called after every message with the pool's
	// state: tests check the invariants there.
	afterStep func(p *poolActor)
}

// poolActor owns the memory ledger and every placement decision. All its
// state is touched only from its own mailbox.
type poolActor struct {
	cfg       *config.Config
	log       zerolog.Logger
	clock     actors.Clock
	m         *metrics
	hooks     hooks
	disp      *workers
	timers    *actors.Timers
	bufferMax int
	prefix    string
	seq       uint64

	factoryPID *actor.PID
	prewarmPID *actor.PID

	ledger       ledger
	entries      map[string]*entry // by container actor PID id
	byIdent      map[actors.Identity]*identGroup
	stemCells    map[string][]*entry // ready, untaken, by kind
	byRef        map[uint64]*entry   // stem cells, taken or not, until removed
	reservations map[uint64]reservation
	idle         lruList // idle warmed entries, least recently used at the front
	buf          buffer
	subscribers  []*actor.PID

	shutdown *shutdownState
	stopping bool
}

type reservation struct {
	kind string
	mem  config.ByteSize
}

type shutdownState struct {
	waiters      []*actor.PID
	cancel       actors.CancelFunc
	cleanupStart bool
	done         bool
	err          error
}

func newPoolActor(cfg *config.Config, log zerolog.Logger, clock actors.Clock, m *metrics, h hooks, disp *workers) *poolActor {
	bmax := cfg.ContainerPool.BufferSize
	if bmax <= 0 {
		bmax = defaultBufferSize
	}
	return &poolActor{
		cfg:          cfg,
		log:          log,
		clock:        clock,
		m:            m,
		hooks:        h,
		disp:         disp,
		timers:       actors.NewTimers(clock),
		bufferMax:    bmax,
		prefix:       factory.ContainerNamePrefix(cfg.Invoker.Name),
		ledger:       newLedger(cfg.ContainerPool.UserMemory),
		entries:      map[string]*entry{},
		byIdent:      map[actors.Identity]*identGroup{},
		stemCells:    map[string][]*entry{},
		byRef:        map[uint64]*entry{},
		reservations: map[uint64]reservation{},
	}
}

const (
	defaultBufferSize   = 10000
	defaultMemorySync   = time.Second
	containerNamePrefix = "c"
)

// Receive is the pool's mailbox.
func (p *poolActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actors.Run:
		p.onRun(ctx, m)
	case *actors.JobDone:
		p.onJobDone(ctx, m)
	case *actors.ContainerReady:
		p.onReady(ctx, m)
	case *actors.ContainerRemoving:
		p.onRemoving(ctx, m)
	case *actors.ContainerRemoved:
		p.onRemoved(ctx, m)
	case *actors.Reschedule:
		p.onReschedule(ctx, m)
	case *actors.ReserveMemory:
		p.onReserve(ctx, m)
	case *actors.ReleaseMemory:
		p.onRelease(ctx, m)
	case *actors.StemCellReady:
		p.onStemCellReady(ctx, m)
	case *actors.RemoveStemCell:
		p.onRemoveStemCell(ctx, m)
	case *actors.SnapshotRequest:
		s := p.snapshot()
		ctx.Respond(&s)
	case *actors.Subscribe:
		p.subscribe(m.PID)
	case *actors.Unsubscribe:
		p.unsubscribe(m.PID)
	case *memSyncTick:
		p.publish(ctx)
	case *actors.Shutdown:
		p.onShutdown(ctx, m)
	case *shutdownDeadline:
		p.onShutdownDeadline(ctx)
	case *cleanupDone:
		p.onCleanupDone(ctx, m)
	case *actor.Started:
		p.onStarted(ctx)
	case *actor.Stopped:
		// Every child has stopped before this: nothing runs on the workers.
		p.disp.stop()
	case *actor.Stopping, *actor.Restarting:
		// Children stop with the pool: their Terminated must not free
		// memory for buffered work, which would spawn new children.
		p.stopping = true
		p.timers.Stop()
	case *actor.Terminated:
		p.onTerminated(ctx, m)
	case *containerGone:
		p.onGone(ctx, m)
	default:
		return
	}
	if p.hooks.afterStep != nil {
		p.hooks.afterStep(p)
	}
}

func (p *poolActor) onStarted(ctx actor.Context) {
	if p.hooks.factory != nil {
		p.factoryPID = ctx.SpawnPrefix(p.hooks.factory().Configure(actor.WithDispatcher(p.disp)), "factory")
	}
	if p.hooks.prewarm != nil {
		p.prewarmPID = ctx.SpawnPrefix(p.hooks.prewarm(ctx.Self(), p.factoryPID).Configure(actor.WithDispatcher(p.disp)), "prewarm")
	}
	every := p.cfg.ContainerPool.MemorySyncInterval
	if every <= 0 {
		every = defaultMemorySync
	}
	p.timers.SendRepeatedly(ctx, every, every, &memSyncTick{})
}

// ---- activations ----

func (p *poolActor) onRun(ctx actor.Context, m *actors.Run) {
	job := &pending{act: m.Activation, replyTo: ctx.Sender()}
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
	if p.buf.len() > 0 {
		p.enqueue(ctx, job)
		if p.buf.len() <= lookAhead {
			// The new job is in the look-ahead's view: its evictions may
			// start while the head waits.
			p.evictAhead(ctx, p.buf.head())
		}
		return
	}
	if !p.place(ctx, job) {
		p.enqueue(ctx, job)
	}
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

func (p *poolActor) enqueue(ctx actor.Context, job *pending) {
	if p.buf.len() >= p.bufferMax {
		p.reject(ctx, job, "buffer_full", fmt.Errorf("activation %s: %d activations already wait, container-pool.buffer-size is %d: %w",
			job.act.ID, p.buf.len(), p.bufferMax, ErrBufferFull))
		return
	}
	p.buf.pushBack(job)
	p.m.buffered.Inc()
}

func (p *poolActor) reject(ctx actor.Context, job *pending, reason string, err error) {
	p.m.rejected(reason)
	p.log.Warn().Err(err).Str("activation_id", job.act.ID).Msg("activation rejected")
	if job.replyTo != nil {
		ctx.Send(job.replyTo, &actors.RunResult{Result: actors.Result{ActivationID: job.act.ID}, Err: err})
	}
}

// place tries to put job on a container. It reports false when the job
// must wait; a job it rejects counts as handled.
func (p *poolActor) place(ctx actor.Context, job *pending) bool {
	a := &job.act
	need := a.Action.Limits.Memory
	grp := p.byIdent[job.identity()]
	s := situation{
		Need:      need,
		Total:     p.ledger.total,
		Free:      p.ledger.free(),
		Removing:  p.ledger.mem[memRemoving],
		Evictable: p.ledger.mem[memIdle],
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
	}
	d := decide(s)
	switch d.Verdict {
	case placeWarm:
		p.m.warmTier[d.Tier].Inc()
		p.assign(ctx, warm, job, actors.StartWarm)
	case placeStemCell:
		p.take(ctx, cells[stem], job)
	case placeCold:
		p.createCold(ctx, job)
	case placeEvict, placeWait:
		// Evictions for this job, and for those buffered behind it, start
		// now (evictAhead); the job waits for the memory either way.
		p.evictAhead(ctx, job)
		p.waiting(job)
		return false
	case placeReject:
		p.reject(ctx, job, "too_large", fmt.Errorf("activation %s of %s/%s: memory %d MB exceeds container-pool.user-memory %d MB: %w",
			a.ID, a.Action.Namespace, a.Action.Name, need.MBs(), p.ledger.total.MBs(), ErrTooLarge))
	}
	return true
}

// waiting marks a job that could not be placed.
func (p *poolActor) waiting(job *pending) {
	job.retried = true
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
	before := e.memState() // not change(): no closure on the hot path
	e.active++
	e.lastUsed = now
	p.settle(e, before)
	p.m.started(kind, now.Sub(job.act.Arrived))
	if p.hooks.placed != nil {
		p.hooks.placed(&job.act, e, kind)
	}
	ctx.Send(e.pid, &actors.Job{Activation: job.act, ReplyTo: job.replyTo, StartKind: kind})
}

func (p *poolActor) take(ctx actor.Context, e *entry, job *pending) {
	p.dropStemCell(e)
	a := &job.act
	e.ident = a.Identity()
	p.join(e)
	p.change(e, func() {
		e.phase = phaseWarming
		e.maxConc = a.Action.Limits.MaxConcurrency
	})
	p.tell(ctx, &actors.StemCellTaken{Ref: e.ref, Kind: e.kind, Memory: e.mem})
	p.assign(ctx, e, job, actors.StartPrewarmed)
}

func (p *poolActor) createCold(ctx actor.Context, job *pending) {
	a := &job.act
	need := a.Action.Limits.Memory
	if err := p.ledger.add(memStarting, need); err != nil {
		// decide said it fits; a refusal here is a bug, and the ledger wins.
		p.log.Error().Err(err).Str("activation_id", a.ID).Msg("cold start refused by the ledger")
		p.enqueueFront(job)
		return
	}
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
	e := &entry{
		ident:     a.Identity(),
		kind:      a.Action.Kind,
		mem:       need,
		maxConc:   a.Action.Limits.MaxConcurrency,
		phase:     phaseWarmingCold,
		availTier: tierNone,
	}
	e.pid = p.spawnContainer(ctx, containerParams{
		Pool:    ctx.Self(),
		Factory: p.factoryPID,
		Spec:    spec,
		Config:  p.cfg,
		Clock:   p.clock,
		Log:     p.log.With().Str("container", spec.Name).Logger(),
		Results: p.m.results(),
	})
	p.registered(e)
	p.join(e)
	p.change(e, func() {})
	kind := actors.StartCold
	if job.evicted {
		kind = actors.StartRecreated
	}
	p.tell(ctx, &actors.ColdStart{Kind: e.kind, Memory: need})
	p.assign(ctx, e, job, kind)
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
	props := p.hooks.container(params).Configure(actor.WithContextDecorator(poolOwnsStop), actor.WithDispatcher(p.disp))
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
	e.group = g
}

func (p *poolActor) registered(e *entry) {
	p.entries[e.pid.Id] = e
	if p.hooks.spawned != nil {
		p.hooks.spawned(e.pid)
	}
}

func (p *poolActor) enqueueFront(job *pending) {
	p.buf.pushFront(job)
}

// removeContainer tells e's actor to destroy its container.
func (p *poolActor) removeContainer(ctx actor.Context, e *entry, abort bool) {
	if e.phase == phaseStemCell {
		p.dropStemCell(e)
	}
	p.change(e, func() { e.removing = true })
	ctx.Send(e.pid, &actors.Remove{Abort: abort})
}

// drain places buffered jobs, head first, until one has to wait. Jobs are
// placed by a direct call, never re-sent to the mailbox, so the head can
// neither be placed twice nor be overtaken (reference §2.3 `resent`).
func (p *poolActor) drain(ctx actor.Context) {
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

// ---- container reports ----

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

func (p *poolActor) onJobDone(ctx actor.Context, m *actors.JobDone) {
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
	p.settle(e, before)
	p.drain(ctx)
}

func (p *poolActor) onReady(ctx actor.Context, m *actors.ContainerReady) {
	e := p.lookup(m.Container, ctx, "ContainerReady")
	if e == nil || e.phase == phaseStemCell {
		return
	}
	p.change(e, func() { e.phase = phaseWarmed })
	p.drain(ctx)
}

func (p *poolActor) onRemoving(ctx actor.Context, m *actors.ContainerRemoving) {
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

func (p *poolActor) onRemoved(ctx actor.Context, m *actors.ContainerRemoved) {
	e := p.lookup(m.Container, ctx, "ContainerRemoved")
	if e == nil {
		return
	}
	p.forget(e)
	ctx.Poison(e.pid)
	if e.ref != 0 && e.phase == phaseStemCell {
		p.tell(ctx, &actors.StemCellRemoved{Ref: e.ref, Replace: m.Replace})
	}
	p.memoryBack(ctx)
}

// forget drops e from every index and gives its memory back.
func (p *poolActor) forget(e *entry) {
	if e.phase == phaseStemCell {
		p.dropStemCell(e)
	}
	p.change(e, func() { e.removing = true }) // leaves the warm index and the LRU
	if g := e.group; g != nil {
		if g.members--; g.members == 0 {
			delete(p.byIdent, e.ident)
		}
		e.group = nil
	}
	p.ledger.release(memRemoving, e.mem)
	delete(p.entries, e.pid.Id)
	if e.ref != 0 {
		delete(p.byRef, e.ref)
	}
}

// memoryBack follows every return of memory: the buffer head first, then the
// prewarm scheduler, then a shutdown waiting for the last container.
func (p *poolActor) memoryBack(ctx actor.Context) {
	p.drain(ctx)
	if p.buf.len() == 0 {
		p.tell(ctx, &actors.CapacityChanged{})
	}
	p.checkShutdown(ctx)
}

func (p *poolActor) onReschedule(ctx actor.Context, m *actors.Reschedule) {
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
			}
			e.removing = true
		})
	}
	job := &pending{act: m.Job.Activation, replyTo: m.Job.ReplyTo, retried: true}
	p.m.rescheduled.Inc()
	if p.shutdown != nil {
		p.reject(ctx, job, "shutdown", fmt.Errorf("activation %s was bounced by its container during shutdown: %w", job.act.ID, ErrShuttingDown))
		return
	}
	p.buf.pushFront(job)
	p.drain(ctx)
}

func (p *poolActor) onTerminated(ctx actor.Context, m *actor.Terminated) {
	if m.Who == nil || p.stopping || p.entries[m.Who.Id] == nil {
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
	p.forget(e)
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
	p.ledger.move(before, e.memState(), e.mem)

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

// ---- prewarm scheduler ----

func (p *poolActor) tell(ctx actor.Context, msg any) {
	if p.prewarmPID != nil {
		ctx.Send(p.prewarmPID, msg)
	}
}

func (p *poolActor) answerPrewarm(ctx actor.Context, msg any) {
	if ctx.Sender() != nil {
		ctx.Respond(msg)
		return
	}
	p.tell(ctx, msg)
}

func (p *poolActor) onReserve(ctx actor.Context, m *actors.ReserveMemory) {
	_, dup := p.reservations[m.Ref]
	// Waiting activations come first: a reservation would take the memory the
	// buffer head waits for.
	granted := p.shutdown == nil && !dup && m.Memory > 0 && p.buf.len() == 0 && p.ledger.fits(m.Memory)
	if granted {
		if err := p.ledger.add(memStarting, m.Memory); err != nil {
			p.log.Error().Err(err).Uint64("ref", m.Ref).Msg("reservation refused by the ledger")
			granted = false
		} else {
			p.reservations[m.Ref] = reservation{kind: m.Kind, mem: m.Memory}
		}
	}
	p.answerPrewarm(ctx, &actors.ReserveMemoryReply{Ref: m.Ref, Granted: granted})
}

func (p *poolActor) onRelease(ctx actor.Context, m *actors.ReleaseMemory) {
	r, ok := p.reservations[m.Ref]
	if !ok {
		p.log.Warn().Uint64("ref", m.Ref).Msg("ReleaseMemory for an unknown reservation ignored")
		return
	}
	delete(p.reservations, m.Ref)
	p.ledger.release(memStarting, r.mem)
	p.memoryBack(ctx)
}

func (p *poolActor) onStemCellReady(ctx actor.Context, m *actors.StemCellReady) {
	r, ok := p.reservations[m.Ref]
	if ok {
		delete(p.reservations, m.Ref)
		p.ledger.release(memStarting, r.mem)
	} else {
		p.log.Error().Uint64("ref", m.Ref).Msg("StemCellReady without a reservation")
		r = reservation{kind: m.Kind, mem: m.Memory}
	}
	// The container exists; it is booked again under its own entry. Without a
	// reservation and without room the ledger refuses, and the only safe
	// thing is to get rid of the container at once.
	if err := p.ledger.add(memPrewarmed, r.mem); err != nil {
		p.log.Error().Err(err).Uint64("ref", m.Ref).Msg("stem cell does not fit; destroying it")
		p.destroyOrphan(m.Container)
		p.tell(ctx, &actors.StemCellRemoved{Ref: m.Ref, Replace: false})
		return
	}
	e := &entry{
		kind:      m.Kind,
		mem:       r.mem,
		maxConc:   1,
		phase:     phaseStemCell,
		ref:       m.Ref,
		expires:   m.Expires,
		availTier: tierNone,
	}
	e.pid = p.spawnContainer(ctx, containerParams{
		Pool:     ctx.Self(),
		Factory:  p.factoryPID,
		Spec:     factory.ContainerSpec{Kind: m.Kind, Memory: r.mem},
		StemCell: m.Container,
		Config:   p.cfg,
		Clock:    p.clock,
		Log:      p.log.With().Str("container", m.Container.ID()).Logger(),
		Results:  p.m.results(),
	})
	p.registered(e)
	p.byRef[e.ref] = e
	if p.shutdown != nil {
		p.removeContainer(ctx, e, false)
		return
	}
	p.stemCells[e.kind] = append(p.stemCells[e.kind], e)
	p.drain(ctx)
}

func (p *poolActor) onRemoveStemCell(ctx actor.Context, m *actors.RemoveStemCell) {
	e := p.byRef[m.Ref]
	switch {
	case e == nil:
		// Already gone; the scheduler has been told (taken or removed).
		p.log.Debug().Uint64("ref", m.Ref).Msg("RemoveStemCell for an unknown stem cell ignored")
	case e.phase != phaseStemCell:
		p.answerPrewarm(ctx, &actors.StemCellTaken{Ref: e.ref, Kind: e.kind, Memory: e.mem})
	case !e.removing:
		p.log.Info().Uint64("ref", m.Ref).Str("reason", m.Reason).Msg("removing stem cell")
		p.removeContainer(ctx, e, false)
	}
}

func (p *poolActor) dropStemCell(e *entry) {
	cells := p.stemCells[e.kind]
	for i, c := range cells {
		if c == e {
			cells[i] = cells[len(cells)-1]
			cells[len(cells)-1] = nil
			cells = cells[:len(cells)-1]
			break
		}
	}
	if len(cells) == 0 {
		delete(p.stemCells, e.kind)
	} else {
		p.stemCells[e.kind] = cells
	}
}

// ---- memory sync ----

func (p *poolActor) snapshot() actors.MemorySnapshot {
	return actors.MemorySnapshot{
		Time:      p.clock.Now(),
		Total:     p.ledger.total,
		Free:      p.ledger.free(),
		Busy:      p.ledger.usage(memBusy),
		Idle:      p.ledger.usage(memIdle),
		Prewarmed: p.ledger.usage(memPrewarmed),
		Starting:  p.ledger.usage(memStarting),
		Removing:  p.ledger.usage(memRemoving),
		Buffered:  actors.Usage{Count: p.buf.len(), Memory: p.buf.mem},
	}
}

func (p *poolActor) publish(ctx actor.Context) {
	s := p.snapshot()
	p.m.observe(&s)
	for _, sub := range p.subscribers {
		c := s
		ctx.Send(sub, &c)
	}
}

func (p *poolActor) subscribe(pid *actor.PID) {
	if pid == nil {
		return
	}
	for _, s := range p.subscribers {
		if s.Equal(pid) {
			return
		}
	}
	p.subscribers = append(p.subscribers, pid)
}

func (p *poolActor) unsubscribe(pid *actor.PID) {
	for i, s := range p.subscribers {
		if s.Equal(pid) {
			p.subscribers = append(p.subscribers[:i], p.subscribers[i+1:]...)
			return
		}
	}
}
