package pool

import (
	"context"
	"errors"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/factory"
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
		a.state = stateStarted
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
		a.state = stateRemoving // its goroutine reports and posts containerDestroyed
	case a.cell.createPending:
		a.state = stateStarting // destroyed when ContainerCreated arrives
	case a.cell.container != nil:
		a.state = stateStarted
		a.advance(ctx)
	default:
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

func (a *containerActor) onJob(ctx actor.Context, m *actors.Job) {
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

func (a *containerActor) onRemove(ctx actor.Context, m *actors.Remove) {
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
	a.draining = true
	a.advance(ctx)
}

func (a *containerActor) onCreated(ctx actor.Context, m *containerCreated) {
	ctx.Respond(&containerAck{})
	a.cell.createPending = false
	if m.err != nil {
		a.failCreate(ctx, m.err)
		return
	}
	a.adopt(m.c)
	a.state = stateStarted
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
	a.state = stateRemoving
	a.sendRemoved(ctx)
	ctx.Stop(ctx.Self())
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
	a.initialized = true
	if !a.cell.readySent {
		a.cell.readySent = true
		ctx.Send(a.p.Pool, &actors.ContainerReady{Container: ctx.Self(), ID: a.cell.id})
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
	if a.leaving {
		a.bounceBuffer(ctx)
	}
	a.advance(ctx)
}

func (a *containerActor) onSuspended(ctx actor.Context, m *containerSuspended) {
	a.state = statePaused
	if m.err != nil {
		// A container that failed to pause is discarded, not kept running
		// unpaused (reference §4.1 Pausing).
		a.log.Warn().Err(m.err).Msg("pause failed: removing the container")
		a.leave(ctx, true)
		a.bounceBuffer(ctx)
	} else {
		a.armTimer(ctx, a.p.Config.ContainerProxy.Timeouts.IdleContainer, func(gen uint64) any { return &containerIdleTimeout{gen} })
	}
	a.advance(ctx)
}

func (a *containerActor) onResumed(ctx actor.Context, m *containerResumed) {
	if m.err != nil {
		a.log.Warn().Err(m.err).Msg("resume failed: rescheduling its jobs and removing the container")
		a.state = statePaused
		a.leave(ctx, true)
		a.bounceBuffer(ctx)
		a.advance(ctx)
		return
	}
	a.cell.mayBePaused = false
	a.state = stateRunning
	a.advance(ctx)
}

// advance does whatever the state allows next: start jobs, go idle, pause,
// resume, or destroy. Every handler calls it after changing state.
func (a *containerActor) advance(ctx actor.Context) {
	switch a.state {
	case stateStarted:
		if len(a.buffer) > 0 {
			a.setState(ctx, stateRunning)
			a.dispatch(ctx, a.popBuffer(), true)
			return
		}
		if a.closed() {
			a.destroy(ctx)
		}
	case stateRunning:
		if a.initialized {
			for len(a.active) < a.maxConc && len(a.buffer) > 0 {
				a.dispatch(ctx, a.popBuffer(), false)
			}
		}
		if len(a.active) > 0 {
			return
		}
		switch {
		case a.closed():
			a.destroy(ctx)
		case !a.initialized:
			// The init job ended without an init result (cancelled).
			a.leave(ctx, true)
			a.destroy(ctx)
		default:
			a.setState(ctx, stateReady)
			a.readyAt = a.p.Clock.Now()
			if !a.pauseArmed {
				a.armPause(ctx, a.p.Config.ContainerProxy.Timeouts.PauseGrace)
			}
		}
	case stateReady:
		if len(a.buffer) > 0 {
			a.setState(ctx, stateRunning)
			a.advance(ctx)
			return
		}
		if a.closed() {
			a.destroy(ctx)
		}
	case statePaused:
		// Buffered jobs first: with Remove{Abort:false} they still run.
		if len(a.buffer) > 0 && !a.leaving {
			a.resume(ctx)
			return
		}
		if a.closed() {
			a.destroy(ctx)
		}
	}
}

// dispatch hands one job to the container's workers, starting one when
// every worker may be busy: never more than the jobs in flight, so never
// more than the max concurrency. work holds at most that many jobs, so
// the send never blocks the actor.
func (a *containerActor) dispatch(ctx actor.Context, j *containerJob, withInit bool) {
	a.active[j.id] = j
	if a.jobCtx == nil {
		// No deadline here: the container bounds each call by the action's
		// timeout; cancelJobs serves Remove{Abort}, restarts and stops.
		a.jobCtx, a.cancelJobs = context.WithCancel(context.Background())
	}
	j.withInit, j.ctx, j.epoch = withInit, a.jobCtx, a.epoch
	if a.work == nil {
		a.work = make(chan *containerJob, a.maxConc)
		a.workers = 0
	}
	if a.workers < len(a.active) {
		a.workers++
		w := jobWorker{
			tmpl: jobRun{
				c:           a.cell.container,
				containerID: a.cell.id,
				path:        actionPath(a.action),
				maxConc:     a.maxConc,
				payload:     a.p.Config.Limits.Payload,
				clock:       a.p.Clock,
			},
			root:    ctx.ActorSystem().Root,
			self:    ctx.Self(),
			pool:    a.p.Pool,
			results: a.p.Results,
		}
		go w.loop(a.work)
	}
	a.work <- j
}

// stopWork lets the workers end once their current job is done.
func (a *containerActor) stopWork() {
	if a.work != nil {
		close(a.work)
		a.work, a.workers = nil, 0
	}
}

// cancelRunning cancels the I/O of every job in flight.
func (a *containerActor) cancelRunning() {
	if a.cancelJobs != nil {
		a.cancelJobs()
		a.jobCtx, a.cancelJobs = nil, nil
	}
}

// jobWorker runs a container's jobs off the actor goroutine; it holds no
// reference to the actor.
type jobWorker struct {
	tmpl       jobRun
	root       *actor.RootContext
	self, pool *actor.PID
	results    *resultCounters
}

func (w jobWorker) loop(work <-chan *containerJob) {
	for j := range work {
		w.run(j)
	}
}

func (w jobWorker) run(j *containerJob) {
	r := w.tmpl
	r.act, r.startKind, r.withInit = &j.job.Activation, j.job.StartKind, j.withInit
	var lateLogs chan []string
	ran := func(o *jobOutcome) {
		// Answered before its logs when the caller asked for it: the logs
		// follow on LateLogs. Should collecting them fail, the container
		// goes away all the same (onJobFinished).
		if r.act.LogsAfterResult && r.act.Action.Limits.Logs != 0 && w.claimAnswer(r, o, j) {
			lateLogs = make(chan []string, 1)
			res := o.result
			res.LateLogs = lateLogs
			w.answer(r, j, res)
		}
	}
	j.out = r.do(j.ctx, func() { w.root.Send(w.self, &containerInitOK{epoch: j.epoch, job: j.id}) }, ran)
	if lateLogs != nil {
		lateLogs <- j.out.result.Logs
	} else if w.claimAnswer(r, &j.out, j) {
		w.answer(r, j, j.out.result)
	}
	w.root.Send(w.self, j)
}

// claimAnswer says whether this goroutine answers the job, and claims it
// if so: an outcome that keeps the container is answered from here, one
// actor hop sooner. The first job (with /init) goes through the actor, so
// that ContainerReady precedes its result.
func (w jobWorker) claimAnswer(r jobRun, o *jobOutcome, j *containerJob) bool {
	return !r.withInit && !o.failed() && j.job.ReplyTo != nil && j.claim()
}

// answer gives the job's capacity back and then its result, in that order
// (see containerActor.answer). JobDone also goes before the actor's own
// notice (the job itself, posted back), so that anything the actor sends
// because of that notice (a ContainerRemoved after a drain) follows it; a
// job the pool sends on the capacity may then reach the actor before the
// notice, and simply waits in its buffer or in this worker's queue.
func (w jobWorker) answer(r jobRun, j *containerJob, res actors.Result) {
	w.root.Send(w.pool, &actors.JobDone{Container: w.self, LastUsed: r.clock.Now(), RunTime: runTime(res)})
	w.results.inc(res.Status)
	w.root.Send(j.job.ReplyTo, &actors.RunResult{Result: res})
}

func (a *containerActor) popBuffer() *containerJob {
	j := a.buffer[0]
	a.buffer[0] = nil
	a.buffer = a.buffer[1:]
	return j
}

// leave makes the container go away on its own: the pool hears
// ContainerRemoving (unless it asked for the removal itself) and running
// jobs finish before the destroy. The caller decides what the jobs not yet
// started get (bounceBuffer, or the init error).
func (a *containerActor) leave(ctx actor.Context, replace bool) {
	a.replace = a.replace || replace
	if a.leaving {
		return
	}
	a.leaving = true
	a.cancelStateTimer()
	if !a.cell.removingSent && !a.draining {
		a.cell.removingSent = true
		ctx.Send(a.p.Pool, &actors.ContainerRemoving{Container: ctx.Self()})
	}
}

func (a *containerActor) bounceBuffer(ctx actor.Context) {
	for _, j := range a.buffer {
		if j.claim() {
			a.reschedule(ctx, *j.job)
		}
	}
	a.buffer = nil
}

func (a *containerActor) reschedule(ctx actor.Context, job actors.Job) {
	ctx.Send(a.p.Pool, &actors.Reschedule{Container: ctx.Self(), Job: job})
}

// answer gives a job's capacity back and sends the job its one result, in
// that order: JobDone is in the pool's mailbox before the caller can have
// the result, so a caller that invokes again at once always finds the
// capacity back (a warm start), never a busy container.
func (a *containerActor) answer(ctx actor.Context, j *containerJob, res actors.Result) {
	if !j.claim() {
		return
	}
	if res.ContainerID == "" {
		res.ContainerID = a.cell.id
	}
	a.log.Debug().Str("activation_id", j.job.Activation.ID).Int("status", int(res.Status)).Msg("activation finished")
	ctx.Send(a.p.Pool, &actors.JobDone{Container: ctx.Self(), LastUsed: a.p.Clock.Now(), RunTime: runTime(res)})
	a.p.Results.inc(res.Status)
	if j.job.ReplyTo != nil {
		ctx.Send(j.job.ReplyTo, &actors.RunResult{Result: res})
	} else {
		a.log.Error().Str("activation_id", j.job.Activation.ID).Msg("job without ReplyTo: its result is lost")
	}
}

func (a *containerActor) answerError(ctx actor.Context, j *containerJob, status factory.Status, msg string) {
	if j.claimed.Load() {
		return
	}
	a.answer(ctx, j, errorResult(&j.job.Activation, j.job.StartKind, a.cell.id, status, msg, a.p.Clock.Now()))
}

func (a *containerActor) sendRemoved(ctx actor.Context) {
	if a.cell.removedSent {
		return
	}
	a.cell.removedSent = true
	ctx.Send(a.p.Pool, &actors.ContainerRemoved{Container: ctx.Self(), Replace: a.replace})
}

func (a *containerActor) setState(ctx actor.Context, s containerState) {
	if s != a.state {
		a.cancelStateTimer()
		a.log.Trace().Str("from", a.state.String()).Str("to", s.String()).Msg("state")
		a.state = s
	}
}

// armTimer starts the state timeout of the current state; a new state or a
// new timer makes older timeouts stale.
func (a *containerActor) armTimer(ctx actor.Context, d time.Duration, msg func(gen uint64) any) {
	a.cancelStateTimer()
	a.stateTimer = a.timers.SendOnce(ctx, d, msg(a.timerGen))
}

func (a *containerActor) cancelStateTimer() {
	a.timerGen++
	if a.stateTimer != nil {
		a.stateTimer()
		a.stateTimer = nil
	}
}

// armPause schedules the pause check after d.
func (a *containerActor) armPause(ctx actor.Context, d time.Duration) {
	if a.pauseMsg == nil || a.pauseMsg.epoch != a.epoch {
		a.pauseMsg = &containerPauseTimeout{epoch: a.epoch}
	}
	a.pauseArmed = true
	a.timers.SendOnce(ctx, d, a.pauseMsg)
}

// onPauseTimeout pauses a container that has been Ready for the whole
// pause grace; one that worked meanwhile gets the rest of its grace.
func (a *containerActor) onPauseTimeout(ctx actor.Context) {
	a.pauseArmed = false
	if a.state != stateReady {
		return // armed again when it next goes Ready
	}
	if left := a.readyAt.Add(a.p.Config.ContainerProxy.Timeouts.PauseGrace).Sub(a.p.Clock.Now()); left > 0 {
		a.armPause(ctx, left)
		return
	}
	a.pause(ctx)
}

// newJob returns a job record, reusing one whose job is over: a record
// holds a whole outcome (a few hundred bytes), and a warm container goes
// through one per activation.
func (a *containerActor) newJob(id uint64, m *actors.Job) *containerJob {
	n := len(a.free)
	if n == 0 {
		return &containerJob{id: id, job: m}
	}
	j := a.free[n-1]
	a.free[n-1] = nil
	a.free = a.free[:n-1]
	j.id, j.job = id, m
	return j
}

// recycle keeps j for a later job. Only onJobFinished calls it, when j's
// worker has posted it back (its last touch) and j has left active and
// been answered or bounced: nothing refers to it any more.
func (a *containerActor) recycle(j *containerJob) {
	if len(a.free) >= a.maxConc {
		return
	}
	j.job, j.ctx, j.out, j.withInit, j.epoch = nil, nil, jobOutcome{}, false, 0
	j.claimed.Store(false)
	a.free = append(a.free, j)
}
