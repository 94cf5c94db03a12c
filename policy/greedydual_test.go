package policy

import (
	"slices"
	"testing"
	"time"
)

// run reports one activation of st's action arriving at start and running
// for d, finishing at start+d.
func run(p *Policy, st *Stats, start time.Time, kind Start, d time.Duration) {
	p.Started(st, start, kind)
	p.Finished(st, start.Add(d), kind, d)
}

func TestGreedyDualPriority(t *testing.T) {
	g, err := NewGreedyDualEviction(DefaultOptions()) // default cost 250 ms
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		c    Container
		want float64
	}{
		// 4 × (1200 − 200) ms / 256 MiB = 4000 / 256 = 15.625.
		{"measured", Container{Memory: 256 * mb, Stats: &Stats{Frequency: 4,
			Cold: Durations{1, 1200 * time.Millisecond}, Warm: Durations{3, 600 * time.Millisecond}}}, 15.625},
		// No warm run yet: the default 250 ms; 1 × 250 / 128 = 1.953125.
		{"cold only", Container{Memory: 128 * mb, Stats: &Stats{Frequency: 1,
			Cold: Durations{1, 900 * time.Millisecond}}}, 1.953125},
		// Clock stamped 2.5 at its last start: 2.5 + 10 × (300 − 250) / 512
		// = 2.5 + 0.9765625 = 3.4765625.
		{"clock", Container{Memory: 512 * mb, Stats: &Stats{Frequency: 10, UseClock: 2.5,
			Cold: Durations{2, 600 * time.Millisecond}, Warm: Durations{4, time.Second}}}, 3.4765625},
		// Warm slower than cold (noise): cost 0, so the clock alone, 1.5.
		{"no cost", Container{Memory: 256 * mb, Stats: &Stats{Frequency: 7, UseClock: 1.5,
			Cold: Durations{1, 100 * time.Millisecond}, Warm: Durations{1, 200 * time.Millisecond}}}, 1.5},
		// Memory 0 is counted as 1 MiB: 1 × 250 / 1 = 250.
		{"no memory", Container{Stats: &Stats{Frequency: 1}}, 250},
		{"stem cell", Container{StemCell: true, Memory: 256 * mb}, 0},
	}
	for _, c := range cases {
		if got := g.Priority(&c.c); got != c.want {
			t.Errorf("%s: Priority = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestGreedyDualScenario follows the clock through evictions, with every
// number computed by hand from the events.
func TestGreedyDualScenario(t *testing.T) {
	p := mustPolicy(t, GreedyDual, DefaultOptions())
	g := p.Eviction.(*GreedyDualEviction)
	x := &Stats{Memory: 256 * mb}
	y := &Stats{Memory: 128 * mb}
	// x: cold 1200 ms, then warm 200 ms: frequency 2, cost 1000 ms,
	// priority 0 + 2 × 1000 / 256 = 7.8125.
	run(p, x, at(0), StartCold, 1200*time.Millisecond)
	run(p, x, at(2*time.Second), StartWarm, 200*time.Millisecond)
	// y: one cold run of 500 ms, no warm one: default cost 250 ms,
	// priority 0 + 1 × 250 / 128 = 1.953125.
	run(p, y, at(3*time.Second), StartCold, 500*time.Millisecond)
	cs := []Container{
		{ID: "x", Memory: 256 * mb, LastUsed: at(2200 * time.Millisecond), Stats: x},
		{ID: "y", Memory: 128 * mb, LastUsed: at(3500 * time.Millisecond), Stats: y},
		{ID: "cell", StemCell: true, Memory: 128 * mb, Created: at(0)},
	}
	// y has the lower priority though x was used less recently (LRU
	// would take x first); the stem cell comes last.
	if got := ids(cs, p.Order(nil, cs)); !slices.Equal(got, []string{"y", "x", "cell"}) {
		t.Fatalf("Order = %v, want [y x cell]", got)
	}
	// Evicting y raises the clock to its priority, and y, its last
	// container gone, starts counting again.
	p.Removed(cs[1], true, true)
	if g.Clock() != 1.953125 || y.Frequency != 0 {
		t.Fatalf("after evicting y: clock %v, y frequency %d; want 1.953125, 0", g.Clock(), y.Frequency)
	}
	// y comes back cold (1 run), warm twice (3 runs): cold 500 and 700
	// → mean 600 ms; warm 100, 100 → 100 ms; cost 500 ms; stamped with
	// clock 1.953125; priority 1.953125 + 3 × 500 / 128 = 1.953125 +
	// 11.71875 = 13.671875, now above x's 7.8125.
	run(p, y, at(10*time.Second), StartCold, 700*time.Millisecond)
	run(p, y, at(11*time.Second), StartWarm, 100*time.Millisecond)
	run(p, y, at(12*time.Second), StartWarm, 100*time.Millisecond)
	if got := g.Priority(&cs[1]); got != 13.671875 {
		t.Fatalf("y's priority = %v, want 13.671875", got)
	}
	if got := ids(cs, p.Order(nil, cs)); !slices.Equal(got, []string{"x", "y", "cell"}) {
		t.Fatalf("Order = %v, want [x y cell]", got)
	}
	// Removed by a timer, not evicted: the clock stays; x keeps its
	// frequency because another of its containers is left.
	p.Removed(cs[0], false, false)
	if g.Clock() != 1.953125 || x.Frequency != 2 {
		t.Fatalf("after removing x: clock %v, frequency %d; want 1.953125, 2", g.Clock(), x.Frequency)
	}
	// Evicting x (7.8125) raises the clock; evicting a stem cell does not
	// touch it; the clock never goes down (y's 13.671875, then x's again).
	p.Removed(cs[0], true, false)
	p.Removed(cs[2], true, false)
	if g.Clock() != 7.8125 {
		t.Fatalf("clock = %v, want 7.8125", g.Clock())
	}
	p.Removed(cs[1], true, false)
	p.Removed(cs[0], true, false)
	if g.Clock() != 13.671875 {
		t.Fatalf("clock = %v, want 13.671875 (max of the victims)", g.Clock())
	}
}

func TestGreedyDualTiesAreLRU(t *testing.T) {
	st := &Stats{Frequency: 3}
	cs := []Container{
		{ID: "new", Memory: 256 * mb, LastUsed: at(9 * time.Second), Stats: st},
		{ID: "old", Memory: 256 * mb, LastUsed: at(1 * time.Second), Stats: st},
		// Same action, half the memory: twice the priority, so last.
		{ID: "small", Memory: 128 * mb, LastUsed: at(0), Stats: st},
	}
	p := mustPolicy(t, GreedyDual, DefaultOptions())
	if got := ids(cs, p.Order(nil, cs)); !slices.Equal(got, []string{"old", "new", "small"}) {
		t.Errorf("Order = %v, want [old new small]", got)
	}
}

func TestGreedyDualKeepAlive(t *testing.T) {
	cases := []struct {
		name  string
		grace time.Duration
		keep  time.Duration
		want  Plan
	}{
		// FaaSCache: no timer; pause 10 s after the job at 12:00:00.
		{"until evicted", 10 * time.Second, 0, Plan{PauseAt: at(10 * time.Second)}},
		// Safety TTL 2 h: removed at 14:00:00.
		{"safety ttl", 10 * time.Second, 2 * time.Hour, Plan{PauseAt: at(10 * time.Second), RemoveAt: at(2 * time.Hour)}},
		// A TTL shorter than the grace: removed at 12:00:05, never paused.
		{"ttl before pause", 10 * time.Second, 5 * time.Second, Plan{RemoveAt: at(5 * time.Second)}},
	}
	for _, c := range cases {
		o := DefaultOptions()
		o.PauseGrace, o.GreedyDual.KeepAlive = c.grace, c.keep
		p := mustPolicy(t, GreedyDual, o)
		if got := p.Idle(at(0), Container{LastUsed: at(0), Stats: &Stats{}}); got != c.want {
			t.Errorf("%s: Idle = %+v, want %+v", c.name, got, c.want)
		}
		if w := p.PreWarm(at(0), &Stats{LastEnd: at(0)}); w != (Window{}) {
			t.Errorf("%s: PreWarm = %+v, want none", c.name, w)
		}
	}
}

// With clone-priority recency, a frequent action's idle containers other
// than its most recently used one rank by the action's clock stamp, so a
// burst's leftovers go before a rarer action's only container; FaaSCache's
// order keeps them all above it.
func TestGreedyDualClonesByRecency(t *testing.T) {
	t0 := at(0)
	// hot: 40 activations, cost (1200 − 200) ms, 256 MiB, stamped 1.0;
	// priority 1 + 40 × 1000 / 256 = 157.25. Its latest job ended at 10 s.
	hot := &Stats{Frequency: 40, UseClock: 1, LastEnd: t0.Add(10 * time.Second),
		Cold: Durations{1, 1200 * time.Millisecond}, Warm: Durations{1, 200 * time.Millisecond}}
	// rare: 2 activations, same cost and memory, stamped 0.5;
	// priority 0.5 + 2 × 1000 / 256 = 8.3125.
	rare := &Stats{Frequency: 2, UseClock: 0.5, LastEnd: t0.Add(5 * time.Second),
		Cold: Durations{1, 1200 * time.Millisecond}, Warm: Durations{1, 200 * time.Millisecond}}
	cs := []Container{
		{ID: "hot-latest", Memory: 256 * mb, LastUsed: t0.Add(10 * time.Second), Stats: hot},
		{ID: "hot-clone", Memory: 256 * mb, LastUsed: t0.Add(3 * time.Second), Stats: hot},
		{ID: "rare", Memory: 256 * mb, LastUsed: t0.Add(5 * time.Second), Stats: rare},
	}
	ids := func(order []int) []string {
		var out []string
		for _, i := range order {
			out = append(out, cs[i].ID)
		}
		return out
	}
	full := DefaultOptions()
	recency := DefaultOptions()
	recency.GreedyDual.ClonesByRecency = true
	for _, c := range []struct {
		name  string
		opts  Options
		want  []string
		clock float64 // after evicting the first
	}{
		// 8.3125 < 157.25 = 157.25 (the tie least recently used first).
		{"full", full, []string{"rare", "hot-clone", "hot-latest"}, 8.3125},
		// The clone ranks at hot's stamp, 1.0 < 8.3125 < 157.25; evicting
		// it leaves the clock at 1.
		{"recency", recency, []string{"hot-clone", "rare", "hot-latest"}, 1},
	} {
		g, err := NewGreedyDualEviction(c.opts)
		if err != nil {
			t.Fatal(err)
		}
		order := g.Order(nil, cs)
		if got := ids(order); !slices.Equal(got, c.want) {
			t.Errorf("%s: order %v, want %v", c.name, got, c.want)
		}
		g.Evicted(cs[order[0]])
		if g.Clock() != c.clock {
			t.Errorf("%s: clock %v after the first eviction, want %v", c.name, g.Clock(), c.clock)
		}
	}
}
