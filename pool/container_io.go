package pool

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/internal/protocol"
)

// Results of container I/O, posted by the goroutine that did it. epoch
// names the actor instance that started the I/O; a restarted actor ignores
// results addressed to its predecessor.
type (
	containerCreated struct {
		c        factory.Container
		err      error
		noAnswer bool // the factory actor never answered (err says so)
	}
	containerInitOK struct {
		epoch int
		job   uint64
	}
	containerSuspended struct {
		epoch int
		err   error
	}
	containerResumed struct {
		epoch int
		err   error
	}
	containerDestroyed    struct{}
	containerCreateLate   struct{ gen uint64 } // the create deadline passed
	containerAck          struct{}
	containerPauseTimeout struct{ epoch int }
	containerIdleTimeout  struct{ gen uint64 }
)

// I/O results for an actor that stopped (from outside, or after a crash
// and its cleanup) are expected dead letters.
func (*containerDestroyed) IgnoreDeadLetterLogging() {}
func (*containerInitOK) IgnoreDeadLetterLogging()    {}
func (*containerSuspended) IgnoreDeadLetterLogging() {}
func (*containerResumed) IgnoreDeadLetterLogging()   {}

// Safety margins for I/O whose own timeouts live elsewhere (the action's
// timeout in the container client, docker timeouts in the factory): they
// only keep a goroutine from hanging forever on a stuck engine.
const (
	ioMargin          = time.Minute
	createAckTimeout  = time.Minute
	defaultIOTimeout  = 10 * time.Minute
	engineOpsFallback = time.Minute
)

// lateCreateWait is how long a creation given up on (createTimeout) may
// still answer before its memory is returned without one. Only a factory
// actor that died mid-creation should ever reach it: the factory bounds
// its own engine calls.
const lateCreateWait = defaultIOTimeout

// createTimeout is how long the container actor waits for the factory's
// answer: the factory's own creation deadline (docker.timeouts.create),
// the removal of a container that came too late, and a margin, so that the
// factory always answers first. Past it the callers waiting for the
// container get an error, but its memory stays held until the factory's
// late answer says no container is left (stateAbandoned).
func createTimeout(cfg *config.Config) time.Duration {
	t := cfg.Docker.Timeouts
	d := t.CreateDeadline()
	if d <= 0 {
		return defaultIOTimeout
	}
	return d + engineTimeout(t.Rm) + ioMargin
}

// engineTimeout bounds one engine operation: the configured value, or a
// fallback when unset.
func engineTimeout(d time.Duration) time.Duration {
	if d <= 0 {
		return engineOpsFallback
	}
	return d
}

// requestCreate asks the factory actor for the cold container and arms
// the create deadline. The answer comes through a future so that a
// goroutine can tell whether this actor is still alive to take the
// container: if it is not (stopped while the engine was creating), the
// goroutine destroys the container and reports ContainerRemoved itself, so
// neither the engine container nor the pool's memory leaks. The future
// outlives the deadline by lateCreateWait, so that a late container is
// still seen and removed (onCreated in stateAbandoned).
func (a *containerActor) requestCreate(ctx actor.Context) {
	a.become(stateStarting)
	if a.p.Factory == nil {
		a.failCreate(ctx, fmt.Errorf("container %q: no factory actor to create it with", a.p.Spec.Name))
		return
	}
	a.cell.createPending = true
	deadline := createTimeout(a.p.Config)
	a.armTimer(ctx, deadline, func(gen uint64) any { return &containerCreateLate{gen} })
	spec, factoryPID, pool := a.p.Spec, a.p.Factory, a.p.Pool
	root, self := ctx.ActorSystem().Root, ctx.Self()
	rmTimeout := engineTimeout(a.p.Config.Docker.Timeouts.Rm)
	log := a.log
	f := ctx.RequestFuture(factoryPID, &actors.CreateContainer{Spec: spec}, deadline+lateCreateWait)
	go func() {
		msg := &containerCreated{}
		res, err := f.Result()
		switch r := res.(type) {
		case *actors.ContainerCreated:
			msg.c, msg.err = r.Container, r.Err
		default:
			msg.noAnswer = true
			msg.err = fmt.Errorf("factory actor %s: no answer to CreateContainer for %q: %w", factoryPID, spec.Name, err)
		}
		if msg.err == nil && msg.c == nil {
			msg.err = fmt.Errorf("factory actor %s: ContainerCreated for %q has neither a container nor an error", factoryPID, spec.Name)
		}
		_, err = root.RequestFuture(self, msg, createAckTimeout).Result()
		if !errors.Is(err, actor.ErrDeadLetter) {
			return // delivered (or the actor is alive but slow: it will handle it)
		}
		if msg.c != nil {
			log.Warn().Str("container", msg.c.ID()).Msg("container created for a stopped actor: destroying it")
			dctx, cancel := context.WithTimeout(context.Background(), rmTimeout)
			if derr := msg.c.Destroy(dctx); derr != nil {
				log.Error().Err(derr).Str("container", msg.c.ID()).Msg("destroy of orphaned container failed")
			}
			cancel()
		}
		root.Send(pool, &protocol.ContainerRemoved{Container: self, Replace: true})
	}()
}

// pause suspends the container off the actor goroutine.
func (a *containerActor) pause(ctx actor.Context) {
	a.stopWork() // no job runs while paused; a resume starts them again
	a.become(statePausing)
	a.cell.mayBePaused = true
	c, epoch, root, self := a.cell.container, a.epoch, ctx.ActorSystem().Root, ctx.Self()
	timeout := engineTimeout(a.p.Config.Docker.Timeouts.Pause)
	go func() {
		cctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		root.Send(self, &containerSuspended{epoch: epoch, err: c.Suspend(cctx)})
	}()
}

// resume resumes the paused container off the actor goroutine.
func (a *containerActor) resume(ctx actor.Context) {
	a.become(stateResuming)
	c, epoch, root, self := a.cell.container, a.epoch, ctx.ActorSystem().Root, ctx.Self()
	timeout := engineTimeout(a.p.Config.Docker.Timeouts.Unpause)
	go func() {
		cctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		root.Send(self, &containerResumed{epoch: epoch, err: c.Resume(cctx)})
	}()
}

// destroy removes the container, exactly once per container: the cell
// records that a destroy started, and the goroutine that does it reports
// ContainerRemoved to the pool (it works even if this actor is stopped by
// then) before telling the actor to stop.
func (a *containerActor) destroy(ctx actor.Context) {
	if a.cell.destroyStarted {
		return
	}
	a.bounceBuffer(ctx)
	a.cancelStateTimer()
	a.timers.Stop()
	a.stopWork()
	a.become(stateRemoving)
	self := ctx.Self()
	if a.cell.container == nil {
		a.sendRemoved(ctx)
		ctx.Stop(self)
		return
	}
	a.cell.destroyStarted = true
	a.cell.told.removed = true // owed by the goroutine below
	startDestroy(ctx.ActorSystem().Root, self, a.p.Pool, a.cell.container, a.cell.mayBePaused, a.exit.replace,
		engineTimeout(a.p.Config.Docker.Timeouts.Unpause), engineTimeout(a.p.Config.Docker.Timeouts.Rm), a.log)
}

func startDestroy(root *actor.RootContext, self, pool *actor.PID, c factory.Container, resumeFirst, replace bool,
	unpauseTimeout, rmTimeout time.Duration, log zerolog.Logger) {
	go func() {
		if resumeFirst {
			// A paused container cannot be removed reliably (reference §9.16).
			rctx, cancel := context.WithTimeout(context.Background(), unpauseTimeout)
			if err := c.Resume(rctx); err != nil {
				log.Debug().Err(err).Msg("resume before destroy failed; destroying anyway")
			}
			cancel()
		}
		dctx, cancel := context.WithTimeout(context.Background(), rmTimeout)
		err := c.Destroy(dctx)
		cancel()
		if err != nil {
			// The memory is reported back anyway: the ledger must not stay
			// short forever, and the factory's cleanup at shutdown removes
			// whatever is left under this invoker's prefix.
			log.Error().Err(err).Msg("destroy failed")
		}
		root.Send(pool, &protocol.ContainerRemoved{Container: self, Replace: replace})
		root.Send(self, &containerDestroyed{})
	}()
}
