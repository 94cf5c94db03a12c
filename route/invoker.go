package route

import (
	"slices"

	"github.com/stemcell-io/stemcell/config"
)

// Invoker is one invoker as a front sees it: the memory snapshot it last
// published (an actors.MemorySnapshot with its identity), as plain data.
// The front fills one per invoker in its view and passes the slice to Rank
// and Place, which only read it.
type Invoker struct {
	// ID is the operator-chosen name (host:port by default). It is what
	// the ranking hashes, so it must be the same string on every front.
	ID string
	// Incarnation and Revision identify the snapshot: Incarnation changes
	// when the invoker registers anew (a new lease), Revision with every
	// snapshot it publishes (etcd's mod revision of its key). Route only
	// compares them for equality, to tell which snapshot a front's
	// in-flight ledger counts against.
	Incarnation int64
	Revision    int64
	// UserMemory is the invoker's container-pool.user-memory: its weight in
	// the ranking and the denominator of its busy share.
	UserMemory config.ByteSize
	// Free is memory held by no container (MemorySnapshot.Free).
	Free config.ByteSize
	// Busy is the memory of containers running at least one activation.
	Busy config.ByteSize
	// Idle is the memory of warm containers running nothing: the invoker
	// evicts them for a cold start, so it counts as room.
	Idle config.ByteSize
	// Prewarmed is the memory of stem cells. It is not counted as room: a
	// stem cell serves only its own kind and memory, which the snapshot
	// does not break down, and the pool does not evict stem cells for
	// cold starts.
	Prewarmed config.ByteSize
	// Queued is the memory wanted by activations waiting in the invoker's
	// buffer (MemorySnapshot.Buffered.Memory). The buffer is FIFO, so that
	// memory is promised before anything a front sends next.
	Queued config.ByteSize
	// Draining invokers finish what they have and take nothing new.
	Draining bool
	// Warm holds WarmKey of every action with an idle container on the
	// invoker, in increasing order: Place prefers an invoker where the
	// action is warm over one where it would start cold.
	Warm []uint64
}

// hasWarm reports whether key is in inv.Warm.
func (inv *Invoker) hasWarm(key uint64) bool {
	_, found := slices.BinarySearch(inv.Warm, key)
	return found
}

// weight is the invoker's weight in the ranking; a nonsensical negative
// memory weighs nothing rather than inverting the order.
func (inv *Invoker) weight() float64 {
	return float64(max(inv.UserMemory, 0))
}

// Capacity estimates the memory inv can give a new activation without
// queueing it: free plus evictable idle, less what is promised to its
// buffer and what this front sent it since that snapshot (inFlight). It
// may be negative.
func (inv *Invoker) Capacity(inFlight config.ByteSize) config.ByteSize {
	return inv.Free + inv.Idle - inv.Queued - inFlight
}

// Load is the busy memory that the bounded-load rule compares: busy in the
// snapshot plus what this front sent since, which is about to be busy.
func (inv *Invoker) Load(inFlight config.ByteSize) config.ByteSize {
	return inv.Busy + inFlight
}
