package route

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stemcell-io/stemcell/config"
)

var sizes = []config.ByteSize{128 * mb, 256 * mb, 512 * mb, 1024 * mb}

// randomState is a view with arbitrary snapshots and a ledger with entries
// against the current snapshots and against older ones.
func randomState(r *rand.Rand) ([]Invoker, Ledger) {
	invs := randomCluster(r, 1+r.IntN(60))
	l := Ledger{}
	for i := range invs {
		inv := &invs[i]
		inv.Revision = r.Int64N(1000)
		inv.Busy = config.ByteSize(r.Int64N(int64(inv.UserMemory) + 1))
		rest := inv.UserMemory - inv.Busy
		inv.Idle = config.ByteSize(r.Int64N(int64(rest) + 1))
		rest -= inv.Idle
		inv.Prewarmed = config.ByteSize(r.Int64N(int64(rest) + 1))
		inv.Free = rest - inv.Prewarmed
		if r.IntN(4) == 0 {
			inv.Queued = sizes[r.IntN(len(sizes))]
		}
		inv.Draining = r.IntN(8) == 0
		for range r.IntN(4) {
			l.Sent(*inv, sizes[r.IntN(len(sizes))])
		}
		if r.IntN(4) == 0 {
			inv.Revision++ // the ledger's entry is now stale
		}
	}
	return invs, l
}

// reference is Place spelt out the slow way: the full ranking, the bound
// computed from its definition, a stable sort by the rules' precedence.
func reference(a Action, mem config.ByteSize, invs []Invoker, l Ledger, eps, floor float64, k int) []Candidate {
	var load, total float64
	for _, inv := range invs {
		if !inv.Draining && inv.UserMemory > 0 {
			load += float64(inv.Busy + l.InFlight(inv))
			total += float64(inv.UserMemory)
		}
	}
	mean := (load + float64(mem)) / total // busy share once placed
	var out []Candidate
	for _, i := range Rank(a, invs) {
		inv := invs[i]
		if inv.Draining || inv.UserMemory < mem {
			continue
		}
		sent := l.InFlight(inv)
		share := max((1+eps)*mean, floor)
		activations := math.Ceil(share * float64(inv.UserMemory) / float64(mem))
		c := Candidate{Index: i, ID: inv.ID, Load: inv.Busy + sent, Capacity: inv.Free + inv.Idle - inv.Queued - sent}
		c.Bound = config.ByteSize(max(activations, 1)) * mem
		c.Over = c.Load >= c.Bound
		c.Room = c.Capacity >= mem
		c.Free = inv.Free-inv.Queued-sent >= mem
		c.Warm = c.Room && slices.Contains(inv.Warm, WarmKey(a))
		out = append(out, c)
	}
	// Rules 3 to 5 by precedence: room, then the bound, then warm / free /
	// evicting.
	key := func(c Candidate) int {
		k := 0
		switch {
		case !c.Room:
			k = 6
		case c.Warm:
			k = 0
		case c.Free:
			k = 1
		default:
			k = 2
		}
		if c.Over {
			k += 3
			if !c.Room {
				k = 7
			}
		}
		return k
	}
	slices.SortStableFunc(out, func(x, y Candidate) int { return cmp.Compare(key(x), key(y)) })
	return out[:min(k, len(out))]
}

// TestPlaceMatchesReference compares Place with the reference on random
// views, ledgers, sizes and options, both below and above the number of
// candidates where Place sorts instead of inserting.
func TestPlaceMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 11))
	for trial := range 3000 {
		invs, l := randomState(r)
		a := action(trial)
		for i := range invs {
			// Some invokers have the action warm, among other actions.
			if r.IntN(3) == 0 {
				invs[i].Warm = []uint64{r.Uint64(), WarmKey(a), r.Uint64()}
				slices.Sort(invs[i].Warm)
			}
		}
		mem := sizes[r.IntN(len(sizes))]
		opts := Options{Epsilon: 0.05 + r.Float64(), Floor: []float64{-1, 0, 0.3}[r.IntN(3)], Candidates: 1 + r.IntN(len(invs)+2)}
		floor := max(opts.Floor, 0)
		if opts.Floor == 0 {
			floor = DefaultFloor
		}
		want := reference(a, mem, invs, l, opts.Epsilon, floor, opts.Candidates)
		got, err := Place(a, mem, invs, l, opts)
		if len(want) == 0 {
			if err == nil {
				t.Fatalf("trial %d: no invoker can take %s, Place proposed %q", trial, mem, candidateIDs(got))
			}
			continue
		}
		if err != nil {
			t.Fatalf("trial %d: %v", trial, err)
		}
		if len(got.Candidates) != len(want) {
			t.Fatalf("trial %d: %d candidates, want %d", trial, len(got.Candidates), len(want))
		}
		for i := range want {
			if g, w := got.Candidates[i], want[i]; g != w {
				t.Fatalf("trial %d, candidate %d:\n got %+v\nwant %+v", trial, i, g, w)
			}
		}
	}
}

// TestPlaceBoundArrivals is the theorem of Mirrokni, Thorup and
// Zadimoghaddam on random weighted clusters: activations of one size
// arrive and none leaves; after every placement every invoker's load is
// within ⌈(1 + ε) × L × w / W⌉ activations, L being the total load then.
// The front learns of its own placements through the ledger, and now and
// then through a snapshot that takes them in.
func TestPlaceBoundArrivals(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 12))
	for trial := range 20 {
		invs := randomCluster(r, 2+r.IntN(50))
		const mem = 128 * mb
		var total config.ByteSize
		for i := range invs {
			invs[i].UserMemory *= 64 // room is never the limit here
			invs[i].Free = invs[i].UserMemory
			total += invs[i].UserMemory
		}
		eps := []float64{0.1, 0.25, 0.5}[trial%3]
		l := Ledger{}
		var load config.ByteSize
		for n := range 1500 {
			p, err := Place(action(r.IntN(200)), mem, invs, l, Options{Epsilon: eps, Floor: -1})
			if err != nil {
				t.Fatal(err)
			}
			if c := p.Candidates[0]; !c.Room || c.Over {
				t.Fatalf("trial %d, activation %d: chose %+v", trial, n, c)
			}
			l.Sent(invs[p.Candidates[0].Index], mem)
			load += mem
			if r.IntN(10) == 0 { // a snapshot of one invoker arrives
				i := r.IntN(len(invs))
				sent := l.InFlight(invs[i])
				invs[i].Busy += sent
				invs[i].Free -= sent
				invs[i].Revision++
				l.Observed(invs[i])
			}
			for _, inv := range invs {
				within := math.Ceil((1 + eps) * float64(load) * float64(inv.UserMemory) / float64(total) / float64(mem))
				if got := inv.Busy + l.InFlight(inv); got > config.ByteSize(within)*mem {
					t.Fatalf("trial %d, after %d activations: %s carries %d, bound %v", trial, n+1, inv.ID, got/mem, within)
				}
			}
		}
	}
}

// TestPlaceBoundWorkload: activations arrive and finish at random, in
// mixed sizes; whenever some invoker within its bound has room, Place
// picks one within its bound, the bound computed here from scratch.
func TestPlaceBoundWorkload(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 13))
	type running struct {
		inv int
		mem config.ByteSize
	}
	for trial := range 20 {
		invs := randomCluster(r, 2+r.IntN(30))
		opts := Options{Floor: []float64{-1, 0}[trial%2]}
		var live []running
		for n := range 3000 {
			if len(live) > 0 && r.IntN(100) < 48 {
				j := r.IntN(len(live))
				d := live[j]
				invs[d.inv].Busy -= d.mem
				invs[d.inv].Free += d.mem
				live = slices.Delete(live, j, j+1)
				continue
			}
			mem := sizes[r.IntN(len(sizes))]
			p, err := Place(action(r.IntN(300)), mem, invs, nil, opts)
			if err != nil {
				continue // bigger than every invoker
			}
			c := p.Candidates[0]
			if !c.Room {
				continue // the cluster is full: the front would queue it
			}
			anyWithin := false
			for i, inv := range invs {
				if !inv.Draining && inv.UserMemory >= mem && inv.Free >= mem && !overBound(invs, i, mem, opts) {
					anyWithin = true
				}
			}
			if anyWithin && c.Over {
				t.Fatalf("trial %d, step %d: chose %s over its bound while another within had room", trial, n, c.ID)
			}
			if c.Over != overBound(invs, c.Index, mem, opts) {
				t.Fatalf("trial %d, step %d: %s Over = %v, the definition says otherwise", trial, n, c.ID, c.Over)
			}
			invs[c.Index].Busy += mem
			invs[c.Index].Free -= mem
			live = append(live, running{c.Index, mem})
		}
	}
}

// overBound is the bound of the package doc for invoker i, from scratch:
// load at or above (1 + ε) × the mean busy share once the activation is
// placed (at least the floor) × its user memory, rounded up to a multiple
// of mem.
func overBound(invs []Invoker, i int, mem config.ByteSize, opts Options) bool {
	var load, total config.ByteSize
	for _, inv := range invs {
		if !inv.Draining && inv.UserMemory > 0 {
			load += inv.Busy
			total += inv.UserMemory
		}
	}
	floor := DefaultFloor
	if opts.Floor < 0 {
		floor = 0
	}
	share := max(1.25*float64(load+mem)/float64(total), floor)
	bound := math.Ceil(share*float64(invs[i].UserMemory)/float64(mem)) * float64(mem)
	return float64(invs[i].Busy) >= bound
}

// TestPlaceFrontsAgree: two fronts with their own (empty) ledgers and
// their own copies of the view, listed in different orders, propose the
// same candidates in the same order.
func TestPlaceFrontsAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 14))
	for trial := range 500 {
		one, _ := randomState(r)
		two := shuffled(r, one)
		a, mem := action(trial), sizes[r.IntN(len(sizes))]
		p1, err1 := Place(a, mem, one, Ledger{}, Options{})
		p2, err2 := Place(a, mem, two, Ledger{}, Options{})
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("trial %d: errors %v and %v", trial, err1, err2)
		}
		if x, y := candidateIDs(p1), candidateIDs(p2); !slices.Equal(x, y) || p1.Home != p2.Home {
			t.Fatalf("trial %d: front one %q (home %s), front two %q (home %s)", trial, x, p1.Home, y, p2.Home)
		}
	}
}

// TestPlaceQuietStaysHome: in a quiet cluster, an action invoked again and
// again, one activation at a time, always goes to its first-ranked
// invoker, even while the others run a little.
func TestPlaceQuietStaysHome(t *testing.T) {
	invs := cluster(10, 4*config.GB)
	for i := 1; i < len(invs); i += 2 {
		busy(&invs[i], 512*mb)
	}
	l := Ledger{}
	for n := range 200 {
		a := action(n % 20)
		home := invs[Rank(a, invs)[0]].ID
		p, err := Place(a, 256*mb, invs, l, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if c := p.Candidates[0]; c.ID != home || p.Home != home {
			t.Fatalf("%s went to %s (home %s), want its first-ranked %s", a, c.ID, p.Home, home)
		}
		l.Answered(l.Sent(invs[p.Candidates[0].Index], 256*mb))
	}
	if len(l) != 0 {
		t.Errorf("ledger not empty after every activation was answered: %v", l)
	}
}
