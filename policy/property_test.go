package policy

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// randomContainers is n idle containers of a few actions and some stem
// cells, with times on a coarse grid so that ties happen.
func randomContainers(r *rand.Rand, n int) []Container {
	actions := make([]*Stats, 1+r.IntN(8))
	for i := range actions {
		st := &Stats{Frequency: uint64(r.IntN(50)), UseClock: float64(r.IntN(4))}
		if r.IntN(2) == 0 {
			st.Cold = Durations{1, time.Duration(100+r.IntN(2000)) * time.Millisecond}
			st.Warm = Durations{1, time.Duration(r.IntN(500)) * time.Millisecond}
		}
		actions[i] = st
	}
	cs := make([]Container, n)
	for i := range cs {
		c := Container{Memory: 128 * mb << r.IntN(3), LastUsed: at(time.Duration(r.IntN(20)) * time.Second),
			Created: at(-time.Duration(r.IntN(20)) * time.Second)}
		if r.IntN(5) == 0 {
			c.StemCell = true
		} else {
			c.Stats = actions[r.IntN(len(actions))]
		}
		cs[i] = c
	}
	return cs
}

func TestOrderProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	gd, _ := NewGreedyDualEviction(DefaultOptions())
	evictions := []Eviction{NewLRU(), gd}
	for trial := range 500 {
		cs := randomContainers(r, r.IntN(40))
		for _, e := range evictions {
			order := e.Order(nil, cs)
			// A permutation of the indexes.
			sorted := slices.Sorted(slices.Values(order))
			for i, j := range sorted {
				if i != j {
					t.Fatalf("trial %d %s: order %v is not a permutation of 0..%d", trial, e.Name(), order, len(cs)-1)
				}
			}
			for k := 1; k < len(order); k++ {
				a, b := &cs[order[k-1]], &cs[order[k]]
				if a.StemCell && !b.StemCell {
					t.Fatalf("trial %d %s: stem cell before an idle container", trial, e.Name())
				}
				if a.StemCell != b.StemCell {
					continue
				}
				var pa, pb float64
				ta, tb := a.LastUsed, b.LastUsed
				if a.StemCell {
					ta, tb = a.Created, b.Created
				} else if g, ok := e.(*GreedyDualEviction); ok {
					pa, pb = g.Priority(a), g.Priority(b)
				}
				switch {
				case pa > pb,
					pa == pb && ta.After(tb),
					pa == pb && ta.Equal(tb) && order[k-1] > order[k]:
					t.Fatalf("trial %d %s: %d (prio %v, %v) before %d (prio %v, %v)",
						trial, e.Name(), order[k-1], pa, ta, order[k], pb, tb)
				}
			}
		}
	}
}

// TestLRUIsThePoolsIdleList replays random busy/idle events against a model
// of the pool's idle list (a container goes to the back when it goes idle
// and leaves when it gets work) and checks that LRU orders the idle
// containers, handed over in any order, as that list, when LastUsed is the
// time each went idle.
func TestLRUIsThePoolsIdleList(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	lru := NewLRU()
	for trial := range 200 {
		const n = 30
		var list []int // container ids, front first
		idleSince := make([]time.Time, n)
		idle := make([]bool, n)
		now := t0
		for range 200 {
			now = now.Add(time.Duration(1+r.IntN(1000)) * time.Millisecond)
			c := r.IntN(n)
			if idle[c] {
				list = slices.DeleteFunc(list, func(x int) bool { return x == c })
			} else {
				list = append(list, c)
				idleSince[c] = now
			}
			idle[c] = !idle[c]
		}
		handed := slices.Clone(list)
		r.Shuffle(len(handed), func(i, j int) { handed[i], handed[j] = handed[j], handed[i] })
		cs := make([]Container, len(handed))
		for i, c := range handed {
			cs[i] = Container{LastUsed: idleSince[c], Stats: &Stats{}}
		}
		var got []int
		for _, i := range lru.Order(nil, cs) {
			got = append(got, handed[i])
		}
		if !slices.Equal(got, list) {
			t.Fatalf("trial %d: LRU %v, idle list %v", trial, got, list)
		}
	}
}

// TestHybridWindowsAgainstSortedList checks Windows on random histograms
// against the percentiles read off the sorted list of idle times' bins.
func TestHybridWindowsAgainstSortedList(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	o := DefaultOptions()
	k, _ := NewHybridKeepAlive(o)
	var modes [4]int
	defer func() {
		// Both branches must be exercised, or the test proves little.
		if modes[ModeHistogram] < 500 || modes[ModeUncertain] < 100 {
			t.Errorf("modes seen %v: too few histogram or uncertain cases", modes)
		}
	}()
	for trial := range 2000 {
		counts := map[int]uint32{}
		var bins []int
		center, width := r.IntN(240), 1+r.IntN(120)
		for range 10 + r.IntN(300) {
			b := min(239, max(0, center+r.IntN(2*width+1)-width))
			counts[b]++
			bins = append(bins, b)
		}
		st := histogram(counts, uint64(r.IntN(5)))
		w := k.Windows(st)
		modes[w.Mode]++
		if w.Mode != ModeHistogram {
			if w.PreWarm != 0 || w.KeepAlive != o.Hybrid.FallbackKeepAlive {
				t.Fatalf("trial %d: fallback %+v", trial, w)
			}
			continue
		}
		slices.Sort(bins)
		nf := float64(len(bins))
		head := bins[int(math.Max(1, math.Ceil(5*nf/100)))-1]
		tail := bins[int(math.Ceil(99*nf/100))-1]
		end := time.Duration(math.Round(float64(time.Duration(tail+1)*time.Minute) * 1.1))
		pw := time.Duration(math.Round(float64(time.Duration(head)*time.Minute) * 0.9))
		if w.PreWarm != pw || w.PreWarm+w.KeepAlive != end || w.KeepAlive <= 0 {
			t.Fatalf("trial %d: %+v; want PW %v, end %v (head bin %d, tail bin %d)", trial, w, pw, end, head, tail)
		}
	}
}

// TestHybridCacheFollowsRecords records random idle times one by one and
// checks after each that the kept sums match the counts and that the
// cached windows are those derived afresh.
func TestHybridCacheFollowsRecords(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	k, _ := NewHybridKeepAlive(DefaultOptions())
	st := &Stats{}
	for i := range 3000 {
		// Mostly around 20 min, sometimes anywhere up to 5 h (some beyond
		// the range).
		idle := time.Duration(19*60+r.IntN(120)) * time.Second
		if r.IntN(4) == 0 {
			idle = time.Duration(r.Int64N(int64(5 * time.Hour)))
		}
		k.Observe(st, idle)
		h := &st.Idle
		var in, sq uint64
		for _, c := range h.Counts {
			in += uint64(c)
			sq += uint64(c) * uint64(c)
		}
		if in != h.InRange || sq != h.SumSquares {
			t.Fatalf("after %d: InRange %d SumSquares %d, counts say %d %d", i, h.InRange, h.SumSquares, in, sq)
		}
		if got, want := k.Windows(st), k.derive(h); got != want {
			t.Fatalf("after %d: cached %+v, derived %+v", i, got, want)
		}
	}
}
