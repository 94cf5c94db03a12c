package pool

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/internal/protocol"
)

// containerParams is everything a container actor needs. The pool builds
// one per container and spawns newContainerProps(params) exactly once.
type containerParams struct {
	Pool     *actor.PID            // receives JobDone, ContainerReady, ContainerRemoving, ContainerRemoved, Reschedule
	Factory  *actor.PID            // factory actor, used only for a cold container
	Spec     factory.ContainerSpec // what to create for a cold container
	StemCell factory.Container     // non-nil: an already-created prewarmed container; the actor starts in Started
	Config   *config.Config        // container-proxy timeouts, limits, payload sizes, akka-client
	Clock    actors.Clock
	Log      zerolog.Logger
	Results  *containerCounters // counts every result the actor sends and every state transition; nil counts nothing
	// ReportPause makes the actor tell the pool each completed pause
	// (protocol.ContainerPaused), for the pool's keep-alive policy.
	ReportPause bool

	// testHook, when set, sees every message before the actor handles it;
	// tests panic in it to crash the actor at a chosen point.
	testHook func(msg any)
}

// containerCell is the part of a container actor that survives a restart
// by its supervisor (actors.ContainerSupervisor). It belongs to the props
// (one per container) and is touched only from the actor's mailbox, whose
// messages are processed one at a time even across a restart.
//
// What survives: the container handle (so the engine container is never
// leaked), what the pool was told (ContainerRemoving, ContainerReady,
// ContainerRemoved), whether a creation or a destroy is in flight and
// whether the container may be paused. What does not: the jobs, the
// timers, the state. The old instance answers or reschedules every job it
// held when it gets *actor.Restarting; the new instance cannot trust the
// container's state after a crash, so it tells the pool ContainerRemoving,
// destroys the container (resuming it first if it may be paused) and
// reports ContainerRemoved exactly once.
type containerCell struct {
	instances      int // how many instances the producer built
	container      factory.Container
	id             string
	createPending  bool // CreateContainer sent, ContainerCreated not yet handled
	mayBePaused    bool // Suspend started and no Resume succeeded since
	destroyStarted bool // a destroy goroutine exists; it reports ContainerRemoved
	told           poolTold
}

// poolTold is what the pool was told about the container, each at most once.
type poolTold struct {
	ready    bool // ContainerReady
	removing bool // ContainerRemoving
	removed  bool // ContainerRemoved sent, or owed by a goroutine
}

// newContainerProps returns the props of one container actor. Spawn them
// once: the props hold the cell that survives the actor's restarts.
//
// Contract with the pool: every Job the actor accepts ends in exactly one
// of (a) *protocol.JobDone to the pool followed by a *actors.RunResult to
// its ReplyTo (capacity first, so a caller that invokes again as soon as
// it has its result finds the container free), or (b) *protocol.Reschedule to the pool (the job did not run
// here). ContainerRemoving comes before the answers that follow a failure,
// and ContainerRemoved comes once, after the engine removed the container
// (or at once when there never was one), after every other report; a
// creation past its deadline (createTimeout) answers its jobs at once but
// reports ContainerRemoved only once the factory's late answer says no
// container is left (it removes one that still came). Then
// the actor stops itself; a Job sent meanwhile would be a dead letter, so
// the pool makes that Stop a no-op (a context decorator) and poisons the
// actor when it handles ContainerRemoved: every Job it sent before is
// then bounced with Reschedule, which may thus arrive after
// ContainerRemoved.
func newContainerProps(p containerParams) *actor.Props {
	if p.Clock == nil {
		p.Clock = actors.RealClock{}
	}
	cell := &containerCell{}
	return actor.PropsFromProducer(func() actor.Actor { return newContainerActor(p, cell) })
}

// containerActor runs one container's life. All its fields are touched
// only from its mailbox; container I/O runs on goroutines that post their
// results back as messages carrying the instance's epoch.
type containerActor struct {
	p      containerParams
	cell   *containerCell
	epoch  int
	log    zerolog.Logger
	timers *actors.Timers

	state      containerState
	stateTimer actors.CancelFunc
	timerGen   uint64 // stale timeouts carry an older generation

	idle idleGrace // the pause grace of a Ready container
	// plan is the pool's keep-alive plan for the current idle period, when
	// it sent one (protocol.KeepAlive); without one the container pauses
	// after pause-grace and goes idle-container after the pause.
	plan keepAlivePlan

	// Jobs run on a few long-lived worker goroutines per container (at most
	// its max concurrency), fed through work, instead of a goroutine per
	// job. They live while the container runs jobs and stop when it pauses,
	// goes away or this instance ends (stopWork).
	work    chan *containerJob
	workers int
	// jobCtx is the context of every job of this instance; cancelJobs
	// serves Remove{Abort}, restarts and stops, which end all of them.
	jobCtx     context.Context
	cancelJobs context.CancelFunc

	action  *actors.Action // the action of the first job; fixed for life
	ident   actors.Identity
	maxConc int

	nextJob uint64
	free    []*containerJob          // records of finished jobs, for reuse (newJob)
	buffer  []*containerJob          // accepted, not started
	active  map[uint64]*containerJob // I/O in flight (answered or not)
	exit    exitPlan                 // why and how the container goes away, once it does

	// inHand is a Job being received and not yet buffered or bounced: if
	// handling it panics, the message is not redelivered, so the
	// Restarting handler bounces it instead of losing it.
	inHand *protocol.Job
}

// idleGrace is the pause-grace timer, armed lazily: once when the
// container goes Ready with no pause timer pending, not on every job. When
// it fires it pauses, or re-arms for what is left of the grace counted
// from since, the last time the container went Ready.
type idleGrace struct {
	armed bool
	due   time.Time // when the armed check fires
	since time.Time
	msg   *containerPauseTimeout
}

// exitPlan is set once the container is on its way out; every field stays
// set until the actor stops.
type exitPlan struct {
	draining bool // the pool sent Remove: finish held jobs, then destroy
	leaving  bool // going away on its own (ContainerRemoving sent)
	replace  bool // ContainerRemoved.Replace
	goneSeen bool // the engine said the container died or was removed
}

// containerJob is one accepted job. Once dispatched, it is also the
// message its worker posts back when the I/O is done: the worker writes
// out, then sends the job to the actor; nothing else writes it after
// dispatch but claimed.
type containerJob struct {
	id       uint64
	job      *protocol.Job // the pool's message, never written after sending
	withInit bool
	ctx      context.Context
	epoch    int
	out      jobOutcome
	// claimed is set by whoever answers the job: the actor, or the job's
	// I/O goroutine for an outcome that changes nothing in the actor.
	claimed atomic.Bool
}

// A job finishing for an actor that stopped is an expected dead letter.
func (*containerJob) IgnoreDeadLetterLogging() {}

// claim reports whether the caller is the one to answer the job.
func (j *containerJob) claim() bool { return j.claimed.CompareAndSwap(false, true) }

func newContainerActor(p containerParams, cell *containerCell) *containerActor {
	return &containerActor{
		p:      p,
		cell:   cell,
		log:    p.Log.With().Str("component", "container").Logger(),
		timers: actors.NewTimers(p.Clock),
		active: map[uint64]*containerJob{},
	}
}

// closed says whether new jobs bounce back to the pool.
func (a *containerActor) closed() bool {
	return a.exit.draining || a.exit.leaving || a.state == stateRemoving
}

func (a *containerActor) Receive(ctx actor.Context) {
	if j, ok := ctx.Message().(*protocol.Job); ok {
		a.inHand = j
	}
	if a.p.testHook != nil {
		a.p.testHook(ctx.Message())
	}
	switch m := ctx.Message().(type) {
	case *actor.Started:
		a.onStarted(ctx)
	case *actor.Restarting:
		a.onRestarting(ctx)
	case *actor.Stopping:
		a.onStopping(ctx)
	case *protocol.Job:
		a.onJob(ctx, m)
	case *protocol.Remove:
		a.onRemove(ctx, m)
	case *containerCreated:
		a.onCreated(ctx, m)
	case *containerInitOK:
		if m.epoch == a.epoch {
			a.onInitOK(ctx, m)
		}
	case *containerJob:
		if m.epoch == a.epoch {
			a.onJobFinished(ctx, m)
		}
	case *containerSuspended:
		if m.epoch == a.epoch {
			a.onSuspended(ctx, m)
		}
	case *containerResumed:
		if m.epoch == a.epoch {
			a.onResumed(ctx, m)
		}
	case *containerPauseTimeout:
		if m.epoch == a.epoch {
			a.onPauseTimeout(ctx)
		}
	case *containerIdleTimeout:
		if m.gen == a.timerGen && (a.state == statePaused || a.state == stateReady) {
			a.removeIdle(ctx)
		}
	case *protocol.KeepAlive:
		a.onKeepAlive(ctx, m)
	case *containerCreateLate:
		if m.gen == a.timerGen {
			a.onCreateLate(ctx)
		}
	case *containerDestroyed:
		ctx.Stop(ctx.Self())
	case *factory.EngineEvent:
		a.onEngineEvent(ctx, m)
	case *containerGoneGrace:
		if m.epoch == a.epoch {
			a.onGoneGrace(ctx)
		}
	}
}
