package pool

import (
	"errors"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/internal/protocol"
)

func (a *containerActor) onStarted(ctx actor.Context) {
	a.cell.instances++
	a.epoch = a.cell.instances
	a.log = a.log.With().Str("actor", ctx.Self().Id).Logger()
	if a.cell.id != "" {
		a.log = a.log.With().Str("container", a.cell.id).Logger()
	}
	if a.epoch > 1 {
		a.recover(ctx)
		return
	}
	if a.p.StemCell != nil {
		a.adopt(a.p.StemCell)
		a.become(stateStarted)
		return
	}
	a.requestCreate(ctx)
}

// recover is a restarted instance's start: the crash left the container in
// an unknown state, so it goes away (see containerCell).
func (a *containerActor) recover(ctx actor.Context) {
	a.log.Warn().Int("instance", a.epoch).Msg("container actor restarted after a crash: removing its container")
	a.leave(ctx, true)
	switch {
	case a.cell.destroyStarted:
		a.become(stateRemoving) // its goroutine reports and posts containerDestroyed
	case a.cell.createPending:
		a.become(stateAbandoned) // destroyed when ContainerCreated arrives
	case a.cell.container != nil:
		a.become(stateStarted)
		a.advance(ctx)
	default:
		a.become(stateRemoving)
		a.sendRemoved(ctx)
		ctx.Stop(ctx.Self())
	}
}

// onRestarting is the old instance's last word before a restart: it
// answers what it can, since its successor will not know these jobs.
func (a *containerActor) onRestarting(ctx actor.Context) {
	a.timers.Stop()
	a.stopWork()
	if a.inHand != nil {
		a.reschedule(ctx, *a.inHand)
		a.inHand = nil
	}
	a.abandonJobs(ctx, msgActorFailed)
}

// onStopping runs when the actor stops, by itself after a destroy or from
// outside (supervisor, pool). From outside, nothing else will finish this
// container's life, so it answers the jobs and starts the destroy here.
func (a *containerActor) onStopping(ctx actor.Context) {
	a.timers.Stop()
	a.abandonJobs(ctx, msgShutdown)
	a.stopWork()
	switch {
	case a.cell.destroyStarted, a.cell.createPending:
		// The destroy goroutine, or the creation's, reports ContainerRemoved.
	case a.cell.container != nil:
		a.destroy(ctx)
	default:
		a.sendRemoved(ctx)
	}
}

// abandonJobs answers every running job with an internal error (cancelling
// its I/O) and bounces every buffered job to the pool.
func (a *containerActor) abandonJobs(ctx actor.Context, msg string) {
	a.cancelRunning()
	for _, j := range a.active {
		a.answerError(ctx, j, factory.StatusInternalError, msg)
	}
	a.bounceBuffer(ctx)
}

func (a *containerActor) adopt(c factory.Container) {
	a.cell.container = c
	a.cell.id = c.ID()
	a.log = a.log.With().Str("container", a.cell.id).Logger()
}

func (a *containerActor) onJob(ctx actor.Context, m *protocol.Job) {
	if a.closed() {
		a.inHand = nil
		a.reschedule(ctx, *m)
		return
	}
	if a.action == nil {
		act := m.Activation.Action
		a.action = &act
		a.ident = m.Activation.Identity()
		a.maxConc = max(act.Limits.MaxConcurrency, 1)
		a.log = a.log.With().Str("namespace", m.Activation.InvocationNamespace).
			Str("action", actionPath(&act)).Logger()
		if a.maxConc > 1 && !a.p.Config.ContainerPool.AkkaClient {
			a.log.Warn().Int("max_concurrency", a.maxConc).
				Msg("intra-container concurrency without container-pool.akka-client: one connection per request")
		}
	} else if !sameIdentity(&a.ident, &m.Activation) {
		// Isolation (invariant 4): a container never serves two identities.
		a.log.Error().Str("activation_id", m.Activation.ID).Interface("want", a.ident).Interface("got", m.Activation.Identity()).
			Msg("job for another action identity bounced")
		a.inHand = nil
		a.reschedule(ctx, *m)
		return
	}
	a.nextJob++
	j := a.newJob(a.nextJob, m)
	a.inHand = nil
	a.buffer = append(a.buffer, j)
	a.advance(ctx)
}

func (a *containerActor) onRemove(ctx actor.Context, m *protocol.Remove) {
	if m.Abort {
		a.cancelRunning()
		for _, j := range a.active {
			a.answerError(ctx, j, factory.StatusInternalError, msgShutdown)
		}
		for _, j := range a.buffer {
			a.answerError(ctx, j, factory.StatusInternalError, msgShutdown)
		}
		a.buffer = nil
	}
	a.exit.draining = true
	a.advance(ctx)
}

func (a *containerActor) onCreated(ctx actor.Context, m *containerCreated) {
	ctx.Respond(&containerAck{})
	a.cell.createPending = false
	if m.err != nil {
		if a.state == stateAbandoned {
			// Nothing was created: the memory may return now. Without an
			// answer at all the factory actor is gone (it bounds its own
			// engine calls): nothing is known, and the memory returns so
			// that the ledger is not short forever.
			if m.noAnswer {
				a.log.Error().Err(m.err).Msg("no answer to a creation given up on: its memory returns without the engine's confirmation")
			} else {
				a.log.Warn().Err(m.err).Msg("creation given up on failed too: no container to remove")
			}
			a.become(stateRemoving)
			a.sendRemoved(ctx)
			ctx.Stop(ctx.Self())
			return
		}
		a.failCreate(ctx, m.err)
		return
	}
	a.adopt(m.c)
	if a.state == stateAbandoned {
		// The caller heard the create deadline's error long ago; only the
		// container is left to remove, and with it the memory returns.
		a.log.Warn().Msg("container created after its create deadline: destroying it")
		a.destroy(ctx)
		return
	}
	a.become(stateStarted)
	a.advance(ctx)
}

// failCreate answers every buffered job with the startup error and stops:
// there is no container to destroy, so the memory returns at once
// (reference §11.5: OpenWhisk's proxy lingered instead).
func (a *containerActor) failCreate(ctx actor.Context, err error) {
	status, msg := startupFailure(err)
	a.log.Warn().Err(err).Int("jobs", len(a.buffer)).Msg("cold container creation failed")
	a.leave(ctx, true)
	for _, j := range a.buffer {
		a.answerError(ctx, j, status, msg)
	}
	a.buffer = nil
	a.become(stateRemoving)
	a.sendRemoved(ctx)
	ctx.Stop(ctx.Self())
}

// onCreateLate gives up on a creation past its deadline: the callers
// waiting here hear OpenWhisk's provisioning error at once and the pool
// hears ContainerRemoving, but the memory stays held (no ContainerRemoved)
// while the factory may still create the container: onCreated removes
// whatever it brings.
func (a *containerActor) onCreateLate(ctx actor.Context) {
	if a.state != stateStarting {
		return
	}
	a.log.Warn().Dur("deadline", createTimeout(a.p.Config)).Int("jobs", len(a.buffer)).
		Msg("container creation past its deadline: answering its callers; the container is removed if it still comes")
	a.become(stateAbandoned)
	a.leave(ctx, true)
	for _, j := range a.buffer {
		a.answerError(ctx, j, factory.StatusInternalError, msgProvisionError)
	}
	a.buffer = nil
}

// startupFailure maps a creation error to what the user sees: their own
// fault (an image that cannot be pulled) with its message, anything else
// as OpenWhisk's generic provisioning error (the detail is in our log).
func startupFailure(err error) (factory.Status, string) {
	var se *factory.StartupError
	if errors.As(err, &se) && se.UserError {
		return factory.StatusDeveloperError, se.Msg
	}
	return factory.StatusInternalError, msgProvisionError
}

func (a *containerActor) onInitOK(ctx actor.Context, m *containerInitOK) {
	if !a.become(stateRunning) {
		return
	}
	if !a.cell.told.ready {
		a.cell.told.ready = true
		ctx.Send(a.p.Pool, &protocol.ContainerReady{Container: ctx.Self(), ID: a.cell.id})
	}
	a.advance(ctx)
}

func (a *containerActor) onJobFinished(ctx actor.Context, j *containerJob) {
	if a.active[j.id] != j {
		return
	}
	delete(a.active, j.id)
	defer a.recycle(j)
	if j.claimed.Load() {
		// Answered already: from its goroutine (an outcome that keeps the
		// container), or by an abort, restart or stop whose cancellation
		// this outcome merely reflects. A job answered before its logs may
		// still have failed to collect them: the container is not trusted
		// any more (reference §4.3 step 8).
		if j.out.logsFailed {
			a.leave(ctx, true)
			a.bounceBuffer(ctx)
		}
		a.advance(ctx)
		return
	}
	o := &j.out
	if o.err != nil {
		a.log.Warn().Str("activation_id", j.job.Activation.ID).Err(o.err).Bool("health", o.health).Msg("container I/O failed")
	}
	if o.failed() {
		// Tell the pool first, so it places nothing on the capacity that
		// the answers below give back. Also while draining for a Remove:
		// the jobs still buffered must not run on a failed container.
		a.leave(ctx, true)
	}
	switch {
	case o.health:
		if j.claim() {
			a.reschedule(ctx, *j.job)
		}
	case o.initFailed:
		a.answer(ctx, j, o.result)
		// Every job that waited for this init gets the same error.
		now := a.p.Clock.Now()
		for _, b := range a.buffer {
			res := errorResult(&b.job.Activation, b.job.StartKind, a.cell.id, o.result.Status, "", now)
			res.Response = o.result.Response
			a.answer(ctx, b, res)
		}
		a.buffer = nil
	default:
		a.answer(ctx, j, o.result)
	}
	if a.exit.leaving {
		a.bounceBuffer(ctx)
	}
	a.advance(ctx)
}

func (a *containerActor) onSuspended(ctx actor.Context, m *containerSuspended) {
	a.become(statePaused)
	if m.err != nil {
		// A container that failed to pause is discarded, not kept running
		// unpaused (reference §4.1 Pausing).
		a.log.Warn().Err(m.err).Msg("pause failed: removing the container")
		a.leave(ctx, true)
		a.bounceBuffer(ctx)
	} else {
		if a.p.ReportPause {
			ctx.Send(a.p.Pool, &protocol.ContainerPaused{Container: ctx.Self(), At: a.p.Clock.Now()})
		}
		if a.plan.set {
			a.armRemoval(ctx)
		} else {
			a.armTimer(ctx, a.p.Config.ContainerProxy.Timeouts.IdleContainer, func(gen uint64) any { return &containerIdleTimeout{gen} })
		}
	}
	a.advance(ctx)
}

func (a *containerActor) onResumed(ctx actor.Context, m *containerResumed) {
	if m.err != nil {
		a.log.Warn().Err(m.err).Msg("resume failed: rescheduling its jobs and removing the container")
		a.become(statePaused)
		a.leave(ctx, true)
		a.bounceBuffer(ctx)
		a.advance(ctx)
		return
	}
	a.cell.mayBePaused = false
	a.become(stateRunning)
	a.advance(ctx)
}

// armPause schedules the pause check after d.
func (a *containerActor) armPause(ctx actor.Context, d time.Duration) {
	if a.idle.msg == nil || a.idle.msg.epoch != a.epoch {
		a.idle.msg = &containerPauseTimeout{epoch: a.epoch}
	}
	a.idle.armed = true
	a.idle.due = a.p.Clock.Now().Add(d)
	a.timers.SendOnce(ctx, d, a.idle.msg)
}

// onPauseTimeout pauses a container that has been Ready for the whole
// pause grace; one that worked meanwhile gets the rest of its grace.
func (a *containerActor) onPauseTimeout(ctx actor.Context) {
	a.idle.armed = false
	if a.state != stateReady {
		return // armed again when it next goes Ready
	}
	at, ok := a.pauseDue()
	if !ok {
		return // the plan says never
	}
	if left := at.Sub(a.p.Clock.Now()); left > 0 {
		a.armPause(ctx, left)
		return
	}
	a.pause(ctx)
}
