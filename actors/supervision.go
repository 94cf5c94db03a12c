package actors

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// Limits of ContainerSupervisor: a container actor that keeps crashing is
// stopped rather than restarted forever.
const (
	containerMaxRestarts   = 3
	containerRestartWindow = time.Minute
)

// ContainerSupervisor is the strategy a pool uses for its container actors
// (actor.WithSupervisor on the pool's props). A panic in one container actor
// restarts that actor alone (one-for-one): the pool and its other containers
// are untouched, and the crashed actor keeps its PID, so the pool's
// bookkeeping keyed by PID (memory ledger, warm index, job counts) stays
// valid. The restarted instance is built fresh by its producer, so its
// in-memory job bookkeeping is rebuilt; the container actor keeps what must
// survive (the container handle and whether it was already reported or
// destroyed) in a cell owned by its producer, and its old instance answers
// or reschedules every job it held when it receives *actor.Restarting. More
// than containerMaxRestarts crashes within containerRestartWindow stop the
// actor instead; its *actor.Stopping handler then still destroys the
// container and reports the memory.
func ContainerSupervisor() actor.SupervisorStrategy {
	return actor.NewOneForOneStrategy(containerMaxRestarts, containerRestartWindow, restartOnPanic)
}

// restartOnPanic restarts on any panic value: a container actor's state is
// rebuilt from its cell, so there is no failure it cannot recover from by
// starting over.
func restartOnPanic(reason any) actor.Directive { return actor.RestartDirective }
