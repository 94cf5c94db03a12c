package route

import (
	"cmp"
	"math"
	"slices"
	"strings"
)

// score is invoker's weighted rendezvous score for the action whose seed is
// given (the logarithmic method): with u the hash mapped into (0, 1),
// -ln(u) / w is exponentially distributed with rate w, and the least of
// such draws falls on invoker i with probability w_i / Σw. So the invoker
// with the highest w / -ln(u) wins an action with probability proportional
// to its weight, independently of the other invokers' hashes: removing one
// changes no other invoker's score, and adding one takes only the actions
// it now wins.
func score(seed uint64, inv *Invoker) float64 {
	h := hashID(seed, inv.ID)
	// The top 53 bits, centred in their interval: never 0 (ln 0 = -Inf)
	// and never 1 (ln 1 = 0).
	u := (float64(h>>11) + 0.5) * 0x1p-53
	return inv.weight() / -math.Log(u)
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

type ranked struct {
	score float64
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
		rs[i] = ranked{score: score(seed, &invokers[i]), index: i}
	}
	slices.SortFunc(rs, func(x, y ranked) int {
		return compareRanked(x.score, invokers[x.index].ID, x.index, y.score, invokers[y.index].ID, y.index)
	})
	order := make([]int, len(rs))
	for i := range rs {
		order[i] = rs[i].index
	}
	return order
}
