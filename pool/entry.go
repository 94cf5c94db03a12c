package pool

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
)

// phase is how far a container has come, as the pool sees it.
type phase uint8

const (
	phaseStemCell    phase = iota // prewarmed, not taken
	phaseWarmingCold              // cold container being created or initialised
	phaseWarming                  // stem cell taken, first init running
	phaseWarmed                   // initialised, serves its identity
)

// entry is the pool's record of one container actor.
type entry struct {
	pid     *actor.PID
	ident   actors.Identity // zero for an untaken stem cell
	kind    string
	mem     config.ByteSize
	maxConc int
	active  int // jobs the pool has placed and not yet seen JobDone for (§11.8)
	phase   phase
	// removing: the container is going away; nothing more is placed on it
	// and its memory stays booked until ContainerRemoved.
	removing bool
	ref      uint64 // stem-cell reference; 0 for a cold container
	cid      string // engine container id, once known; engine events find the entry by it
	expires  time.Time
	lastUsed time.Time
	created  time.Time // when a cold container was asked for
	pausedAt time.Time // when its pause completed in its current idle period; zero: not paused

	act *actionState // its action's policy state, from the first job on
	// planned: the keep-alive plan of the current idle period was sent
	// (policy.go). evicted: removed for memory through the eviction order.
	// preloaded: created ahead of a call (preload.go) and not used yet.
	planned, evicted, preloaded bool

	group     *identGroup // of its identity, from the first job on; nil for an untaken stem cell
	availTier tier        // set of group holding it, tierNone when none
	availPos  int         // index in that set
	lru       lruLink     // in the idle LRU while idle
}

// memState is where the entry's memory sits in the ledger.
func (e *entry) memState() memState {
	switch {
	case e.removing:
		return memRemoving
	case e.phase == phaseStemCell:
		return memPrewarmed
	case e.phase != phaseWarmed:
		return memStarting
	case e.active > 0:
		return memBusy
	default:
		return memIdle
	}
}

// wantTier is the warm-index set the entry belongs in: a container of an
// identity that can take another job.
func (e *entry) wantTier() tier {
	if e.removing || e.phase == phaseStemCell || e.active >= e.maxConc {
		return tierNone
	}
	switch e.phase {
	case phaseWarmingCold:
		return tierWarmingCold
	case phaseWarming:
		return tierWarming
	}
	return tierWarmed
}

func (e *entry) wantIdle() bool {
	return !e.removing && e.phase == phaseWarmed && e.active == 0
}

// identGroup holds, per tier, the containers of one identity with spare
// concurrency. Picking one is O(1), whatever the number of containers.
type identGroup struct {
	avail   [numTiers][]*entry
	members int // entries of this identity, available or not; the group goes with the last
	// states counts the members by where their memory sits: how many are
	// starting, and how many are going away.
	states [numMemStates]int
	// run is the mean of the identity's /run durations, for the choice
	// between waiting for one of its containers and starting one.
	run meanDuration
	// readyAt is when a container of the identity last came up: a job's
	// hold is counted from then at the earliest.
	readyAt time.Time
}

// serving is how many jobs the identity's containers that are not going
// away can run at once.
func (g *identGroup) serving(maxConc int) int {
	return (g.members - g.states[memRemoving]) * max(1, maxConc)
}

func (g *identGroup) best() (tier, *entry) {
	for t := tierWarmed; t >= tierWarmingCold; t-- {
		if s := g.avail[t]; len(s) > 0 {
			return t, s[len(s)-1]
		}
	}
	return tierNone, nil
}

func (g *identGroup) add(t tier, e *entry) {
	e.availTier, e.availPos = t, len(g.avail[t])
	g.avail[t] = append(g.avail[t], e)
}

func (g *identGroup) remove(e *entry) {
	s := g.avail[e.availTier]
	last := len(s) - 1
	s[e.availPos] = s[last]
	s[e.availPos].availPos = e.availPos
	s[last] = nil
	g.avail[e.availTier] = s[:last]
	e.availTier, e.availPos = tierNone, -1
}

// lruLink threads an entry through the idle LRU. The list is intrusive so
// that a container going busy and idle again allocates nothing.
type lruLink struct {
	prev, next *entry
	in         bool
}

// lruList is the idle warm containers, least recently used at the front.
type lruList struct {
	front, back *entry
	n           int
}

func (l *lruList) len() int { return l.n }

func (l *lruList) pushBack(e *entry) {
	e.lru = lruLink{prev: l.back, in: true}
	if l.back != nil {
		l.back.lru.next = e
	} else {
		l.front = e
	}
	l.back = e
	l.n++
}

func (l *lruList) remove(e *entry) {
	if e.lru.prev != nil {
		e.lru.prev.lru.next = e.lru.next
	} else {
		l.front = e.lru.next
	}
	if e.lru.next != nil {
		e.lru.next.lru.prev = e.lru.prev
	} else {
		l.back = e.lru.prev
	}
	e.lru = lruLink{}
	l.n--
}
