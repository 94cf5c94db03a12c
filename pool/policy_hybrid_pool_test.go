package pool

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory/fake"
)

// hybridConfig has 1-second bins over a minute, windows from three idle
// times on, a 30 s fallback keep-alive, and no pause within the test.
func hybridConfig() *config.Config {
	cfg := policyConfig(1024, config.PolicyHybridHistogram, config.PolicyOpenWhisk)
	h := &cfg.ContainerPool.HybridHistogram
	h.BinWidth, h.Bins, h.MinObservations = time.Second, 60, 3
	h.FallbackKeepAlive, h.OutOfBoundsKeepAlive = 30*time.Second, 30*time.Second
	return cfg
}

// Before the histogram knows enough, hybrid-histogram keeps an idle
// container for the fixed keep-alive from its last use, 30 s here, where
// the container's own timers (pause-grace and idle-container, an hour
// each in this configuration) would keep it two hours.
func TestHybridRemovesAtKeepAliveWindow(t *testing.T) {
	pp := newPolicyPool(t, hybridConfig())
	pp.invoke(act("a1", "ns", "f", 256))
	pp.waitFor("the container idle", func(s actors.MemorySnapshot) bool { return s.Idle.Count == 1 })
	pp.clock.Advance(30*time.Second - time.Nanosecond)
	if s := pp.snapshot(); s.Idle.Count != 1 || s.Removing.Count != 0 {
		t.Fatalf("snapshot %+v before the keep-alive window closed: want the container idle", s)
	}
	pp.clock.Advance(time.Nanosecond)
	pp.waitFor("the container removed", func(s actors.MemorySnapshot) bool {
		return s.Idle.Count == 0 && s.Removing.Count == 0 && s.Free == s.Total
	})
	if n := pp.f.Calls(fake.OpSuspend); n != 0 {
		t.Errorf("%d pauses: the removal came before the pause grace, so there should be none", n)
	}

	// The default policy under the same configuration keeps it.
	def := newPolicyPool(t, policyConfig(1024, config.PolicyOpenWhisk, config.PolicyOpenWhisk))
	def.invoke(act("a1", "ns", "f", 256))
	def.clock.Advance(30 * time.Second)
	if s := def.snapshot(); s.Idle.Count != 1 {
		t.Fatalf("openwhisk: snapshot %+v 30 s after the last use: want the container idle", s)
	}
}

// Once the histogram is representative (every idle time 10 s, in bin 10),
// hybrid-histogram removes the container as soon as it goes idle and loads
// one again at the pre-warm window: by hand, head = tail bin 10, so
// pre-warm = 0.9 × 10 s = 9 s and the window ends at 1.1 × 11 s = 12.1 s
// after the last activation ended. A call inside the window finds the
// container loaded (a prewarmed start, no new creation); a window without
// a call closes with the container removed.
func TestHybridPreloadsAtPreWarmWindow(t *testing.T) {
	pp := newPolicyPool(t, hybridConfig())
	// Four calls 10 s apart: three idle times of 10 s.
	for i := range 4 {
		if i > 0 {
			pp.clock.Advance(10 * time.Second)
		}
		r := pp.invoke(act("a"+string(rune('0'+i)), "ns", "f", 256))
		if want := map[bool]actors.StartKind{true: actors.StartCold, false: actors.StartWarm}[i == 0]; r.StartKind != want {
			t.Fatalf("call %d started %s, want %s (the fallback keep-alive of 30 s keeps it)", i, r.StartKind, want)
		}
	}
	end := pp.clock.Now()
	gone := func(s actors.MemorySnapshot) bool { return s.Free == s.Total && s.Removing.Count == 0 }
	pp.waitFor("the container removed as soon as it went idle", gone)
	if n := pp.f.Calls(fake.OpCreate); n != 1 {
		t.Fatalf("%d creations, want 1", n)
	}

	pp.clock.Advance(9*time.Second - time.Nanosecond)
	if s := pp.snapshot(); s.Starting.Count != 0 || pp.f.Calls(fake.OpCreate) != 1 {
		t.Fatalf("snapshot %+v, %d creations before the pre-warm window: want nothing loaded", s, pp.f.Calls(fake.OpCreate))
	}
	pp.clock.Advance(time.Nanosecond) // end + 9 s: the window opens
	pp.letCreate()
	pp.waitFor("a container loaded ahead", func(s actors.MemorySnapshot) bool { return s.Starting.Count == 1 })
	if got := pp.metric("stemcell_pool_preloads_total", map[string]string{"outcome": "created"}); got != 1 {
		t.Fatalf("preloads created = %v, want 1", got)
	}

	pp.clock.Advance(time.Second) // end + 10 s: the call the window was for
	if r := pp.invoke(act("a4", "ns", "f", 256)); r.StartKind != actors.StartPrewarmed {
		t.Fatalf("the call in the window started %s, want prewarmed", r.StartKind)
	}
	if n := pp.f.Calls(fake.OpCreate); n != 2 {
		t.Fatalf("%d creations, want 2: the call must use the container loaded ahead", n)
	}
	if got := pp.metric("stemcell_pool_preloads_total", map[string]string{"outcome": "used"}); got != 1 {
		t.Fatalf("preloads used = %v, want 1", got)
	}

	// No call in the next window [end2 + 9 s, end2 + 12.1 s): loaded at
	// its start, removed at its end.
	end2 := pp.clock.Now()
	pp.waitFor("the container removed after the call", gone)
	pp.clock.Advance(9 * time.Second)
	pp.letCreate()
	pp.waitFor("a container loaded ahead again", func(s actors.MemorySnapshot) bool { return s.Starting.Count == 1 })
	pp.clock.Advance(end2.Add(12100 * time.Millisecond).Sub(pp.clock.Now()))
	pp.waitFor("the unused container removed when its window closed", gone)
	if got := pp.metric("stemcell_pool_preloads_total", map[string]string{"outcome": "unloaded"}); got != 1 {
		t.Fatalf("preloads unloaded = %v, want 1", got)
	}
	if !end.Before(end2) {
		t.Fatal("the clock did not move")
	}
}

// A container loaded ahead and not used yet holds memory that another
// action may need: it is evicted like an idle container, not kept until
// its window closes.
func TestHybridPreloadIsEvictable(t *testing.T) {
	cfg := hybridConfig()
	cfg.ContainerPool.UserMemory = 256 * config.MB
	pp := newPolicyPool(t, cfg)
	for i := range 4 { // as in TestHybridPreloadsAtPreWarmWindow: windows from the 4th call on
		if i > 0 {
			pp.clock.Advance(10 * time.Second)
		}
		pp.invoke(act("a"+string(rune('0'+i)), "ns", "f", 256))
	}
	pp.waitFor("the container removed", func(s actors.MemorySnapshot) bool { return s.Free == s.Total && s.Removing.Count == 0 })
	pp.clock.Advance(9 * time.Second)
	pp.letCreate()
	pp.waitFor("a container loaded ahead", func(s actors.MemorySnapshot) bool { return s.Starting.Count == 1 && s.Free == 0 })
	if r := pp.invoke(act("g1", "ns", "g", 256)); r.StartKind != actors.StartRecreated {
		t.Fatalf("g started %s, want recreated: the container loaded ahead must give way", r.StartKind)
	}
	if got := pp.metric("stemcell_pool_preloads_total", map[string]string{"outcome": "evicted"}); got != 1 {
		t.Fatalf("preloads evicted = %v, want 1", got)
	}
	if n := pp.f.Calls(fake.OpCreate); n != 3 {
		t.Fatalf("%d creations, want 3 (f, f ahead, g)", n)
	}
}

// TestRandomInterleavingsPolicies is TestRandomInterleavingsFakeFactory
// under the other policies: plans sent to containers, Greedy-Dual's order,
// and (with 1-second bins, windows from three idle times on) containers
// loaded ahead and unloaded, amid every fault the fake can inject. Every
// invariant of the harness holds after every step, every activation is
// answered once, and every container is destroyed once.
func TestRandomInterleavingsPolicies(t *testing.T) {
	steps := 800
	if testing.Short() {
		steps = 200
	}
	policies := map[string]func(*config.Config){
		"greedy-dual": func(cfg *config.Config) {
			cfg.ContainerPool.KeepAlivePolicy, cfg.ContainerPool.EvictionPolicy = config.PolicyGreedyDual, config.PolicyGreedyDual
			cfg.ContainerPool.GreedyDual = config.Default().ContainerPool.GreedyDual
			cfg.ContainerPool.GreedyDual.KeepAlive = 90 * time.Second
		},
		"hybrid-greedy-dual": func(cfg *config.Config) {
			cfg.ContainerPool.KeepAlivePolicy, cfg.ContainerPool.EvictionPolicy = config.PolicyHybridHistogram, config.PolicyGreedyDual
			d := config.Default().ContainerPool
			cfg.ContainerPool.GreedyDual, cfg.ContainerPool.HybridHistogram = d.GreedyDual, d.HybridHistogram
			h := &cfg.ContainerPool.HybridHistogram
			h.BinWidth, h.Bins, h.MinObservations, h.CVThreshold, h.HeadPercentile, h.MaxOutOfBounds = time.Second, 60, 3, 0, 90, 1
			h.FallbackKeepAlive, h.OutOfBoundsKeepAlive = 40*time.Second, 40*time.Second
			// Windows from the 90th percentile (most idle times are 0: the
			// action still runs), and room enough that some open with the
			// memory free.
			cfg.ContainerPool.UserMemory = 4096 * config.MB
		},
	}
	for name, edit := range policies {
		t.Run(name, func(t *testing.T) {
			forEachSeed(t, withFresh(fixedSeeds), func(t *testing.T, seed uint64) {
				synctest.Test(t, func(t *testing.T) { randomFakeBubbleWith(t, seed, steps, edit) })
			})
		})
	}
}
