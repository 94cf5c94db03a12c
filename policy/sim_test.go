package policy

import (
	"testing"
	"time"

	"github.com/stemcell-io/stemcell/config"
)

// simAction is an action of the litmus simulation.
type simAction struct {
	name       string
	mem        config.ByteSize
	warm, cold time.Duration
	st         *Stats
}

// simulate runs trace (indexes into actions), one activation every 10 s,
// each finished before the next, through p in a pool of budget bytes with
// no timers: a container stays until evicted for room, as the pool does
// through Order, Removed and the Stats events. It returns the cold starts
// and the added time they cost (cold − warm, summed).
func simulate(t *testing.T, p *Policy, budget config.ByteSize, actions []simAction, trace []int) (colds int, overhead time.Duration) {
	type simContainer struct {
		action   int
		lastUsed time.Time
	}
	var live []simContainer
	var cs []Container
	var order []int
	for i, a := range trace {
		now := at(time.Duration(i) * 10 * time.Second)
		act := &actions[a]
		warm := -1
		var used config.ByteSize
		for j, c := range live {
			used += actions[c.action].mem
			if c.action == a {
				warm = j
			}
		}
		if warm >= 0 {
			p.Started(act.st, now, StartWarm)
			p.Finished(act.st, now.Add(act.warm), StartWarm, act.warm)
			live[warm].lastUsed = now.Add(act.warm)
			continue
		}
		for used+act.mem > budget {
			cs = cs[:0]
			for _, c := range live {
				ca := &actions[c.action]
				cs = append(cs, Container{ID: ca.name, Memory: ca.mem, LastUsed: c.lastUsed, Stats: ca.st})
			}
			order = p.Order(order[:0], cs)
			if len(order) == 0 {
				t.Fatalf("request %d: %s does not fit in an empty pool", i, act.name)
			}
			victim := order[0]
			v := live[victim]
			live = append(live[:victim], live[victim+1:]...)
			last := true
			for _, c := range live {
				last = last && c.action != v.action
			}
			p.Removed(cs[victim], true, last)
			used -= actions[v.action].mem
		}
		colds++
		overhead += act.cold - act.warm
		p.Started(act.st, now, StartCold)
		p.Finished(act.st, now.Add(act.cold), StartCold, act.cold)
		live = append(live, simContainer{action: a, lastUsed: now.Add(act.cold)})
	}
	return colds, overhead
}

// TestLitmusFrequentExpensive is a trace where LRU throws away the one
// container worth keeping: room for 2 containers of 256 MB; A costs 1 s to
// start cold, B and C 10 ms; 20 rounds of A B C B C. Every action's stats
// start with one cold and one warm run measured, so the costs are known
// from the start (the default-cost phase is TestGreedyDualScenario's).
//
// LRU, first round: A, B cold; C cold evicting A (oldest); B, C warm. Every
// later round: A cold evicting B, B cold evicting C, C cold evicting A; B,
// C warm. 3 cold starts a round: 60, costing 20 × (1000 + 10 + 10) ms =
// 20.4 s.
//
// Greedy-Dual: A's priority is 1000/256 ≈ 3.9 per use, B's and C's
// 10/256 ≈ 0.04 above the clock, each eviction raising the clock by about
// 0.04, 4 evictions a round: A stays once loaded. First round: A, B cold;
// C cold evicting B; B cold evicting C; C cold evicting B: 5. Later
// rounds: A warm and 4 cold starts of B and C. 5 + 19 × 4 = 81 cold
// starts, costing 1000 + 80 × 10 ms = 1.8 s: more cold starts, 11 times
// less time lost to them, the trade FaaSCache makes.
func TestLitmusFrequentExpensive(t *testing.T) {
	var trace []int
	for range 20 {
		trace = append(trace, 0, 1, 2, 1, 2)
	}
	cases := []struct {
		policy   string
		colds    int
		overhead time.Duration
	}{
		{OpenWhisk, 60, 20400 * time.Millisecond},
		{GreedyDual, 81, 1800 * time.Millisecond},
		{HybridGreedyDual, 81, 1800 * time.Millisecond}, // the same order; its timers play no part here
	}
	for _, c := range cases {
		actions := []simAction{
			{name: "A", mem: 256 * mb, warm: 100 * time.Millisecond, cold: 1100 * time.Millisecond},
			{name: "B", mem: 256 * mb, warm: 100 * time.Millisecond, cold: 110 * time.Millisecond},
			{name: "C", mem: 256 * mb, warm: 100 * time.Millisecond, cold: 110 * time.Millisecond},
		}
		for i := range actions {
			a := &actions[i]
			a.st = &Stats{Memory: a.mem, Cold: Durations{1, a.cold}, Warm: Durations{1, a.warm}}
		}
		p := mustPolicy(t, c.policy, DefaultOptions())
		colds, overhead := simulate(t, p, 512*mb, actions, trace)
		if colds != c.colds || overhead != c.overhead {
			t.Errorf("%s: %d cold starts costing %v; want %d costing %v", c.policy, colds, overhead, c.colds, c.overhead)
		}
	}
}
