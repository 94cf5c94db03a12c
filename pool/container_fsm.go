package pool

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// containerState is the container actor's state, after OpenWhisk's
// ContainerProxy (reference/openwhisk-pool.md §4.1). Resuming is a state of
// its own here because resume is asynchronous I/O; Initializing (the first
// job's /init in flight) is apart from Running because only an initialised
// container takes more jobs; Abandoned holds a creation given up on until
// the factory answers, so that its memory returns only once no container
// can appear any more.
type containerState uint8

const (
	stateUninitialized containerState = iota // before *actor.Started
	stateStarting                            // cold: the factory is creating the container
	stateAbandoned                           // the create deadline passed: waiting for the factory's late answer to remove what it made
	stateStarted                             // the container exists and has not been initialised
	stateInitializing                        // the first job's /init (then /run) in flight; later jobs wait
	stateRunning                             // initialised, jobs in flight
	stateReady                               // warm and idle; pauses after pause-grace
	statePausing                             // Suspend in flight
	statePaused                              // paused; destroyed after idle-container
	stateResuming                            // Resume in flight for a job that arrived while paused
	stateRemoving                            // Destroy in flight (or nothing to destroy); stops when done
	numContainerStates
)

var containerStateNames = [numContainerStates]string{
	"uninitialized", "starting", "abandoned", "started", "initializing", "running",
	"ready", "pausing", "paused", "resuming", "removing",
}

func (s containerState) String() string {
	if s < numContainerStates {
		return containerStateNames[s]
	}
	return "invalid"
}

// stateSet is a set of states, one bit each.
type stateSet uint16

func statesOf(ss ...containerState) stateSet {
	var set stateSet
	for _, s := range ss {
		set |= 1 << s
	}
	return set
}

func (set stateSet) has(s containerState) bool { return s < numContainerStates && set&(1<<s) != 0 }

// allowedTransitions is every move the container actor may make. Anything
// else is a bug: become refuses it, logs it and counts it. Removing is
// reachable from every state but Removing itself, because a stop from
// outside (onStopping) destroys the container whatever it was doing.
var allowedTransitions = [numContainerStates]stateSet{
	// Started: a stem cell, or a restarted instance whose container exists.
	// Abandoned: a restarted instance whose creation is still pending.
	stateUninitialized: statesOf(stateStarting, stateStarted, stateAbandoned, stateRemoving),
	stateStarting:      statesOf(stateStarted, stateAbandoned, stateRemoving),
	stateAbandoned:     statesOf(stateRemoving),
	stateStarted:       statesOf(stateInitializing, stateRemoving),
	stateInitializing:  statesOf(stateRunning, stateRemoving),
	stateRunning:       statesOf(stateReady, stateRemoving),
	// Resuming from Ready: the container was paused outside the pool.
	stateReady:    statesOf(stateRunning, statePausing, stateResuming, stateRemoving),
	statePausing:  statesOf(statePaused, stateRemoving),
	statePaused:   statesOf(stateResuming, stateRemoving),
	stateResuming: statesOf(stateRunning, statePaused, stateRemoving),
	stateRemoving: 0,
}

// become is the one place the state changes. A move to the current state
// is no transition and does nothing; an illegal one is refused (logged as
// an error and counted) and reported false, the state unchanged. A new
// state cancels the old state's timer.
func (a *containerActor) become(to containerState) bool {
	from := a.state
	if to == from {
		return true
	}
	if !allowedTransitions[from].has(to) {
		a.log.Error().Str("from", from.String()).Str("to", to.String()).Msg("illegal container state transition refused")
		a.p.Results.illegal(from, to)
		return false
	}
	a.cancelStateTimer()
	a.log.Debug().Str("from", from.String()).Str("to", to.String()).Msg("container state")
	a.p.Results.transition(from, to)
	a.state = to
	return true
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

// stateSteps is each state's behaviour: what it does next once something
// changed (a job came, one finished, the pool asked for a removal, I/O
// ended). States not listed wait for the I/O they started.
var stateSteps [numContainerStates]func(a *containerActor, ctx actor.Context)

func init() {
	// Filled here, not in the declaration: the steps call advance, which
	// reads the table (an initialisation cycle for the compiler).
	stateSteps[stateStarted] = (*containerActor).stepStarted
	stateSteps[stateInitializing] = (*containerActor).stepInitializing
	stateSteps[stateRunning] = (*containerActor).stepRunning
	stateSteps[stateReady] = (*containerActor).stepReady
	stateSteps[statePaused] = (*containerActor).stepPaused
}

// advance runs the current state's step. Every handler calls it after it
// changed something.
func (a *containerActor) advance(ctx actor.Context) {
	if step := stateSteps[a.state]; step != nil {
		step(a, ctx)
	}
}

// stepStarted starts the first job, with /init; a container closed before
// it ran anything goes.
func (a *containerActor) stepStarted(ctx actor.Context) {
	if len(a.buffer) > 0 {
		if a.become(stateInitializing) {
			a.dispatch(ctx, a.popBuffer(), true)
		}
		return
	}
	if a.closed() {
		a.destroy(ctx)
	}
}

// stepInitializing waits for the init job. Ending here with nothing in
// flight means the init job ended without an init result (cancelled): the
// container cannot be trusted.
func (a *containerActor) stepInitializing(ctx actor.Context) {
	if len(a.active) > 0 {
		return
	}
	if !a.closed() {
		a.leave(ctx, true)
	}
	a.destroy(ctx)
}

// stepRunning starts buffered jobs up to the max concurrency and goes
// Ready (arming the pause grace) once nothing is left in flight.
func (a *containerActor) stepRunning(ctx actor.Context) {
	for len(a.active) < a.maxConc && len(a.buffer) > 0 {
		a.dispatch(ctx, a.popBuffer(), false)
	}
	if len(a.active) > 0 {
		return
	}
	if a.closed() {
		a.destroy(ctx)
		return
	}
	a.become(stateReady)
	a.idle.since = a.p.Clock.Now()
	if a.plan.set {
		a.followPlan(ctx)
		return
	}
	if !a.idle.armed {
		a.armPause(ctx, a.p.Config.ContainerProxy.Timeouts.PauseGrace)
	}
}

func (a *containerActor) stepReady(ctx actor.Context) {
	if len(a.buffer) > 0 {
		a.become(stateRunning)
		a.stepRunning(ctx)
		return
	}
	if a.closed() {
		a.destroy(ctx)
	}
}

func (a *containerActor) stepPaused(ctx actor.Context) {
	// Buffered jobs first: with Remove{Abort:false} they still run.
	if len(a.buffer) > 0 && !a.exit.leaving {
		a.resume(ctx)
		return
	}
	if a.closed() {
		a.destroy(ctx)
	}
}
