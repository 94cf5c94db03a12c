package pool

import (
	"time"

	"github.com/stemcell-io/stemcell/config"
)

// tier ranks a warm container of the right identity by how far its start
// has come; placement prefers the highest tier with spare concurrency.
type tier int8

const (
	tierNone        tier = -1
	tierWarmingCold tier = 0 // cold container still being created or initialised
	tierWarming     tier = 1 // stem cell taken, first init running
	tierWarmed      tier = 2 // initialised
	numTiers             = 3
)

var tierNames = [numTiers]string{"warmingCold", "warming", "warmed"}

func (t tier) String() string {
	if t >= 0 && t < numTiers {
		return tierNames[t]
	}
	return "none"
}

// situation is everything placement needs to know about one job and the
// pool at the moment it is tried.
type situation struct {
	Need      config.ByteSize // the action's memory
	Total     config.ByteSize // container-pool.user-memory
	Free      config.ByteSize // total minus every byte held or promised
	Removing  config.ByteSize // held by containers being destroyed; it will come back
	Evictable config.ByteSize // held by idle warm containers and unused containers loaded ahead
	WarmTier  tier            // best tier of this identity with spare concurrency
	StemCell  bool            // a stem cell that suits the action is ready
	Hold      bool            // better to wait for a container of the action (holdForWarm)
}

// verdict is what to do with a job.
type verdict uint8

const (
	placeWarm     verdict = iota // run it on the warm container of WarmTier
	placeStemCell                // take the stem cell
	placeCold                    // create a container; the memory fits now
	placeEvict                   // remove Shortfall of idle containers, then wait for the memory
	placeWait                    // wait in the buffer for capacity
	placeReject                  // the action can never fit
	placeHold                    // wait for a container of the action: sooner than a new one
)

var verdictNames = [...]string{"warm", "stemCell", "cold", "evict", "wait", "reject", "hold"}

// waits reports whether the job was left waiting.
func (v verdict) waits() bool { return v == placeEvict || v == placeWait || v == placeHold }

func (v verdict) String() string {
	if int(v) < len(verdictNames) {
		return verdictNames[v]
	}
	return "verdict?"
}

// decision is the outcome of decide.
type decision struct {
	Verdict   verdict
	Tier      tier            // with placeWarm
	Shortfall config.ByteSize // with placeEvict: bytes of idle containers to remove
}

// decide is the placement order: warm, then stem cell, then (unless the
// job is better off waiting for a container of its own action) cold, then
// eviction, else wait. Eviction happens only if it makes the job fit and
// only for what the memory already on its way back does not cover, so the
// pool never creates before the memory it counts on has returned
// (reference §11.1 and §11.2).
func decide(s situation) decision {
	if s.WarmTier > tierNone {
		return decision{Verdict: placeWarm, Tier: s.WarmTier}
	}
	if s.StemCell {
		return decision{Verdict: placeStemCell}
	}
	if s.Need > s.Total {
		return decision{Verdict: placeReject}
	}
	if s.Hold {
		return decision{Verdict: placeHold}
	}
	if s.Need <= s.Free {
		return decision{Verdict: placeCold}
	}
	shortfall := s.Need - s.Free - s.Removing
	if shortfall <= 0 {
		return decision{Verdict: placeWait}
	}
	if s.Evictable >= shortfall {
		return decision{Verdict: placeEvict, Shortfall: shortfall}
	}
	return decision{Verdict: placeWait}
}

// stemCell is a ready stem cell of the kind a job asks for.
type stemCell struct {
	Ref     uint64
	Memory  config.ByteSize
	Expires time.Time // zero: never expires
}

// pickStemCell returns the index of the stem cell to take for an action of
// need bytes, or -1. Without promotion only an exact memory match will do;
// with promotion the smallest one that is large enough. Among equals the one
// expiring first is taken, so stock that is about to expire gets used rather
// than thrown away.
func pickStemCell(cells []stemCell, need config.ByteSize, promotion bool) int {
	best := -1
	for i := range cells {
		c := &cells[i]
		if c.Memory < need || (!promotion && c.Memory != need) {
			continue
		}
		if best < 0 || betterStemCell(c, &cells[best]) {
			best = i
		}
	}
	return best
}

func betterStemCell(a, b *stemCell) bool {
	if a.Memory != b.Memory {
		return a.Memory < b.Memory
	}
	switch {
	case a.Expires.IsZero():
		return false
	case b.Expires.IsZero():
		return true
	}
	return a.Expires.Before(b.Expires)
}
