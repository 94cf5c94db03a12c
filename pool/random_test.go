package pool

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
)

// seedEnv replays a failed run of TestRandomInterleavings.
const seedEnv = "STEMCELL_POOL_SEED"

// TestRandomInterleavings drives the pool and the real container actor
// through random arrivals, init and run outcomes (success, application and
// developer errors, health errors that reschedule), failed creations, stem
// cells coming and going, and time passing (pauses, idle removals); then
// shuts down. The invariants are checked by the pool after every message it
// handles and by the test after every step.
func TestRandomInterleavings(t *testing.T) {
	steps := 1500
	if testing.Short() {
		steps = 300
	}
	forEachSeed(t, []uint64{uint64(time.Now().UnixNano()), uint64(time.Now().UnixNano()) + 1}, func(t *testing.T, seed uint64) { randomRun(t, seed, steps) })
}

type rndAction struct {
	name    string
	mem     int64
	maxConc int
}

func randomRun(t *testing.T, seed uint64, steps int) {
	rng := rand.New(rand.NewPCG(seed, 1))
	engRng := rand.New(rand.NewPCG(seed, 2)) // used under the engine's lock only
	cfg := testConfig(1024)
	cfg.ContainerPool.BufferSize = 100000
	cfg.ContainerPool.PrewarmPromotion = rng.IntN(2) == 0
	cfg.ContainerPool.Queue = []string{config.QueueFair, config.QueueFIFO}[rng.IntN(2)]
	cfg.ContainerProxy.Timeouts.PauseGrace = 10 * time.Second
	cfg.ContainerProxy.Timeouts.IdleContainer = time.Minute
	cfg.Limits.Payload.Max = config.MB
	cfg.Limits.Payload.Truncation = config.MB
	eng := &engine{gated: true}
	eng.createErr = func() error {
		if engRng.IntN(100) < 5 {
			return fmt.Errorf("injected creation failure")
		}
		return nil
	}
	h := newHarnessWith(t, cfg, eng)

	actions := []rndAction{{"small", 128, 1}, {"mid", 256, 2}, {"big", 512, 1}, {"huge", 768, 1}, {"conc", 256, 4}}
	namespaces := []string{"ns1", "ns2", "ns3"}
	arrival := map[string]int{}
	var refs []uint64
	nextRef := uint64(1)

	fail := func(step int, what string) {
		t.Helper()
		h.mu.Lock()
		v := append([]string(nil), h.violations...)
		h.mu.Unlock()
		eng.mu.Lock()
		v = append(v, eng.violations...)
		eng.mu.Unlock()
		if len(v) > 0 {
			t.Fatalf("seed %d, step %d (%s): %v", seed, step, what, v)
		}
	}
	for step := range steps {
		var what string
		switch r := rng.IntN(100); {
		case r < 35:
			a := actions[rng.IntN(len(actions))]
			ns := namespaces[rng.IntN(len(namespaces))]
			id := fmt.Sprintf("a%d", len(arrival))
			what = "arrival " + id
			arrival[id] = len(arrival)
			x := act(id, ns, a.name, a.mem)
			x.Action.Limits.MaxConcurrency = a.maxConc
			h.run(x)
		case r < 78:
			calls := eng.pending()
			if len(calls) == 0 {
				what = "nothing to decide"
				break
			}
			cl := calls[rng.IntN(len(calls))]
			res := callResult{}
			switch o := rng.IntN(100); {
			case o < 70:
			case o < 80:
				res.status = factory.StatusApplicationError
			case o < 88:
				res.status = factory.StatusDeveloperError
			case o < 93:
				res.status = factory.StatusInternalError
			default:
				res.err = factory.ErrHealth
			}
			what = fmt.Sprintf("decide %s init=%v -> %+v", cl.id, cl.init, res)
			eng.decide(cl, res)
		case r < 84:
			d := time.Duration(rng.IntN(20)) * time.Second
			what = "advance " + d.String()
			h.clock.Advance(d)
		case r < 90:
			ref := nextRef
			nextRef++
			what = fmt.Sprintf("stem cell %d", ref)
			res, err := h.sys.Root.RequestFuture(h.pool.PID(), &actors.ReserveMemory{Ref: ref, Kind: "nodejs:20", Memory: 256 * mb}, waitFor).Result()
			if err != nil {
				t.Fatalf("reserve: %v", err)
			}
			if res.(*actors.ReserveMemoryReply).Granted {
				eng.mu.Lock()
				c := eng.newContainer(factory.ContainerSpec{Kind: "nodejs:20", Memory: 256 * mb})
				eng.mu.Unlock()
				h.sys.Root.Send(h.pool.PID(), &actors.StemCellReady{Ref: ref, Kind: "nodejs:20", Memory: 256 * mb, Container: c, Created: h.clock.Now()})
				refs = append(refs, ref)
			}
		case r < 93 && len(refs) > 0:
			ref := refs[rng.IntN(len(refs))]
			what = fmt.Sprintf("remove stem cell %d", ref)
			h.sys.Root.RequestWithCustomSender(h.pool.PID(), &actors.RemoveStemCell{Ref: ref, Reason: "expired"}, h.prewarm)
		default:
			what = "barrier"
			h.snapshot()
		}
		fail(step, what)
	}

	// Let everything finish: answer every call as it comes, let time pass.
	deadline := time.Now().Add(30 * time.Second)
	for !h.allAnswered(arrival) {
		if time.Now().After(deadline) {
			un := h.unanswered(arrival)
			var where []string
			for _, p := range h.placed() {
				for _, id := range un {
					if p.ID == id {
						where = append(where, fmt.Sprintf("%+v", p))
					}
				}
			}
			t.Fatalf("seed %d: activations still unanswered after the drain: %v; placements %v; snapshot %+v", seed, un, where, h.snapshot())
		}
		for _, cl := range eng.pending() {
			eng.decide(cl, callResult{})
		}
		h.snapshot()
		h.clock.Advance(time.Second)
		time.Sleep(time.Millisecond) // polling pace only; the loop condition is the synchronisation
	}
	fail(steps, "drain")

	f := h.sys.Root.RequestFuture(h.pool.PID(), &actors.Shutdown{Deadline: h.clock.Now().Add(time.Minute)}, 30*time.Second)
	for {
		for _, cl := range eng.pending() {
			eng.decide(cl, callResult{})
		}
		h.clock.Advance(30 * time.Second)
		if _, err := f.Result(); err == nil || time.Now().After(deadline.Add(30*time.Second)) {
			break
		}
	}
	res, err := f.Result()
	if err != nil {
		t.Fatalf("seed %d: shutdown: %v", seed, err)
	}
	if d := res.(*actors.ShutdownDone); d.Err != nil {
		t.Fatalf("seed %d: shutdown: %v", seed, d.Err)
	}
	fail(steps, "shutdown")

	// Each activation answered exactly once; first placements in arrival order.
	h.checkAnsweredOnceInOrder(t, seed, arrival)
	eng.mu.Lock()
	defer eng.mu.Unlock()
	for _, c := range eng.containers {
		if c.destroyed != 1 {
			t.Fatalf("seed %d: container %s destroyed %d times, want exactly 1", seed, c.id, c.destroyed)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	t.Logf("seed %d: %d activations, %d containers, %d placements", seed, len(arrival), len(eng.containers), len(h.placements))
}

func (h *harness) allAnswered(arrival map[string]int) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for id := range arrival {
		if len(h.results[id]) == 0 {
			return false
		}
	}
	return true
}

func (h *harness) unanswered(arrival map[string]int) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for id := range arrival {
		if len(h.results[id]) == 0 {
			out = append(out, id)
		}
	}
	return out
}

// forEachSeed runs run once per seed: the given defaults, or the one seed
// named by the replay variable, each in a subtest that prints how to replay it.
func forEachSeed(t *testing.T, defaults []uint64, run func(t *testing.T, seed uint64)) {
	seeds := defaults
	if v := os.Getenv(seedEnv); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: must be an unsigned integer: %v", seedEnv, v, err)
		}
		seeds = []uint64{s}
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Logf("seed %d: replay with %s=%d", seed, seedEnv, seed)
			run(t, seed)
		})
	}
}
