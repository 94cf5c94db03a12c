package route

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"testing/quick"

	"github.com/stemcell-io/stemcell/config"
)

func TestRankTable(t *testing.T) {
	a := Action{"guest", "guest/hello", "0.0.1"}
	for _, c := range []struct {
		name     string
		invokers []Invoker
		check    func(t *testing.T, got []string)
	}{
		{"no invokers", nil, func(t *testing.T, got []string) {
			if len(got) != 0 {
				t.Errorf("got %q, want none", got)
			}
		}},
		{"one invoker", []Invoker{idle("a", config.GB)}, func(t *testing.T, got []string) {
			if !slices.Equal(got, []string{"a"}) {
				t.Errorf("got %q", got)
			}
		}},
		{"without memory last, by ID", []Invoker{
			idle("z0", 0), idle("b", config.GB), idle("a0", 0), idle("c", config.GB), idle("m0", -config.GB),
		}, func(t *testing.T, got []string) {
			if !slices.Equal(got[2:], []string{"a0", "m0", "z0"}) {
				t.Errorf("got %q, want the zero-weight ones last in ID order", got)
			}
		}},
		{"duplicate IDs by index", []Invoker{idle("a", config.GB), idle("a", config.GB)}, func(t *testing.T, got []string) {
			if len(got) != 2 {
				t.Errorf("got %q", got)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			order := Rank(a, c.invokers)
			c.check(t, ids(c.invokers, order))
			if !isPermutation(order, len(c.invokers)) {
				t.Errorf("%v is not a permutation of %d", order, len(c.invokers))
			}
		})
	}
}

// TestRankScores checks the order against the scores of the definition,
// computed here from Hash with the formula of the package doc.
func TestRankScores(t *testing.T) {
	invs := cluster(30, 2*config.GB)
	for i := range invs {
		invs[i].UserMemory = config.ByteSize(i%4+1) * config.GB
	}
	for n := range 50 {
		a := action(n)
		order := Rank(a, invs)
		prev := math.Inf(1)
		for _, i := range order {
			u := (float64(Hash(a, invs[i].ID)>>12) + 0.5) / (1 << 52)
			s := float64(invs[i].UserMemory) / -math.Log(u)
			if s > prev {
				t.Fatalf("%s: %s scores %v, above the one before (%v)", a, invs[i].ID, s, prev)
			}
			prev = s
		}
	}
}

func isPermutation(order []int, n int) bool {
	if len(order) != n {
		return false
	}
	seen := make([]bool, n)
	for _, i := range order {
		if i < 0 || i >= n || seen[i] {
			return false
		}
		seen[i] = true
	}
	return true
}

// TestRankPermutation: a ranking is a permutation of the invokers, for any
// number of invokers, any memories (zero and negative included) and any
// IDs (duplicates included).
func TestRankPermutation(t *testing.T) {
	f := func(seed uint64, n uint8, dupEvery uint8) bool {
		r := rand.New(rand.NewPCG(seed, 1))
		invs := randomCluster(r, int(n))
		for i := range invs {
			switch r.IntN(10) {
			case 0:
				invs[i].UserMemory = 0
			case 1:
				invs[i].UserMemory = -config.MB
			}
			if dupEvery > 0 && i%int(dupEvery) == 0 && i > 0 {
				invs[i].ID = invs[i-1].ID
			}
		}
		return isPermutation(Rank(action(int(seed%1000)), invs), len(invs))
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 300}); err != nil {
		t.Error(err)
	}
}

// TestRankRemove: removing an invoker leaves the others in the same
// relative order, so only the actions that ranked it first change their
// first choice.
func TestRankRemove(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for trial := range 20 {
		invs := randomCluster(r, 2+r.IntN(40))
		gone := r.IntN(len(invs))
		rest := without(invs, gone)
		for n := range 500 {
			a := action(trial*1000 + n)
			before := ids(invs, Rank(a, invs))
			after := ids(rest, Rank(a, rest))
			want := slices.DeleteFunc(slices.Clone(before), func(id string) bool { return id == invs[gone].ID })
			if !slices.Equal(after, want) {
				t.Fatalf("%s: without %s the ranking is %q, want %q", a, invs[gone].ID, after, want)
			}
			if before[0] != after[0] && before[0] != invs[gone].ID {
				t.Fatalf("%s moved from %s, which stayed", a, before[0])
			}
		}
	}
}

// TestRankAdd: a joining invoker takes only the actions it now ranks
// first, about its weight's share of them, and leaves the others' order.
func TestRankAdd(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	const actions = 10000
	for trial := range 4 {
		invs := randomCluster(r, 3+r.IntN(30))
		joined := idle("joiner", config.ByteSize(1+r.IntN(8))*config.GB)
		grown := append(slices.Clone(invs), joined)
		var total config.ByteSize
		for _, inv := range grown {
			total += inv.UserMemory
		}
		moved := 0
		for n := range actions {
			a := action(trial*actions + n)
			before := ids(invs, Rank(a, invs))
			after := ids(grown, Rank(a, grown))
			if got := slices.DeleteFunc(slices.Clone(after), func(id string) bool { return id == "joiner" }); !slices.Equal(got, before) {
				t.Fatalf("%s: the others' order changed from %q to %q", a, before, got)
			}
			if after[0] != before[0] {
				moved++
				if after[0] != "joiner" {
					t.Fatalf("%s moved to %s, not to the joiner", a, after[0])
				}
			}
		}
		p := float64(joined.UserMemory) / float64(total)
		got := float64(moved) / actions
		sd := math.Sqrt(p * (1 - p) / actions)
		t.Logf("%d invokers + one of %s: %.4f of the actions moved, weight share %.4f", len(invs), joined.UserMemory, got, p)
		if math.Abs(got-p) > 5*sd {
			t.Errorf("%.4f of the actions moved to the joiner, want its weight share %.4f ± %.4f", got, p, 5*sd)
		}
	}
}

// TestRankWeightShare: each invoker is the first choice of a share of the
// actions proportional to its user memory (the logarithmic method).
func TestRankWeightShare(t *testing.T) {
	invs := []Invoker{idle("a", 1*config.GB), idle("b", 2*config.GB), idle("c", 3*config.GB), idle("d", 10*config.GB)}
	const actions = 40000
	first := map[string]int{}
	for n := range actions {
		first[invs[Rank(action(n), invs)[0]].ID]++
	}
	for _, inv := range invs {
		p := float64(inv.UserMemory) / float64(16*config.GB)
		got := float64(first[inv.ID]) / actions
		sd := math.Sqrt(p * (1 - p) / actions)
		if math.Abs(got-p) > 5*sd {
			t.Errorf("%s (%s) is first for %.4f of the actions, want %.4f ± %.4f", inv.ID, inv.UserMemory, got, p, 5*sd)
		}
	}
}

// TestRankFrontsAgree: two fronts that list the same invokers in different
// orders, with different snapshots of their load, rank alike.
func TestRankFrontsAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	for trial := range 50 {
		one := randomCluster(r, 1+r.IntN(100))
		two := shuffled(r, one)
		for i := range two {
			two[i].Busy, two[i].Free = two[i].UserMemory/2, two[i].UserMemory/2
			two[i].Draining = r.IntN(2) == 0
		}
		for n := range 20 {
			a := action(trial*100 + n)
			if x, y := ids(one, Rank(a, one)), ids(two, Rank(a, two)); !slices.Equal(x, y) {
				t.Fatalf("%s: front one ranks %q, front two %q", a, x, y)
			}
		}
	}
}

// TestUnitBound: the cheap bound Place filters with is never below the
// score, at the extremes of the hash and on random ones, so the filter
// never rules out an invoker that should have been chosen.
func TestUnitBound(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 15))
	hs := []uint64{0, 1, 1 << 11, math.MaxUint64, math.MaxUint64 - 1<<11, 1 << 63}
	for range 100000 {
		hs = append(hs, r.Uint64())
	}
	for _, h := range hs {
		for _, w := range []float64{1, float64(config.GB), float64(64 * config.GB), 3.7e-3} {
			u, bound := unit(h, w)
			if !(u > 0 && u < 1) {
				t.Fatalf("h %#x: u = %v, want in (0, 1)", h, u)
			}
			if s := w / -math.Log(u); bound < s {
				t.Fatalf("h %#x, w %v: bound %v below the score %v", h, w, bound, s)
			}
		}
	}
}

// TestRankGolden pins whole rankings (hash, mapping into (0, 1), weights,
// logarithm, order). They were checked against an independent
// implementation of the definition in the package doc: Python with the
// xxHash C library and libm's log.
func TestRankGolden(t *testing.T) {
	invs := []Invoker{
		idle("10.0.0.1:8080", 4*config.GB), idle("10.0.0.2:8080", 4*config.GB), idle("10.0.0.3:8080", 8*config.GB),
		idle("10.0.0.4:8080", 16*config.GB), idle("10.0.0.5:8080", 2*config.GB), idle("10.0.0.6:8080", 4*config.GB),
	}
	for _, c := range []struct {
		a    Action
		want string
	}{
		{Action{"guest", "guest/hello", "0.0.1"}, "4 3 2 1 6 5"},
		{Action{"guest", "guest/pkg/hello", "0.0.3"}, "6 1 4 2 3 5"},
		{Action{"alice", "bob/shared/thumbnail", "1.2.0"}, "4 1 2 6 5 3"},
		{Action{"whisk.system", "whisk.system/utils/echo", "0.0.1"}, "4 3 6 5 2 1"},
	} {
		var got []string
		for _, id := range ids(invs, Rank(c.a, invs)) {
			got = append(got, id[len("10.0.0."):len("10.0.0.")+1])
		}
		if g := strings.Join(got, " "); g != c.want {
			t.Errorf("%s: ranking %s, want %s", c.a, g, c.want)
		}
	}
}
