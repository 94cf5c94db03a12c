// Package protocol is the pool's private conversation with its container
// actors: what the pool hands a container actor and what the container
// actor reports back. It is internal so that embedders, who talk to the
// pool with package actors' messages, do not depend on it.
package protocol

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/stemcell-io/stemcell/actors"
)

// Job is an activation handed to a container actor. The container actor
// answers ReplyTo with *actors.RunResult directly.
type Job struct {
	Activation actors.Activation
	ReplyTo    *actor.PID
	StartKind  actors.StartKind
}

// Remove asks a container actor to destroy its container once its running
// jobs are done. With Abort, running jobs are cancelled and answered with an
// internal error instead (shutdown past its deadline).
type Remove struct{ Abort bool }

// JobDone tells the pool a container finished one job (capacity is back).
type JobDone struct {
	Container *actor.PID
	LastUsed  time.Time
	// RunTime is how long the job's /run took (0 when it did not run): the
	// pool learns from it how soon a busy container frees up.
	RunTime time.Duration
	// StartKind is the job's, as the pool placed it: the pool's keep-alive
	// and eviction policies measure cold and warm runs apart.
	StartKind actors.StartKind
}

// KeepAlive is the pool's keep-alive plan for a container that went idle
// (or whose pause completed), replacing the container's own timers
// (pause after pause-grace, removal idle-container after the pause) for
// this idle period: pause at PauseAt, remove at RemoveAt; a zero time
// means never, a past one at once. The pool sends one only when its
// policy's plan differs from what the container does by itself. A job the
// container starts after the plan arrived ends the plan.
type KeepAlive struct {
	PauseAt  time.Time
	RemoveAt time.Time
}

// ContainerPaused tells the pool a container's pause completed at At (sent
// only by a container whose containerParams ask for it): the pool's
// keep-alive policy may plan the removal from the pause.
type ContainerPaused struct {
	Container *actor.PID
	At        time.Time
}

// ContainerReady tells the pool a cold container finished init and is warm.
type ContainerReady struct {
	Container *actor.PID
	ID        string
}

// ContainerRemoving tells the pool a container decided on its own to go away
// (idle timeout, failure): place nothing more on it. Its memory stays counted
// until ContainerRemoved.
type ContainerRemoving struct {
	Container *actor.PID
}

// ContainerRemoved tells the pool the engine has removed the container, so
// its memory returns to the ledger. Replace asks for a prewarm backfill.
type ContainerRemoved struct {
	Container *actor.PID
	Replace   bool
}

// Reschedule bounces a job back to the pool (health error, removal race).
type Reschedule struct {
	Container *actor.PID
	Job       Job
}

// A container actor stopped together with its pool still destroys its
// container and reports the memory; the pool is gone by then, so the
// report is an expected dead letter, not worth a log line.
func (*ContainerRemoved) IgnoreDeadLetterLogging() {}
