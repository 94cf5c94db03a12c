package pool

import (
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
)

// An action's statistics outlive its containers, and are dropped once it
// has had neither a container nor an activation for the retention: twice
// the histogram's range, at least an hour.
func TestActionStatsSwept(t *testing.T) {
	cfg := policyConfig(1024, config.PolicyHybridHistogram, config.PolicyGreedyDual)
	p := newPoolActor(cfg, zerolog.Nop(), actors.RealClock{}, nil, hooks{}, nil)
	if p.pols.retention != 8*time.Hour {
		t.Fatalf("retention %v, want 8h (twice the 4 h range)", p.pols.retention)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ag, ak := act("g", "ns", "gone", 128), act("k", "ns", "kept", 128)
	gone, kept := ag.Identity(), ak.Identity()
	p.actionFor(gone).seen = t0
	p.actionFor(kept).seen = t0
	p.byIdent[kept] = &identGroup{members: 1} // it still has a container
	p.sweepActions(t0.Add(8*time.Hour - time.Nanosecond))
	if len(p.pols.actions) != 2 {
		t.Fatalf("%d actions left before the retention passed, want 2", len(p.pols.actions))
	}
	p.sweepActions(t0.Add(8*time.Hour + time.Minute)) // the next sweep is a minute on
	if p.pols.actions[gone] != nil || p.pols.actions[kept] == nil {
		t.Fatalf("after the retention: gone kept %v, kept kept %v; want only kept", p.pols.actions[gone] != nil, p.pols.actions[kept] != nil)
	}
	small := policyConfig(1024, config.PolicyOpenWhisk, config.PolicyOpenWhisk)
	small.ContainerPool.HybridHistogram.BinWidth = time.Second
	if r := newPoolActor(small, zerolog.Nop(), actors.RealClock{}, nil, hooks{}, nil).pols.retention; r != time.Hour {
		t.Fatalf("retention with a 4-minute range %v, want the 1 h floor", r)
	}
}

// Under the default eviction policy the order is the idle list's (the
// order the containers went idle), then the stem cells as given, even
// when the containers' own last-use times disagree with the list (their
// JobDone reports raced): the pool's order before the policies.
func TestEvictionOrderDefaultIsIdleList(t *testing.T) {
	p := newPoolActor(testConfig(4096), zerolog.Nop(), actors.RealClock{}, nil, hooks{}, nil)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var want []*entry
	// Gone idle in this order; last used 3 s, 1 s, 2 s, 0 s after t0.
	for i, lu := range []time.Duration{3, 1, 2, 0} {
		a := act("x", "ns", string(rune('a'+i)), 128)
		e := &entry{pid: actor.NewPID("nonhost", a.Action.Name), ident: a.Identity(), kind: "js:goja",
			mem: 128 * config.MB, maxConc: 1, phase: phaseWarmed, availTier: tierNone, lastUsed: t0.Add(lu * time.Second)}
		if err := p.ledger.add(memIdle, e.mem); err != nil {
			t.Fatal(err)
		}
		p.registered(e)
		p.join(e)
		p.change(e, func() {})
		want = append(want, e)
	}
	cells := []*entry{
		{pid: actor.NewPID("nonhost", "s1"), phase: phaseStemCell, mem: 256 * config.MB, ref: 1},
		{pid: actor.NewPID("nonhost", "s2"), phase: phaseStemCell, mem: 128 * config.MB, ref: 2},
	}
	want = append(want, cells...)
	var got []*entry
	for e := range p.evictionOrder(cells) {
		got = append(got, e)
	}
	if len(got) != len(want) {
		t.Fatalf("%d containers in the order, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("position %d: %s, want %s", i, got[i].pid.Id, want[i].pid.Id)
		}
	}
	// Under greedy-dual, a's action started three times: priority
	// 3 × 250 ms / 128 MiB = 5.9 against 0 for the others, which keep the
	// idle list's order among themselves: b, c, d, then a.
	g := newPoolActor(policyConfig(4096, config.PolicyOpenWhisk, config.PolicyGreedyDual), zerolog.Nop(), actors.RealClock{}, nil, hooks{}, nil)
	g.idle = p.idle
	want[0].act.st.Frequency = 3
	got = got[:0]
	for e := range g.evictionOrder(nil) {
		got = append(got, e)
	}
	if names := []string{got[0].pid.Id, got[1].pid.Id, got[2].pid.Id, got[3].pid.Id}; strings.Join(names, "") != "bcda" {
		t.Fatalf("greedy-dual order %v, want b c d a", names)
	}
}
