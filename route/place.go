package route

import (
	"fmt"
	"math"
	"slices"

	"github.com/stemcell-io/stemcell/config"
)

// Candidate is one invoker Place proposes, with the figures it decided on,
// for the front's logs and metrics.
type Candidate struct {
	Index int    // into the invokers given to Place
	ID    string // Invoker.ID
	// Load is busy memory plus what this front sent since the snapshot;
	// Bound is the load the invoker may carry under bounded load. Over
	// reports Load >= Bound: the invoker is skipped while another has room.
	Load  config.ByteSize
	Bound config.ByteSize
	Over  bool
	// Capacity is Invoker.Capacity of the in-flight memory; Room reports
	// that the activation fits in it.
	Capacity config.ByteSize
	Room     bool
	// Warm reports that the invoker had an idle container of the action
	// in its snapshot (Invoker.Warm); Free that the activation fits in its
	// free memory, less what is queued there and what this front sent,
	// without evicting anything.
	Warm bool
	Free bool
}

// Placement is Place's answer.
type Placement struct {
	// Candidates are the invokers to try, in order: the first is the
	// choice; on a rejection before acceptance, the front tries the next.
	Candidates []Candidate
	// Home is the ID of the action's first-ranked invoker among those that
	// could take it: the one that has its warm containers at low load.
	// A choice other than Home is a spill.
	Home string
}

// tiers, best first. Room outranks the load bound: an activation that can
// start now on a busier invoker beats one that would wait for memory on a
// less busy one. Among invokers with room, one that has the action warm
// comes first, then one that can start it without evicting, then one that
// must evict an idle container (of another action, which then starts cold
// itself): so the cluster's warm containers add up instead of churning on
// the first-ranked invokers.
const (
	tierWarm     uint8 = iota // room and the action warm, within the bound
	tierFree                  // room without evicting, within the bound
	tierRoom                  // room by evicting idle containers, within the bound
	tierWarmOver              // the same three, over the bound: every invoker
	tierFreeOver              // with room is over it
	tierRoomOver
	tierFull     // no room, within the bound: it will queue there
	tierFullOver // no room, over the bound
)

func (c *Candidate) tier() uint8 {
	var t uint8
	switch {
	case !c.Room:
		t = tierFull
		if c.Over {
			t = tierFullOver
		}
		return t
	case c.Warm:
		t = tierWarm
	case c.Free:
		t = tierFree
	default:
		t = tierRoom
	}
	if c.Over {
		t += tierWarmOver
	}
	return t
}

// pick is an invoker while Place selects. It holds no pointer, so keeping
// the best few in order moves plain words.
type pick struct {
	score float64
	index int
	tier  uint8
}

// before orders picks by tier, then by the ranking.
func (p *pick) before(o *pick, invokers []Invoker) bool {
	if p.tier != o.tier {
		return p.tier < o.tier
	}
	return compareRanked(p.score, invokers[p.index].ID, p.index, o.score, invokers[o.index].ID, o.index) < 0
}

// Place decides where a front sends an activation of action a that needs
// mem of memory, given the front's view of the invokers and what it sent
// them since their snapshots (sent may be nil). It returns up to
// opts.Candidates invokers in the order to try:
//
//  1. Invokers that are draining, or whose user memory is less than mem,
//     are never proposed.
//  2. The others are taken in a's rendezvous ranking (Rank), best first,
//     so an action goes back to the invokers that have it warm.
//  3. An invoker whose load (busy plus sent) is at or above its bound is
//     passed over while some invoker within its bound has room. The bound
//     is (1 + ε) × the cluster's mean busy share, counting the new
//     activation (but at least opts.Floor), × the invoker's user memory,
//     rounded up to a whole multiple of mem (so an idle invoker always
//     takes one); the mean is over the invokers that are not draining,
//     weighted by user memory.
//     The bounds add up to more than the total load, so some invoker is
//     always within its bound (unless only invokers too small for mem
//     are): consistent hashing with bounded loads (Mirrokni, Thorup and
//     Zadimoghaddam), with memory for balls and user memory for weights.
//  4. An invoker without room (Invoker.Capacity of the sent memory below
//     mem) is passed over while another has room.
//  5. Among invokers with room on the same side of the bound, one with an
//     idle container of a (Invoker.Warm) comes first, then one with the
//     memory free (no eviction), then the others.
//
// So the order is: with room and within the bound (warm, free, evicting),
// with room and over it (the same), without room and within it, without
// room and over it; each group in ranking order. Placement.Home is the first in ranking order, whatever
// its group.
//
// When no invoker has room, the candidates are still returned, within the
// bound first: the invoker's pool buffers the activation, and its own
// admission has the last word. Place fails only on invalid input
// (ErrInvalid) or when rule 1 leaves nothing (ErrNoInvoker).
//
// Place is pure: it reads invokers and sent and changes neither. It costs
// a ledger lookup (when sent is not empty) and a hash per invoker, and a
// logarithm only for the few whose score could still make the best ones;
// it keeps those without sorting the rest (up to 16 candidates; beyond,
// it sorts the invokers that may take the activation).
func Place(a Action, mem config.ByteSize, invokers []Invoker, sent Ledger, opts Options) (Placement, error) {
	if err := opts.Validate(); err != nil {
		return Placement{}, err
	}
	opts = opts.withDefaults()
	if mem <= 0 {
		return Placement{}, fmt.Errorf("route: memory of %s: %s is invalid: must be > 0: %w", a, mem, ErrInvalid)
	}

	// Pass 1: the cluster's load and memory, for the bound. What this
	// front sent each invoker is looked up once and kept for pass 2.
	var sentBuf [128]config.ByteSize
	var sentTo []config.ByteSize
	if len(sent) > 0 {
		if len(invokers) <= len(sentBuf) {
			sentTo = sentBuf[:len(invokers)]
		} else {
			sentTo = make([]config.ByteSize, len(invokers))
		}
	}
	var total, load config.ByteSize
	fit, draining := 0, 0
	for i := range invokers {
		inv := &invokers[i]
		if inv.Draining {
			draining++
			continue
		}
		if inv.UserMemory <= 0 {
			continue
		}
		var f config.ByteSize
		if sentTo != nil {
			f = sent.inFlight(inv)
			sentTo[i] = f
		}
		total += inv.UserMemory
		load += inv.Load(f)
		if inv.UserMemory >= mem {
			fit++
		}
	}
	if fit == 0 {
		if len(invokers) == 0 {
			return Placement{}, fmt.Errorf("route: %s: the view holds no invoker: %w", a, ErrNoInvoker)
		}
		return Placement{}, fmt.Errorf("route: %s needs %s: none of the %d invokers can take it (%d draining, %d with less user memory): %w",
			a, mem, len(invokers), draining, len(invokers)-draining, ErrNoInvoker)
	}
	// The bound per byte of user memory: (1 + ε) × the mean busy share
	// once the activation is placed, or the floor.
	perByte := max((1+opts.Epsilon)*float64(load+mem)/float64(total), opts.Floor)
	key := WarmKey(a)
	candidate := func(i int) Candidate {
		inv := &invokers[i]
		var f config.ByteSize
		if sentTo != nil {
			f = sentTo[i]
		}
		c := Candidate{Index: i, ID: inv.ID, Load: inv.Load(f), Capacity: inv.Capacity(f)}
		c.Bound = roundUp(perByte*float64(inv.UserMemory), mem)
		c.Over = c.Load >= c.Bound
		c.Room = c.Capacity >= mem
		c.Free = inv.Free-inv.Queued-f >= mem
		c.Warm = c.Room && inv.hasWarm(key)
		return c
	}

	// Pass 2: each invoker's tier and score, keeping the best k and the
	// home. A score costs a logarithm; most invokers are ruled out by a
	// cheap upper bound of it instead (unit).
	seed := key
	k := min(opts.Candidates, fit)
	sorting := k > maxCandidatesInsert
	var topBuf [maxCandidatesInsert]pick
	top := topBuf[:0]
	if sorting {
		top = make([]pick, 0, fit)
	}
	home := pick{index: -1}
	for i := range invokers {
		inv := &invokers[i]
		if inv.Draining || inv.UserMemory < mem {
			continue
		}
		c := candidate(i)
		tier := c.tier()
		u, ub := unit(hashID(seed, inv.ID), inv.weight())
		needHome := home.index < 0 || ub >= home.score
		needTop := sorting || len(top) < k || tier < top[k-1].tier || tier == top[k-1].tier && ub >= top[k-1].score
		if !needHome && !needTop {
			continue
		}
		p := pick{score: inv.weight() / -math.Log(u), index: i, tier: tier}
		if needHome && (home.index < 0 || compareRanked(p.score, inv.ID, i, home.score, invokers[home.index].ID, home.index) < 0) {
			home = p
		}
		switch {
		case sorting:
			top = append(top, p)
		case needTop:
			top = insert(top, k, p, invokers)
		}
	}
	if sorting {
		slices.SortFunc(top, func(x, y pick) int {
			if x.before(&y, invokers) {
				return -1
			}
			return 1 // no two picks are equal: their indexes differ
		})
		top = top[:k]
	}
	out := make([]Candidate, len(top))
	for j := range top {
		out[j] = candidate(top[j].index)
	}
	return Placement{Candidates: out, Home: invokers[home.index].ID}, nil
}

// insert puts p into top, kept in order and at most k long.
func insert(top []pick, k int, p pick, invokers []Invoker) []pick {
	n := len(top)
	if n == k && !p.before(&top[n-1], invokers) {
		return top
	}
	if n < k {
		top = append(top, p)
	} else {
		n--
	}
	i := n
	for i > 0 && p.before(&top[i-1], invokers) {
		i--
	}
	copy(top[i+1:n+1], top[i:n])
	top[i] = p
	return top
}

// roundUp is b bytes rounded up to a whole multiple of unit, at least one
// unit, saturating rather than overflowing.
func roundUp(b float64, unit config.ByteSize) config.ByteSize {
	units := max(math.Ceil(b/float64(unit)), 1)
	if units >= float64(math.MaxInt64/unit) {
		return math.MaxInt64
	}
	return config.ByteSize(units) * unit
}
