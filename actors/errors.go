package actors

import "errors"

// Why the pool refused an activation, in RunResult.Err. They live here
// rather than in package pool so that callers reaching the pool through an
// interface (the daemon's API) can tell them apart without importing it.
var (
	// ErrShuttingDown rejects work sent after Shutdown, and answers work
	// that was still buffered when it came.
	ErrShuttingDown = errors.New("pool is shutting down")
	// ErrBufferFull rejects work when container-pool.buffer-size
	// activations already wait.
	ErrBufferFull = errors.New("pool buffer is full")
	// ErrTooLarge rejects an action whose memory can never fit the pool.
	ErrTooLarge = errors.New("action memory exceeds the pool")
	// ErrInvalidActivation rejects an activation the pool cannot place.
	ErrInvalidActivation = errors.New("invalid activation")
	// ErrPoolCrashed answers work the pool held (waiting for capacity, or
	// in its hands) when a bug made it panic; the pool itself recovers and
	// serves again. It is an internal error: retrying the activation is
	// safe, since it never reached a container.
	ErrPoolCrashed = errors.New("pool crashed while holding the activation")
)

// ErrCreationsStopped answers, in ContainerCreated.Err, a CreateContainer
// that reached the factory actor after StopCreating (the invoker is
// shutting down).
var ErrCreationsStopped = errors.New("the factory creates no more containers: the invoker is shutting down")
