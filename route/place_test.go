package route

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/stemcell-io/stemcell/config"
)

const mb = config.MB

// TestPlaceTable: four invokers of 1000 MB, an activation of 100 MB,
// ε = 0.25. Each case sets the invokers by their position in the action's
// ranking (p[0] is its first choice) and expects candidates by position.
// The bounds are worked out by hand in the comments: (1 + ε) × (load +
// 100) / 4000 per MB, at least the floor, × 1000, rounded up to 100s.
func TestPlaceTable(t *testing.T) {
	a := Action{"guest", "guest/pkg/hello", "0.0.1"}
	noFloor := Options{Floor: -1}
	for _, c := range []struct {
		name  string
		set   func(p []*Invoker, l Ledger)
		mem   config.ByteSize
		opts  Options
		want  []int
		check func(t *testing.T, cs []Candidate) // by position in want
	}{
		{
			name: "idle cluster: the ranking",
			want: []int{0, 1, 2, 3},
			opts: noFloor,
			check: func(t *testing.T, cs []Candidate) {
				// 1.25 × 100 / 4000 × 1000 = 31.25 → 100
				wantCandidate(t, cs[0], 0, 100*mb, false, 1000*mb, true)
			},
		},
		{
			name: "home over the bound: next in the ranking",
			set:  func(p []*Invoker, _ Ledger) { busy(p[0], 600*mb) },
			opts: noFloor,
			want: []int{1, 2, 3, 0},
			check: func(t *testing.T, cs []Candidate) {
				// 1.25 × 700 / 4000 × 1000 = 218.75 → 300
				wantCandidate(t, cs[3], 600*mb, 300*mb, true, 400*mb, true)
				wantCandidate(t, cs[0], 0, 300*mb, false, 1000*mb, true)
			},
		},
		{
			name: "paper bound alone: a home 40 % busy in a quiet cluster is over",
			set:  func(p []*Invoker, _ Ledger) { busy(p[0], 400*mb) },
			opts: noFloor,
			want: []int{1, 2, 3, 0},
			check: func(t *testing.T, cs []Candidate) {
				// 1.25 × 500 / 4000 × 1000 = 156.25 → 200
				wantCandidate(t, cs[3], 400*mb, 200*mb, true, 600*mb, true)
			},
		},
		{
			name: "default floor: the same home stays the choice",
			set:  func(p []*Invoker, _ Ledger) { busy(p[0], 400*mb) },
			want: []int{0, 1, 2, 3},
			check: func(t *testing.T, cs []Candidate) {
				// max(0.15625, 0.5) × 1000 = 500
				wantCandidate(t, cs[0], 400*mb, 500*mb, false, 600*mb, true)
			},
		},
		{
			name: "default floor: a home 60 % busy is over",
			set:  func(p []*Invoker, _ Ledger) { busy(p[0], 600*mb) },
			want: []int{1, 2, 3, 0},
			check: func(t *testing.T, cs []Candidate) {
				wantCandidate(t, cs[3], 600*mb, 500*mb, true, 400*mb, true)
			},
		},
		{
			name: "no room at home: next",
			set:  func(p []*Invoker, _ Ledger) { p[0].Free, p[0].Prewarmed = 50*mb, 950*mb },
			want: []int{1, 2, 3, 0},
			check: func(t *testing.T, cs []Candidate) {
				wantCandidate(t, cs[3], 0, 500*mb, false, 50*mb, false)
			},
		},
		{
			name: "idle containers are room, after free memory",
			set:  func(p []*Invoker, _ Ledger) { p[0].Free, p[0].Idle, p[0].Prewarmed = 50*mb, 200*mb, 750*mb },
			want: []int{1, 2, 3, 0},
			check: func(t *testing.T, cs []Candidate) {
				wantCandidate(t, cs[3], 0, 500*mb, false, 250*mb, true)
				if cs[3].Free || cs[3].Warm || !cs[0].Free {
					t.Errorf("home %+v: want not free, not warm; next %+v: want free", cs[3], cs[0])
				}
			},
		},
		{
			name: "the action warm: first, even evicting nothing elsewhere",
			set: func(p []*Invoker, _ Ledger) {
				p[2].Free, p[2].Idle, p[2].Prewarmed = 0, 300*mb, 700*mb
				p[2].Warm = sortedKeys(WarmKey(a), 1, math.MaxUint64)
				p[3].Warm = []uint64{1, 2} // other actions only
			},
			want: []int{2, 0, 1, 3},
			check: func(t *testing.T, cs []Candidate) {
				if !cs[0].Warm || cs[1].Warm || cs[3].Warm {
					t.Errorf("warm flags %v %v %v, want only the first", cs[0].Warm, cs[1].Warm, cs[3].Warm)
				}
			},
		},
		{
			name: "the action warm on an invoker over the bound: after those within it",
			set: func(p []*Invoker, _ Ledger) {
				busy(p[1], 600*mb)
				p[1].Warm = []uint64{WarmKey(a)}
			},
			opts: noFloor,
			want: []int{0, 2, 3, 1},
		},
		{
			name: "the action warm on an invoker without room: not warm, last",
			set: func(p []*Invoker, _ Ledger) {
				p[0].Free, p[0].Prewarmed = 0, 1000*mb
				p[0].Warm = []uint64{WarmKey(a)}
			},
			want: []int{1, 2, 3, 0},
			check: func(t *testing.T, cs []Candidate) {
				if cs[3].Warm || cs[3].Room {
					t.Errorf("home %+v: no room, so neither room nor warm", cs[3])
				}
			},
		},
		{
			name: "queued memory is promised",
			set:  func(p []*Invoker, _ Ledger) { p[0].Free, p[0].Queued, p[0].Prewarmed = 300*mb, 250*mb, 700*mb },
			want: []int{1, 2, 3, 0},
			check: func(t *testing.T, cs []Candidate) {
				wantCandidate(t, cs[3], 0, 500*mb, false, 50*mb, false)
			},
		},
		{
			name: "sent since the snapshot counts against room and load",
			set:  func(p []*Invoker, l Ledger) { l.Sent(*p[0], 950*mb) },
			opts: noFloor,
			want: []int{1, 2, 3, 0},
			check: func(t *testing.T, cs []Candidate) {
				// 1.25 × 1050 / 4000 × 1000 = 328.125 → 400
				wantCandidate(t, cs[3], 950*mb, 400*mb, true, 50*mb, false)
			},
		},
		{
			name: "sent before the snapshot counts nothing",
			set: func(p []*Invoker, l Ledger) {
				l.Sent(*p[0], 950*mb)
				p[0].Revision++
			},
			opts: noFloor,
			want: []int{0, 1, 2, 3},
			check: func(t *testing.T, cs []Candidate) {
				wantCandidate(t, cs[0], 0, 100*mb, false, 1000*mb, true)
			},
		},
		{
			name: "draining: never, and out of the mean",
			set: func(p []*Invoker, _ Ledger) {
				p[0].Draining = true
				busy(p[0], 1000*mb)
			},
			opts: noFloor,
			want: []int{1, 2, 3},
			check: func(t *testing.T, cs []Candidate) {
				// 1.25 × 100 / 3000 × 1000 = 41.7 → 100
				wantCandidate(t, cs[0], 0, 100*mb, false, 1000*mb, true)
			},
		},
		{
			name: "draining: never, even idle and first-ranked",
			set:  func(p []*Invoker, _ Ledger) { p[0].Draining = true },
			want: []int{1, 2, 3},
		},
		{
			name: "too small: never",
			set:  func(p []*Invoker, _ Ledger) { *p[1] = idle(p[1].ID, 500*mb) },
			mem:  600 * mb,
			want: []int{0, 2, 3},
		},
		{
			name: "over the bound with room before within without",
			set: func(p []*Invoker, _ Ledger) {
				busy(p[0], 900*mb)
				for _, q := range p[1:] {
					q.Free, q.Prewarmed = 0, 1000*mb
				}
			},
			opts: noFloor,
			want: []int{0, 1, 2, 3},
			check: func(t *testing.T, cs []Candidate) {
				// 1.25 × 1000 / 4000 × 1000 = 312.5 → 400
				wantCandidate(t, cs[0], 900*mb, 400*mb, true, 100*mb, true)
				wantCandidate(t, cs[1], 0, 400*mb, false, 0, false)
			},
		},
		{
			name: "no room anywhere: within the bound first, in ranking order",
			set: func(p []*Invoker, _ Ledger) {
				busy(p[0], 1000*mb)
				for _, q := range p[1:] {
					q.Free, q.Prewarmed = 0, 1000*mb
				}
			},
			opts: noFloor,
			want: []int{1, 2, 3, 0},
		},
		{
			name: "two candidates asked",
			opts: Options{Candidates: 2},
			want: []int{0, 1},
		},
		{
			name: "more candidates asked than invokers",
			opts: Options{Candidates: 40},
			want: []int{0, 1, 2, 3},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			invs := cluster(4, 1000*mb)
			order := Rank(a, invs)
			p := make([]*Invoker, len(order))
			for i, j := range order {
				p[i] = &invs[j]
			}
			l := Ledger{}
			if c.set != nil {
				c.set(p, l)
			}
			mem := c.mem
			if mem == 0 {
				mem = 100 * mb
			}
			got, err := Place(a, mem, invs, l, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			want := make([]string, len(c.want))
			for i, pos := range c.want {
				want[i] = p[pos].ID
			}
			if ids := candidateIDs(got); !slices.Equal(ids, want) {
				t.Fatalf("candidates %q, want %q", ids, want)
			}
			for _, cd := range got.Candidates {
				if invs[cd.Index].ID != cd.ID {
					t.Errorf("candidate %s has the index of %s", cd.ID, invs[cd.Index].ID)
				}
			}
			if home := p[c.want[0]]; c.want[0] == 0 && got.Home != home.ID {
				t.Errorf("Home = %s, want %s", got.Home, home.ID)
			}
			if c.check != nil {
				c.check(t, got.Candidates)
			}
		})
	}
}

func busy(inv *Invoker, m config.ByteSize) {
	inv.Busy, inv.Free = m, inv.UserMemory-m
}

func sortedKeys(keys ...uint64) []uint64 {
	slices.Sort(keys)
	return keys
}

func wantCandidate(t *testing.T, c Candidate, load, bound config.ByteSize, over bool, capacity config.ByteSize, room bool) {
	t.Helper()
	if c.Load != load || c.Bound != bound || c.Over != over || c.Capacity != capacity || c.Room != room {
		t.Errorf("%s: load %s bound %s over %v capacity %s room %v, want %s %s %v %s %v",
			c.ID, c.Load, c.Bound, c.Over, c.Capacity, c.Room, load, bound, over, capacity, room)
	}
}

// TestPlaceWeightedBound: the bound follows user memory. Invokers of 1000
// and 3000 MB, an activation of 100 MB, no floor.
func TestPlaceWeightedBound(t *testing.T) {
	a := Action{"guest", "w", "1"}
	for _, c := range []struct {
		name           string
		busyA, busyB   config.ByteSize
		boundA, boundB config.ByteSize
		overA, overB   bool
	}{
		// 1.25 × 1100 / 4000 = 0.34375 per MB: A 343.75 → 400, B 1031.25 → 1100
		{"both within", 300 * mb, 700 * mb, 400 * mb, 1100 * mb, false, false},
		// 1.25 × 1200 / 4000 = 0.375: A 375 → 400, B 1125 → 1200
		{"the small one reaches its bound", 400 * mb, 700 * mb, 400 * mb, 1200 * mb, true, false},
		// 1.25 × 1600 / 4000 = 0.5: A 500, B 1500
		{"the big one reaches its bound", 0, 1500 * mb, 500 * mb, 1500 * mb, false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			invs := []Invoker{idle("A", 1000*mb), idle("B", 3000*mb)}
			busy(&invs[0], c.busyA)
			busy(&invs[1], c.busyB)
			got, err := Place(a, 100*mb, invs, nil, Options{Floor: -1})
			if err != nil {
				t.Fatal(err)
			}
			for _, cd := range got.Candidates {
				bound, over := c.boundA, c.overA
				if cd.ID == "B" {
					bound, over = c.boundB, c.overB
				}
				if cd.Bound != bound || cd.Over != over {
					t.Errorf("%s: bound %s over %v, want %s %v", cd.ID, cd.Bound, cd.Over, bound, over)
				}
			}
		})
	}
}

func TestPlaceErrors(t *testing.T) {
	a := Action{"guest", "guest/hello", "0.0.1"}
	drained := cluster(3, config.GB)
	for i := range drained {
		drained[i].Draining = true
	}
	for _, c := range []struct {
		name     string
		invokers []Invoker
		mem      config.ByteSize
		opts     Options
		want     error
	}{
		{"no memory", cluster(3, config.GB), 0, Options{}, ErrInvalid},
		{"negative memory", cluster(3, config.GB), -mb, Options{}, ErrInvalid},
		{"epsilon NaN", cluster(3, config.GB), mb, Options{Epsilon: math.NaN()}, ErrInvalid},
		{"epsilon negative", cluster(3, config.GB), mb, Options{Epsilon: -0.1}, ErrInvalid},
		{"epsilon infinite", cluster(3, config.GB), mb, Options{Epsilon: math.Inf(1)}, ErrInvalid},
		{"floor above one", cluster(3, config.GB), mb, Options{Floor: 1.5}, ErrInvalid},
		{"candidates negative", cluster(3, config.GB), mb, Options{Candidates: -1}, ErrInvalid},
		{"no invokers", nil, mb, Options{}, ErrNoInvoker},
		{"all draining", drained, mb, Options{}, ErrNoInvoker},
		{"all too small", cluster(3, config.GB), 2 * config.GB, Options{}, ErrNoInvoker},
		{"all without memory", cluster(3, 0), mb, Options{}, ErrNoInvoker},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := Place(a, c.mem, c.invokers, nil, c.opts)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if len(p.Candidates) != 0 {
				t.Errorf("candidates %q with an error", candidateIDs(p))
			}
			t.Log(err)
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, o := range []Options{{}, {Epsilon: 0.01}, {Epsilon: 3}, {Floor: -1}, {Floor: 1}, {Candidates: 1}} {
		if err := o.Validate(); err != nil {
			t.Errorf("%+v: %v", o, err)
		}
	}
	err := Options{Epsilon: -1, Floor: math.NaN(), Candidates: -2}.Validate()
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v, want ErrInvalid", err)
	}
	for _, field := range []string{"Epsilon: -1", "Floor: NaN", "Candidates: -2"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("%q does not name %q", err, field)
		}
	}
}
