package pool

import (
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/internal/protocol"
)

// Errors a caller can see in RunResult.Err; see package actors.
var (
	ErrShuttingDown      = actors.ErrShuttingDown
	ErrBufferFull        = actors.ErrBufferFull
	ErrTooLarge          = actors.ErrTooLarge
	ErrInvalidActivation = actors.ErrInvalidActivation
	ErrPoolCrashed       = actors.ErrPoolCrashed
)

// Messages the pool sends itself.
type (
	memSyncTick      struct{}
	containerGone    struct{ pid *actor.PID }
	shutdownDeadline struct{}
	cleanupDone      struct{ err error }
	// creationsStopDeadline ends the shutdown's wait for the factory's
	// creations in flight.
	creationsStopDeadline struct{}
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
	// beforeStep, when set, sees every message before the pool handles
	// it: tests inject a panic there.
	beforeStep func(p *poolActor, msg any)
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
	byContainer  map[string]*entry   // by engine container id, once known (see pool_engine.go)
	reservations map[uint64]reservation
	idle         lruList   // idle warmed entries, least recently used at the front
	buf          buffer    // container-pool.queue: fifo
	fair         fairQueue // container-pool.queue: fair
	fifo         bool
	cold         meanDuration // of cold starts, creation to ready (see scaleout.go)
	runs         meanDuration // of every action's /run: the guess for an action with none yet
	holdCheckDue bool
	subscribers  []*actor.PID
	pols         policies // keep-alive and eviction policies (policy.go)

	// Scratch of the fair queue's placement rounds, kept to spare
	// allocations.
	gen             uint64
	ringScratch     []*nsQueue
	promisedScratch []*pending
	aheadScratch    []aheadJob[actors.Identity]

	shutdown *shutdownState
	stopping bool
	// inHand is the job the message being handled brought (a Run, a
	// Reschedule) until it is queued, placed or answered: a panic before
	// then must still answer it (crash.go).
	inHand *pending
}

type reservation struct {
	kind string
	mem  config.ByteSize
}

type shutdownState struct {
	waiters      []*actor.PID
	cancel       actors.CancelFunc
	cleanupStart bool
	// stopAsked: StopCreating went to the factory actor; creationsStopped:
	// it answered (or the wait's bound passed); cancelStopWait cancels
	// that bound.
	stopAsked        bool
	creationsStopped bool
	cancelStopWait   actors.CancelFunc
	done             bool
	err              error
}

func newPoolActor(cfg *config.Config, log zerolog.Logger, clock actors.Clock, m *metrics, h hooks, disp *workers) *poolActor {
	bmax := cfg.ContainerPool.BufferSize
	if bmax <= 0 {
		bmax = defaultBufferSize
	}
	pols, err := newPolicies(cfg)
	if err != nil {
		// Spawn refuses such a configuration; only a test gets here.
		panic(fmt.Sprintf("pool: %v", err))
	}
	if m != nil {
		m.setPolicy(pols.pol.KeepAlive.Name(), pols.pol.Eviction.Name())
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
		fair:         newFairQueue(),
		fifo:         cfg.ContainerPool.Queue == config.QueueFIFO,
		pols:         pols,
	}
}

const (
	defaultBufferSize   = 10000
	defaultMemorySync   = time.Second
	containerNamePrefix = "c"
)

// Receive is the pool's mailbox. A panic while it handles a message is
// recovered by survive (crash.go), which answers the callers the pool held
// and rebuilds a consistent pool.
func (p *poolActor) Receive(ctx actor.Context) {
	defer p.survive(ctx)
	if p.hooks.beforeStep != nil {
		p.hooks.beforeStep(p, ctx.Message())
	}
	if !p.handle(ctx) {
		return
	}
	p.inHand = nil
	if p.hooks.afterStep != nil {
		p.hooks.afterStep(p)
	}
}

// handle dispatches one message; it reports false for one it ignores.
func (p *poolActor) handle(ctx actor.Context) bool {
	switch m := ctx.Message().(type) {
	case *actors.Run:
		p.onRun(ctx, m)
	case *protocol.JobDone:
		p.onJobDone(ctx, m)
	case *protocol.ContainerReady:
		p.onReady(ctx, m)
	case *protocol.ContainerRemoving:
		p.onRemoving(ctx, m)
	case *protocol.ContainerRemoved:
		p.onRemoved(ctx, m)
	case *protocol.Reschedule:
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
		p.subscribe(ctx, m.PID)
	case *actors.Unsubscribe:
		p.unsubscribe(ctx, m.PID)
	case *memSyncTick:
		p.publish(ctx)
		p.sweepActions(p.clock.Now())
	case *actors.Shutdown:
		p.onShutdown(ctx, m)
	case *shutdownDeadline:
		p.onShutdownDeadline(ctx)
	case *cleanupDone:
		p.onCleanupDone(ctx, m)
	case *actors.CreatingStopped:
		p.onCreatingStopped(ctx)
	case *creationsStopDeadline:
		p.onCreationsStopDeadline(ctx)
	case *holdCheck:
		p.onHoldCheck(ctx)
	case *protocol.ContainerPaused:
		p.onPaused(ctx, m)
	case *actors.TimerFired:
		p.onTimerFired(ctx, m)
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
	case *factory.EngineEvent:
		p.onEngineEvent(ctx, m)
	default:
		return false
	}
	return true
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
