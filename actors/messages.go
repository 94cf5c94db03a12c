package actors

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
)

// ---- Embedder -> pool ----

// Run asks the pool to run an activation. The pool answers the sender with
// exactly one *RunResult, when the activation has finished.
type Run struct {
	Activation Activation
	// AckQueued asks for a *Queued to the sender as soon as the pool has
	// accepted the activation (placed or buffered it), before the
	// *RunResult. A refused activation gets only the *RunResult.
	AckQueued bool
}

// Queued tells the sender of a Run with AckQueued that the pool accepted
// the activation: its *RunResult follows when it has finished.
type Queued struct{ ActivationID string }

// RunResult answers Run. Err is set only when the pool did not accept the
// activation (buffer full, shutting down); otherwise Result holds the outcome.
type RunResult struct {
	Result Result
	Err    error
}

// SnapshotRequest asks the pool for its current *MemorySnapshot.
type SnapshotRequest struct{}

// Subscribe registers PID to receive every *MemorySnapshot the pool publishes.
type Subscribe struct{ PID *actor.PID }

// Unsubscribe removes a subscriber.
type Unsubscribe struct{ PID *actor.PID }

// MemorySnapshot is the pool's memory state, published every
// memory-sync-interval and on SnapshotRequest.
type MemorySnapshot struct {
	Time      time.Time
	Total     config.ByteSize
	Free      config.ByteSize
	Busy      Usage // containers running at least one activation
	Idle      Usage // warm containers with nothing running
	Prewarmed Usage // stem cells ready to be taken
	Starting  Usage // being created (cold or prewarm) or initialising
	Removing  Usage // being destroyed; memory returns when the engine is done
	Buffered  Usage // activations waiting for capacity (MB they need)
	// Warm lists the identities with an idle container, each once, in no
	// particular order: a cluster front sends an action where it is warm.
	// Every receiver of one snapshot shares the slice: read only.
	Warm []Identity
}

// Usage is a count and the memory it holds.
type Usage struct {
	Count  int
	Memory config.ByteSize
}

// Shutdown asks the pool to stop: reject new work, answer buffered work with
// an error, let running work finish until Deadline, destroy every container.
// The pool answers *ShutdownDone.
type Shutdown struct{ Deadline time.Time }

// ShutdownDone answers Shutdown.
type ShutdownDone struct{ Err error }

// ---- Prewarm scheduler <-> pool ----

// ReserveMemory asks the pool to set aside memory for one stem cell about to
// be created. The pool answers *ReserveMemoryReply.
type ReserveMemory struct {
	Ref    uint64 // chosen by the prewarm scheduler, unique per stem cell
	Kind   string
	Memory config.ByteSize
}

// ReserveMemoryReply answers ReserveMemory.
type ReserveMemoryReply struct {
	Ref     uint64
	Granted bool
}

// ReleaseMemory gives back a reservation whose creation failed.
type ReleaseMemory struct{ Ref uint64 }

// StemCellReady hands a created stem cell to the pool, against its
// reservation. Expires is zero when the stem cell never expires.
type StemCellReady struct {
	Ref       uint64
	Kind      string
	Memory    config.ByteSize
	Container factory.Container
	Created   time.Time
	Expires   time.Time
}

// RemoveStemCell asks the pool to destroy an idle stem cell (expired or
// unhealthy). If it was already taken the pool answers *StemCellTaken.
type RemoveStemCell struct {
	Ref    uint64
	Reason string
}

// StemCellTaken tells the scheduler an activation took a stem cell.
type StemCellTaken struct {
	Ref    uint64
	Kind   string
	Memory config.ByteSize
}

// StemCellRemoved tells the scheduler a stem cell is gone from the engine.
type StemCellRemoved struct {
	Ref     uint64
	Replace bool
}

// ColdStart tells the scheduler an activation of this kind and memory
// started cold (or recreated), for reactive sizing.
type ColdStart struct {
	Kind   string
	Memory config.ByteSize
}

// CapacityChanged tells the scheduler memory came back, so a refused
// reservation may now succeed.
type CapacityChanged struct{}

// ---- Factory actor ----

// CreateContainer asks the factory actor to create a container; it answers
// the sender with *ContainerCreated.
type CreateContainer struct {
	Ref  uint64
	Spec factory.ContainerSpec
}

// ContainerCreated answers CreateContainer.
type ContainerCreated struct {
	Ref       uint64
	Container factory.Container
	Err       error
}

// StopCreating asks the factory actor to refuse every later CreateContainer
// (answered with ErrCreationsStopped), cancel the creations in flight and
// answer *CreatingStopped once each has ended and any container it produced
// has been removed. Shutdown sends it before the factory's cleanup, so that
// no container is created after the cleanup.
type StopCreating struct{}

// CreatingStopped answers StopCreating: no creation is in flight and none
// will start.
type CreatingStopped struct{}
