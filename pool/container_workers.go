package pool

import (
	"context"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/internal/protocol"
)

// dispatch hands one job to the container's workers, starting one when
// every worker may be busy: never more than the jobs in flight, so never
// more than the max concurrency. work holds at most that many jobs, so
// the send never blocks the actor.
func (a *containerActor) dispatch(ctx actor.Context, j *containerJob, withInit bool) {
	// The pool plans an idle period only once every job it placed is done:
	// a job starting now came after the plan, which is over.
	a.plan = keepAlivePlan{}
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
	results    *containerCounters
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
	w.root.Send(w.pool, &protocol.JobDone{Container: w.self, LastUsed: r.clock.Now(), RunTime: runTime(res), StartKind: r.startKind})
	w.results.inc(res.Status)
	w.root.Send(j.job.ReplyTo, &actors.RunResult{Result: res})
}

func (a *containerActor) popBuffer() *containerJob {
	j := a.buffer[0]
	a.buffer[0] = nil
	a.buffer = a.buffer[1:]
	return j
}

// newJob returns a job record, reusing one whose job is over: a record
// holds a whole outcome (a few hundred bytes), and a warm container goes
// through one per activation.
func (a *containerActor) newJob(id uint64, m *protocol.Job) *containerJob {
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
