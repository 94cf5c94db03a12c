package factory

import "context"

// EngineEventKind is what happened to a container outside the pool's own
// calls, as the engine reports it.
type EngineEventKind uint8

// The engine events the pool reacts to.
const (
	// EventDied: the container's process ended (killed, crashed, OOM); the
	// container still exists in the engine and must be removed.
	EventDied EngineEventKind = iota + 1
	// EventGone: the engine no longer has the container (removed from
	// outside, or missing from a list).
	EventGone
	// EventPaused: the container is paused. The engine reports the pool's
	// own pauses too: the owner tells them apart by its state.
	EventPaused
	// EventUnpaused: the container runs again.
	EventUnpaused
)

var engineEventNames = [...]string{"", "died", "gone", "paused", "unpaused"}

func (k EngineEventKind) String() string {
	if int(k) < len(engineEventNames) && k != 0 {
		return engineEventNames[k]
	}
	return "unknown"
}

// EngineEvent is one change of a container's state seen in the engine. It
// is also the message the factory actor sends the pool.
type EngineEvent struct {
	ID     string // the engine's container id, as Container.ID returns it
	Kind   EngineEventKind
	Detail string // the engine's action or the list state, for the log
}

// Watcher is a ContainerFactory that reports what happens to its
// containers outside the pool's calls: someone removed, killed or paused
// one. The pool asks the factory actor to run Watch when the factory
// offers it; without it, the pool learns of such changes only when it uses
// the container.
type Watcher interface {
	// Watch calls emit for every change of a container this factory
	// created, until ctx ends. It removes the containers that carry this
	// invoker's marks but were not created by this factory (orphans). emit
	// must not block for long.
	Watch(ctx context.Context, emit func(EngineEvent))
}
