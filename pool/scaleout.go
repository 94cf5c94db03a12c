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
// one being placed included (waited counts from its arrival, or from when a
// container of the action last came up); serving is how many jobs the action's
// containers (busy or starting) run at once, starting how many of them are
// still starting. run is the action's mean /run time (known after one has
// finished), cold the mean cold start, waited how long the job being
// placed has waited so far. Once the action's containers are all up, a job
// holds no longer than a cold start: past that a new container would have
// served it already, and a container stuck in a long run must not hold up
// its action's queue. While one is still starting, a new one would only
// queue behind it at the engine.
//
// With run known, the waiting jobs are spread over the serving slots, each
// taking run: they wait when the last of them starts no later than a new
// container would be ready. Without it (no run of the action has finished
// yet) they wait, within the bound: a burst of an action never seen does
// not start a container per activation before its first run tells how
// long runs take; creations reach the engine in order, so a new container
// would not be ready before the ones already starting anyway. A long
// first run costs the jobs behind it at most one cold start more.
func holdForWarm(waiting, serving, starting int, run time.Duration, runKnown bool, cold, waited time.Duration) bool {
	if serving <= 0 || waiting <= 0 || (waited >= cold && starting == 0) {
		return false
	}
	if !runKnown {
		return true
	}
	rounds := (waiting + serving - 1) / serving
	return time.Duration(rounds)*run <= cold
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
	// The wait counts from the arrival, or from when a container of the
	// action last came up: time spent while one was starting was not lost
	// to the hold.
	now := p.clock.Now()
	cold, waited := p.coldStart(), now.Sub(job.act.Arrived)
	if since := now.Sub(g.readyAt); since < waited {
		waited = since
	}
	if !holdForWarm(waiting, g.serving(job.act.Action.Limits.MaxConcurrency), g.states[memStarting], g.run, g.runKnown, cold, waited) {
		return false
	}
	if !p.holdCheckDue && waited < cold {
		p.holdCheckDue = true
		p.timers.SendOnce(ctx, cold-waited, &holdCheck{})
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
	if p.coldKnown {
		return p.cold
	}
	return defaultColdStart
}

// observeCold folds one cold start (creation to ready) into the mean, with
// weight 1/4 for the new one.
func (p *poolActor) observeCold(d time.Duration) {
	if d <= 0 {
		return
	}
	if !p.coldKnown {
		p.cold, p.coldKnown = d, true
		return
	}
	p.cold += (d - p.cold) / 4
}

// runTime is how long a job's /run took, without its /init.
func runTime(r actors.Result) time.Duration {
	d := r.End.Sub(r.Start) - r.InitTime
	return max(d, 0)
}
