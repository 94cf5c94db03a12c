package pool

import (
	"context"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/stemcell-io/stemcell/factory"
)

// goneGrace is how long the jobs running in a container that died or was
// removed from outside may take to end by themselves before they are
// answered. A killed runtime usually breaks their connections at once, and
// their own outcome (an OOM, the action's crash) says more than ours; the
// grace only bounds the wait when nothing breaks (a removed network, a
// half-open connection), so that the caller hears within about a second
// instead of at the action's time limit.
const goneGrace = 500 * time.Millisecond

// containerGoneGrace ends goneGrace for the instance of that epoch.
type containerGoneGrace struct{ epoch int }

func (*containerGoneGrace) IgnoreDeadLetterLogging() {}

// onEngineEvent reacts to a change made to the container outside this
// actor: the engine is the source of truth.
func (a *containerActor) onEngineEvent(ctx actor.Context, m *factory.EngineEvent) {
	if a.cell.container == nil || m.ID != a.cell.id || a.cell.destroyStarted {
		return // not ours, or our own removal under way
	}
	switch m.Kind {
	case factory.EventDied, factory.EventGone:
		a.onContainerLost(ctx, m)
	case factory.EventPaused:
		a.onPausedOutside(ctx, m)
	}
}

// onContainerLost handles a container that died or was removed: it goes
// away (a stem cell is replaced), the jobs waiting here go back to the
// pool and the running ones are answered after goneGrace at the latest.
// Its memory returns with ContainerRemoved, once Destroy has confirmed
// that the engine no longer holds it.
func (a *containerActor) onContainerLost(ctx actor.Context, m *factory.EngineEvent) {
	if a.exit.goneSeen {
		return
	}
	a.log.Warn().Stringer("event", m.Kind).Str("detail", m.Detail).Str("state", a.state.String()).
		Int("running", len(a.active)).Msg("container lost outside the pool: removing it")
	a.exit.goneSeen = true
	a.leave(ctx, true)
	a.bounceBuffer(ctx)
	if len(a.active) > 0 {
		a.timers.SendOnce(ctx, goneGrace, &containerGoneGrace{epoch: a.epoch})
		return
	}
	a.advance(ctx)
}

// onGoneGrace answers the jobs that still run in a lost container with
// OpenWhisk's error for a run that ended without a response (an internal
// error: the platform lost the container, the action did nothing wrong),
// and cancels their I/O. Their workers post them back; the last one
// destroys the container (onJobFinished).
func (a *containerActor) onGoneGrace(ctx actor.Context) {
	if len(a.active) == 0 {
		return
	}
	for _, j := range a.active {
		a.answerError(ctx, j, factory.StatusInternalError, msgAbnormalRun)
	}
	a.cancelRunning()
}

// onPausedOutside handles a pause: the engine reports the pool's own
// pauses too, and those arrive while this actor is Pausing or Paused (or
// Resuming, or later: then the container is not paused and the resume
// below is a no-op for the engine). A pause from outside would hold every
// job sent here until its time limit, so an idle container is resumed
// before it takes another job; a stem cell is replaced instead (it has no
// state worth a resume), and a busy one is resumed at once.
func (a *containerActor) onPausedOutside(ctx actor.Context, m *factory.EngineEvent) {
	switch a.state {
	case stateReady:
		a.log.Warn().Str("detail", m.Detail).Msg("container paused outside the pool: resuming it")
		a.cell.mayBePaused = true
		a.resume(ctx)
	case stateStarted:
		if a.action == nil && len(a.buffer) == 0 {
			a.log.Warn().Str("detail", m.Detail).Msg("stem cell paused outside the pool: replacing it")
			a.cell.mayBePaused = true
			a.leave(ctx, true)
			a.advance(ctx)
		}
	case stateRunning:
		a.log.Warn().Str("detail", m.Detail).Int("running", len(a.active)).Msg("busy container paused outside the pool: resuming it")
		// Not mayBePaused: the resume below runs now, and a container
		// that is not paused must not be resumed again before its removal.
		c, timeout, log := a.cell.container, engineTimeout(a.p.Config.Docker.Timeouts.Unpause), a.log
		go func() {
			rctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			if err := c.Resume(rctx); err != nil {
				log.Warn().Err(err).Msg("resuming a container paused outside the pool failed")
			}
		}()
	}
}
