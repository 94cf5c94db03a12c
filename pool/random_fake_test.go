package pool

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory/fake"
)

// TestRandomInterleavingsFakeFactory is TestRandomInterleavings on the
// shared fake factory: runs are held at a gate and let through a few at a
// time, and every engine operation may fail as the fake can make it fail
// (creation errors, init and run failures of every status, crashes, OOM
// kills, health errors, timeouts, failed resumes). The fake checks that
// every container it created was destroyed exactly once.
func TestRandomInterleavingsFakeFactory(t *testing.T) {
	steps := 2000
	if testing.Short() {
		steps = 400
	}
	forEachSeed(t, withFresh(fixedSeeds), func(t *testing.T, seed uint64) {
		synctest.Test(t, func(t *testing.T) { randomFakeRun(t, seed, steps) })
	})
}

func randomFakeRun(t *testing.T, seed uint64, steps int) {
	rng := rand.New(rand.NewPCG(seed, 3))
	var fmu sync.Mutex
	frng := rand.New(rand.NewPCG(seed, 4))
	inject := func(c fake.Call) fake.Fault {
		fmu.Lock()
		r := frng.IntN(100)
		fmu.Unlock()
		switch c.Op {
		case fake.OpCreate:
			if r < 5 {
				return fake.FaultError
			}
		case fake.OpInit:
			switch {
			case r < 4:
				return fake.FaultDeveloperError
			case r < 6:
				return fake.FaultHealth
			}
		case fake.OpRun:
			switch {
			case r < 5:
				return fake.FaultApplicationError
			case r < 8:
				return fake.FaultDeveloperError
			case r < 10:
				return fake.FaultCrash
			case r < 11:
				return fake.FaultOOM
			case r < 13:
				return fake.FaultHealth
			case r < 14:
				return fake.FaultTimeout
			}
		case fake.OpResume:
			if r < 5 {
				return fake.FaultHealth
			}
		}
		return fake.FaultNone
	}
	cfg := testConfig(1024)
	cfg.ContainerPool.BufferSize = 100000
	cfg.ContainerPool.PrewarmPromotion = rng.IntN(2) == 0
	cfg.ContainerPool.Queue = []string{config.QueueFair, config.QueueFIFO}[rng.IntN(2)]
	cfg.ContainerProxy.Timeouts.PauseGrace = 10 * time.Second
	cfg.ContainerProxy.Timeouts.IdleContainer = time.Minute
	cfg.Limits.Payload.Max = config.MB
	cfg.Limits.Payload.Truncation = config.MB
	ff := fake.New(fake.Options{Seed: seed, Faults: inject})
	gate := ff.Gate(fake.OpRun)
	destroys := ff.Gate(fake.OpDestroy)
	h := newBubbleHarness(t, cfg, ff)
	t.Cleanup(func() { // before the harness closes: a failed run leaves calls waiting
		ff.Ungate(fake.OpRun)
		ff.Ungate(fake.OpDestroy)
	})

	actions := []rndAction{{"small", 128, 1}, {"mid", 256, 2}, {"big", 512, 1}, {"conc", 256, 4}}
	namespaces := []string{"ns1", "ns2"}
	arrival := map[string]int{}
	check := func(step int, what string) {
		t.Helper()
		h.mu.Lock()
		v := append([]string(nil), h.violations...)
		h.mu.Unlock()
		if v = append(v, h.engineHeld()...); len(v) > 0 {
			t.Fatalf("seed %d, step %d (%s): %v", seed, step, what, firstFew(v))
		}
	}
	for step := range steps {
		var what string
		switch r := rng.IntN(100); {
		case r < 40:
			a := actions[rng.IntN(len(actions))]
			id := fmt.Sprintf("a%d", len(arrival))
			what = "arrival " + id
			arrival[id] = len(arrival)
			x := act(id, namespaces[rng.IntN(len(namespaces))], a.name, a.mem)
			x.Action.Limits.MaxConcurrency = a.maxConc
			// Some callers take the result before the logs (a blocking
			// invoke of the daemon); those logs must follow exactly once.
			if rng.IntN(2) == 0 {
				x.Action.Limits.Logs = 10 * config.MB
				x.LogsAfterResult = rng.IntN(2) == 0
			}
			h.run(x)
		case r < 75:
			n := 1 + rng.IntN(3)
			what = fmt.Sprintf("let %d runs through", n)
			gate.Release(n)
		case r < 82:
			// Destroys wait at the engine, holding their memory, until let
			// through: the pool must not give that memory out meanwhile.
			n := 1 + rng.IntN(2)
			what = fmt.Sprintf("let %d destroys through", n)
			destroys.Release(n)
		case r < 90:
			d := time.Duration(rng.IntN(20)) * time.Second
			what = "advance " + d.String()
			h.clock.Advance(d)
		default:
			what = "barrier"
			h.snapshot()
		}
		synctest.Wait()
		check(step, what)
	}

	ff.Ungate(fake.OpRun)
	ff.Ungate(fake.OpDestroy)
	for i := 0; !h.allAnswered(arrival); i++ {
		if i == drainRounds {
			t.Fatalf("seed %d: unanswered after the drain: %v; snapshot %+v", seed, h.unanswered(arrival), h.snapshot())
		}
		h.settleRound(nil, time.Second)
	}
	h.shutdownSettling(t, seed, nil)
	check(steps, "shutdown")

	h.checkAnsweredOnceInOrder(t, seed, arrival)
	synctest.Wait()
	if h.lateLogsIn.Load() != h.lateLogs.Load() {
		t.Fatalf("seed %d: %d of %d results answered before their logs never got them", seed, h.lateLogs.Load()-h.lateLogsIn.Load(), h.lateLogs.Load())
	}
	if err := ff.Verify(); err != nil {
		t.Fatalf("seed %d: fake factory: %v", seed, err)
	}
	if live := ff.Live(); len(live) != 0 {
		t.Fatalf("seed %d: %d containers still live in the fake engine", seed, len(live))
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	t.Logf("seed %d: %d activations (%d answered before their logs), %d containers created, %d placements",
		seed, len(arrival), h.lateLogs.Load(), len(ff.Created()), len(h.placements))
}
