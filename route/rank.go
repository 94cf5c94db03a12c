package route

import (
	"cmp"
	"math"
	"slices"
	"strings"
)

// score is invoker's weighted rendezvous score for the action whose seed is
// given (the logarithmic method): with u the hash mapped into (0, 1) (unit),
// -ln(u) / w is exponentially distributed with rate w, and the least of
// such draws falls on invoker i with probability w_i / Σw. So the invoker
// with the highest w / -ln(u) wins an action with probability proportional
// to its weight, independently of the other invokers' hashes: removing one
// changes no other invoker's score, and adding one takes only the actions
// it now wins.
func score(seed uint64, inv *Invoker) float64 {
	u, _ := unit(hashID(seed, inv.ID), inv.weight())
	return inv.weight() / -math.Log(u)
}

// unit maps hash h into u in (0, 1): its top 52 bits m as (m + 0.5) / 2^52,
// exact in a float64 and never 0 (whose logarithm is -Inf) nor 1 (whose
// logarithm is 0). With 53 bits, m + 0.5 would round up to 2^53 for the
// largest m, and u to 1.
//
// It returns with u an upper bound of the score w / -ln(u) that costs a
// division instead of a logarithm: -ln(u) >= 1 - u, so the score is at
// most w / (1 - u). The bound is loosened by a relative 1e-9, far above
// rounding errors, so that comparing it can only rule out an invoker whose
// exact score is lower: choices are always made on the scores themselves.
// It is tight where it matters, for u near 1: the high scores.
func unit(h uint64, w float64) (u, scoreBound float64) {
	m := h >> 12
	u = (float64(m) + 0.5) * 0x1p-52
	oneMinusU := (float64(1<<52-m) - 0.5) * 0x1p-52
	return u, w / oneMinusU * (1 + 1e-9)
}

// compareRanked orders invokers by score, higher first, then by ID, then
// by index: a total order, so the result does not depend on the order of
// the input slice (two fronts that list the same invokers differently
// agree).
func compareRanked(score1 float64, id1 string, index1 int, score2 float64, id2 string, index2 int) int {
	if c := cmp.Compare(score2, score1); c != 0 {
		return c
	}
	if c := strings.Compare(id1, id2); c != 0 {
		return c
	}
	return cmp.Compare(index1, index2)
}

// ranked is an invoker's place in a ranking. Scores are positive (or
// zero), so the order of their IEEE 754 bits is the order of their values:
// sorting compares integers.
type ranked struct {
	bits  uint64
	index int
}

// Rank returns the indexes of invokers in a's order of preference: the
// weighted rendezvous ranking by Hash, weighted by UserMemory, ties broken
// by ID. It looks at nothing else (not draining, not load): Place applies
// those. Invokers without user memory come last. The result is a
// permutation of 0..len(invokers)-1.
//
// Two fronts rank alike whenever they hold the same invokers (ID and
// UserMemory), in whatever order, except when two scores are within a
// rounding error of each other and the fronts run on different
// architectures (math.Log is assembly on amd64): a chance of about 1e-16
// per pair, and a disagreement costs a cold start, never correctness.
//
// It costs one hash and one logarithm per invoker and a sort; Place needs
// only the best few and does not sort.
func Rank(a Action, invokers []Invoker) []int {
	seed := a.seed()
	rs := make([]ranked, len(invokers))
	for i := range invokers {
		rs[i] = ranked{bits: math.Float64bits(score(seed, &invokers[i])), index: i}
	}
	slices.SortFunc(rs, func(x, y ranked) int {
		if x.bits != y.bits {
			if x.bits > y.bits {
				return -1
			}
			return 1
		}
		return compareRanked(0, invokers[x.index].ID, x.index, 0, invokers[y.index].ID, y.index)
	})
	order := make([]int, len(rs))
	for i := range rs {
		order[i] = rs[i].index
	}
	return order
}
