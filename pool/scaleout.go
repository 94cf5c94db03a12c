package pool

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/stemcell-io/stemcell/actors"
)

// Scale-out: whether an activation that finds every container of its action
// busy waits for one of them or starts a new one. OpenWhisk v1 always starts
// one, so a burst of a short action starts a container per activation: on
// this engine about 7 containers a second come up at best, so the burst
// waits seconds for containers it would have been done with in
// milliseconds on the ones it had (reference docker-engine.md §5). Under
// the fair queue the pool waits when that is expected to be quicker.

// defaultColdStart is the cold start the pool expects before it has seen
// one: a single create, start and init on these machines (docker-engine.md).
const defaultColdStart = 300 * time.Millisecond

// holdForWarm reports whether waiting activations of an action should wait
// for its containers rather than start a new one. waiting counts them, the
// one being placed included; serving is how many jobs the action's
// containers (busy or starting) run at once, starting how many of them are
// still starting; run is the action's mean /run time, known once one has
// finished (until then the mean over all actions, once any has finished);
// cold is the mean cold start; sinceArrival and sinceReady are
// how long ago the job being placed arrived and a container of the action
// last came up.
//
//   - Run unknown (no action has finished a run), a container starting:
//     wait. A burst of a new invoker's first actions does not start a
//     container per activation before a run tells how long runs take;
//     creations reach the engine in order, so a new container would not be
//     up before the one starting anyway.
//   - Run unknown, containers up: wait a quarter of a cold start from when
//     the last came up, for the first run to tell. A long first run costs
//     the jobs behind it that much.
//   - Run known: spread the waiting jobs over the serving slots, each taking
//     run; wait when the last of them starts no later than a new container
//     would be up. While a container of the action is starting, a new one
//     would queue behind it; otherwise never longer than a cold start from
//     the arrival or the last container coming up, nor two from the
//     arrival, so that a container stuck in a long run does not hold its
//     action's queue up.
func holdForWarm(waiting, serving, starting int, run time.Duration, runKnown bool, cold, sinceArrival, sinceReady time.Duration) bool {
	switch {
	case serving <= 0 || waiting <= 0:
		return false
	case !runKnown && starting > 0:
		return true
	case !runKnown:
		return sinceReady < cold/4
	}
	rounds := (waiting + serving - 1) / serving
	if time.Duration(rounds)*run > cold {
		return false
	}
	return starting > 0 || (min(sinceArrival, sinceReady) < cold && sinceArrival < 2*cold)
}

// shouldHold applies holdForWarm to job, whose identity's containers
// (group g) are all busy or starting. When the job holds, a check is due by
// the time its hold runs out.
func (p *poolActor) shouldHold(ctx actor.Context, job *pending, g *identGroup) bool {
	waiting := 1
	if q := p.fair.byIdent[job.identity()]; q != nil {
		waiting = len(q.jobs)
		if q.head() != job {
			waiting++ // a new arrival, not queued yet
		}
	}
	now := p.clock.Now()
	cold := p.coldStart()
	sinceArrival, sinceReady := now.Sub(job.act.Arrived), now.Sub(g.readyAt)
	// An action with no run finished yet is taken to be like the others:
	// in a mix of long runs its burst starts containers at once.
	run := g.run
	if !run.known {
		run = p.runs
	}
	if !holdForWarm(waiting, g.serving(job.act.Action.Limits.MaxConcurrency), g.states[memStarting], run.d, run.known, cold, sinceArrival, sinceReady) {
		return false
	}
	// Look again when the hold may have run out; a hold that lasts while a
	// container starts is looked at again when it comes up.
	if !p.holdCheckDue {
		p.holdCheckDue = true
		p.timers.SendOnce(ctx, max(cold/4, time.Millisecond), &holdCheck{})
	}
	return true
}

// holdCheck retries the waiting jobs once a hold may have run out.
type holdCheck struct{}

func (p *poolActor) onHoldCheck(ctx actor.Context) {
	p.holdCheckDue = false
	p.drain(ctx)
}

// coldStart is the mean cold start seen so far, or the default.
func (p *poolActor) coldStart() time.Duration {
	if p.cold.known {
		return p.cold.d
	}
	return defaultColdStart
}

// meanDuration is a moving average of durations. Each new sample weighs
// 1/4: a few make the mean, one outlier does not.
type meanDuration struct {
	d     time.Duration
	known bool
}

func (m *meanDuration) observe(d time.Duration) {
	switch {
	case d <= 0:
	case !m.known:
		m.d, m.known = d, true
	default:
		m.d += (d - m.d) / 4
	}
}

// runTime is how long a job's /run took, without its /init.
func runTime(r actors.Result) time.Duration {
	d := r.End.Sub(r.Start) - r.InitTime
	return max(d, 0)
}
