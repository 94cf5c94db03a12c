package pool

import (
	"github.com/asynkron/protoactor-go/actor"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/internal/protocol"
)

// leave makes the container go away on its own: the pool hears
// ContainerRemoving (unless it asked for the removal itself) and running
// jobs finish before the destroy. The caller decides what the jobs not yet
// started get (bounceBuffer, or the init error).
func (a *containerActor) leave(ctx actor.Context, replace bool) {
	a.exit.replace = a.exit.replace || replace
	if a.exit.leaving {
		return
	}
	a.exit.leaving = true
	a.cancelStateTimer()
	if !a.cell.told.removing && !a.exit.draining {
		a.cell.told.removing = true
		ctx.Send(a.p.Pool, &protocol.ContainerRemoving{Container: ctx.Self()})
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

func (a *containerActor) reschedule(ctx actor.Context, job protocol.Job) {
	ctx.Send(a.p.Pool, &protocol.Reschedule{Container: ctx.Self(), Job: job})
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
	ctx.Send(a.p.Pool, &protocol.JobDone{Container: ctx.Self(), LastUsed: a.p.Clock.Now(), RunTime: runTime(res), StartKind: j.job.StartKind})
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
	if a.cell.told.removed {
		return
	}
	a.cell.told.removed = true
	ctx.Send(a.p.Pool, &protocol.ContainerRemoved{Container: ctx.Self(), Replace: a.exit.replace})
}
