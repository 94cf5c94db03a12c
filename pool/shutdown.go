package pool

import (
	"context"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/internal/protocol"
)

// cleanupTimeout bounds the factory's Cleanup at the end of a shutdown.
const cleanupTimeout = time.Minute

// creationsStopMargin is added to docker.timeouts.rm to bound the wait for
// the factory's creations in flight at shutdown: they are cancelled, so
// what remains is the removal of a container one produced anyway.
const creationsStopMargin = 10 * time.Second

// onShutdown stops accepting work, answers the buffer, stops the prewarm
// scheduler and asks every container to go once its running jobs are done;
// past the deadline they are aborted. ShutdownDone goes out when the last
// container is removed and the factory has cleaned up.
func (p *poolActor) onShutdown(ctx actor.Context, m *actors.Shutdown) {
	if p.shutdown != nil {
		if s := p.shutdown; s.done {
			ctx.Respond(&actors.ShutdownDone{Err: s.err})
		} else if ctx.Sender() != nil {
			s.waiters = append(s.waiters, ctx.Sender())
		}
		return
	}
	p.shutdown = &shutdownState{}
	if ctx.Sender() != nil {
		p.shutdown.waiters = append(p.shutdown.waiters, ctx.Sender())
	}
	p.log.Info().Int("containers", len(p.entries)).Int("buffered", p.queued()).Time("deadline", m.Deadline).Msg("pool shutting down")
	waiting := p.fair.all()
	p.fair = newFairQueue()
	for p.buf.len() > 0 {
		waiting = append(waiting, p.buf.popHead())
	}
	for _, job := range waiting {
		p.reject(ctx, job, "shutdown", fmt.Errorf("activation %s was waiting for capacity and was not run: %w", job.act.ID, ErrShuttingDown))
	}
	if p.prewarmPID != nil {
		ctx.Stop(p.prewarmPID)
		p.prewarmPID = nil
	}
	// The scheduler's reservations stay booked: their creations may still
	// be running in the factory actor, and one that succeeds now answers
	// the stopped scheduler, so its container lives until the cleanup. A
	// ReleaseMemory or StemCellReady the scheduler sent before it stopped
	// still settles its own; returnReservations settles the rest.
	for _, e := range p.entries {
		if !e.removing {
			p.removeContainer(ctx, e, false)
		}
	}
	if !m.Deadline.IsZero() {
		p.shutdown.cancel = p.timers.SendOnce(ctx, m.Deadline.Sub(p.clock.Now()), &shutdownDeadline{})
	}
	p.checkShutdown(ctx)
}

// onShutdownDeadline aborts whatever still runs.
func (p *poolActor) onShutdownDeadline(ctx actor.Context) {
	if p.shutdown == nil || p.shutdown.done {
		return
	}
	p.log.Warn().Int("containers", len(p.entries)).Msg("shutdown deadline passed: aborting running activations")
	for _, e := range p.entries {
		p.change(e, func() { e.removing = true })
		ctx.Send(e.pid, &protocol.Remove{Abort: true})
	}
}

func (p *poolActor) checkShutdown(ctx actor.Context) {
	s := p.shutdown
	if s == nil || s.cleanupStart || len(p.entries) > 0 || !p.creationsStopped(ctx) {
		return
	}
	s.cleanupStart = true
	if s.cancel != nil {
		s.cancel()
	}
	if p.hooks.cleanup == nil {
		p.onCleanupDone(ctx, &cleanupDone{})
		return
	}
	root, self, cleanup := ctx.ActorSystem().Root, ctx.Self(), p.hooks.cleanup
	go func() { root.Send(self, &cleanupDone{err: cleanup()}) }()
}

// creationsStopped reports whether the factory actor creates nothing more.
// The first call asks it to stop (once no container actor is left, so no
// cold start of running work is cut short): it cancels the creations in
// flight (stem cells nobody will take), removes what they still produce
// and answers *actors.CreatingStopped. Only then may the cleanup list what
// to remove, or a creation could finish after it. The wait is bounded by
// docker.timeouts.rm and a margin: past it the cleanup goes ahead.
func (p *poolActor) creationsStopped(ctx actor.Context) bool {
	s := p.shutdown
	if p.factoryPID == nil || s.creationsStopped {
		return true
	}
	if !s.stopAsked {
		s.stopAsked = true
		ctx.Request(p.factoryPID, &actors.StopCreating{})
		s.cancelStopWait = p.timers.SendOnce(ctx, p.cfg.Docker.Timeouts.Rm+creationsStopMargin, &creationsStopDeadline{})
	}
	return false
}

func (p *poolActor) onCreatingStopped(ctx actor.Context) {
	s := p.shutdown
	if s == nil || s.creationsStopped {
		return
	}
	s.creationsStopped = true
	if s.cancelStopWait != nil {
		s.cancelStopWait()
	}
	p.checkShutdown(ctx)
}

func (p *poolActor) onCreationsStopDeadline(ctx actor.Context) {
	s := p.shutdown
	if s == nil || s.creationsStopped {
		return
	}
	p.log.Warn().Dur("waited", p.cfg.Docker.Timeouts.Rm+creationsStopMargin).
		Msg("shutdown: the factory's creations in flight did not end in time; cleaning up anyway")
	s.creationsStopped = true
	p.checkShutdown(ctx)
}

func (p *poolActor) onCleanupDone(ctx actor.Context, m *cleanupDone) {
	s := p.shutdown
	if s == nil || s.done {
		return
	}
	s.done = true
	if m.err != nil {
		s.err = fmt.Errorf("pool shutdown: factory cleanup: %w", m.err)
	}
	p.returnReservations()
	p.timers.Stop()
	p.log.Info().Err(s.err).Msg("pool shut down")
	for _, w := range s.waiters {
		ctx.Send(w, &actors.ShutdownDone{Err: s.err})
	}
	s.waiters = nil
}

// returnReservations gives back the memory of the stem-cell reservations
// still booked when the shutdown ends. Their creations have ended (the
// factory actor answered CreatingStopped, or its bound passed) and any
// container one made after the scheduler stopped, which nobody took, has
// gone with the factory's cleanup: nothing in the engine is left for them.
func (p *poolActor) returnReservations() {
	if len(p.reservations) == 0 {
		return
	}
	p.log.Info().Int("reservations", len(p.reservations)).
		Msg("shutdown: stem-cell creations ended and the cleanup is done; their reservations return")
	for ref, r := range p.reservations {
		delete(p.reservations, ref)
		p.memoryReturned(memStarting, r.mem, "shutdown: creations stopped and the factory cleaned up")
	}
}

// destroyOrphan destroys a container that the pool cannot book, off the
// actor goroutine.
func (p *poolActor) destroyOrphan(c factory.Container) {
	if c == nil {
		return
	}
	log := p.log
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		if err := c.Destroy(ctx); err != nil {
			log.Error().Err(err).Str("container", c.ID()).Msg("destroying an unbooked stem cell failed")
		}
	}()
}
