package policy

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// hotPath runs what the pool calls for one warm activation: the arrival,
// the end, the plan for the container going idle and the pre-warm window.
func hotPath(p *Policy, st *Stats, c *Container, i int) Plan {
	start := at(time.Duration(i) * 7 * time.Second)
	p.Started(st, start, StartWarm)
	end := start.Add(100 * time.Millisecond)
	p.Finished(st, end, StartWarm, 100*time.Millisecond)
	c.LastUsed = end
	plan := p.Idle(end, *c)
	p.PreWarm(end, st)
	return plan
}

// warmStats is an action with a histogram in histogram mode (idle times of
// about 7 s, all in bin 0, the busy case), so the hybrid policy scans.
func warmStats(p *Policy) (*Stats, *Container) {
	st := &Stats{Memory: 256 * mb}
	c := &Container{Memory: 256 * mb, Stats: st}
	for i := range 50 {
		hotPath(p, st, c, i)
	}
	return st, c
}

var policyNames = []string{OpenWhisk, GreedyDual, HybridHistogram, HybridGreedyDual}

func TestHotPathDoesNotAllocate(t *testing.T) {
	for _, name := range policyNames {
		p := mustPolicy(t, name, DefaultOptions())
		st, c := warmStats(p)
		i := 50
		if n := testing.AllocsPerRun(100, func() { hotPath(p, st, c, i); i++ }); n != 0 {
			t.Errorf("%s: %v allocations per activation, want 0", name, n)
		}
		cs := randomContainers(rand.New(rand.NewPCG(7, 8)), 200)
		dst := p.Order(nil, cs)
		if n := testing.AllocsPerRun(100, func() { dst = p.Order(dst[:0], cs) }); n != 0 {
			t.Errorf("%s: %v allocations per Order once warmed up, want 0", name, n)
		}
	}
}

// BenchmarkActivation is one warm activation's calls: Started, Finished,
// Idle, PreWarm.
func BenchmarkActivation(b *testing.B) {
	for _, name := range policyNames {
		b.Run(name, func(b *testing.B) {
			p := mustPolicy(b, name, DefaultOptions())
			st, c := warmStats(p)
			b.ReportAllocs()
			i := 50
			for b.Loop() {
				hotPath(p, st, c, i)
				i++
			}
		})
	}
}

// BenchmarkHybridWindows derives the windows from a histogram (what the
// first call after each new idle time pays) and reads them from the cache
// (every other call): for a busy action (tail in bin 1), a long scan (tail
// in the last bin) and an unrepresentative histogram (no scan).
func BenchmarkHybridWindows(b *testing.B) {
	k, _ := NewHybridKeepAlive(DefaultOptions())
	cases := []struct {
		name string
		st   *Stats
	}{
		{"busy", histogram(map[int]uint32{0: 500, 1: 3}, 0)},
		{"long", histogram(map[int]uint32{3: 20, 120: 300, 239: 2}, 1)},
		{"uncertain", histogram(spread(100), 0)},
	}
	for _, c := range cases {
		b.Run(c.name+"/derive", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				k.derive(&c.st.Idle)
			}
		})
		b.Run(c.name+"/cached", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				k.Windows(c.st)
			}
		})
	}
}

// BenchmarkOrder orders n idle containers (a fifth of them stem cells).
func BenchmarkOrder(b *testing.B) {
	for _, name := range []string{OpenWhisk, GreedyDual} {
		for _, n := range []int{10, 100, 1000} {
			b.Run(fmt.Sprintf("%s/n=%d", name, n), func(b *testing.B) {
				p := mustPolicy(b, name, DefaultOptions())
				cs := randomContainers(rand.New(rand.NewPCG(uint64(n), 9)), n)
				dst := p.Order(nil, cs)
				b.ReportAllocs()
				for b.Loop() {
					dst = p.Order(dst[:0], cs)
				}
			})
		}
	}
}
