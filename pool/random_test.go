package pool

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
)

// seedEnv replays a failed run of the randomized tests.
const seedEnv = "STEMCELL_POOL_SEED"

// fixedSeeds run on every test run, next to a fresh one: seeds that once
// found a bug, and a few that cover both queue rules and promotion settings.
var fixedSeeds = []uint64{1, 2, 3, 42, 1777000000000000000}

// TestRandomInterleavings drives the pool and the real container actor
// through random arrivals, init and run outcomes (success, application and
// developer errors, health errors that reschedule), failed creations, stem
// cells coming and going, destroys held at the engine, and time passing
// (pauses, idle removals); then shuts down. The invariants are checked by
// the pool after every message it handles (including what the engine holds
// against the ledger) and by the test after every step.
func TestRandomInterleavings(t *testing.T) {
	steps := 1500
	if testing.Short() {
		steps = 300
	}
	forEachSeed(t, withFresh(fixedSeeds), func(t *testing.T, seed uint64) { randomRun(t, seed, steps) })
}

type rndAction struct {
	name    string
	mem     int64
	maxConc int
}

// randomRun runs one seed inside a synctest bubble and returns its trace:
// what each step did and where every activation was placed.
func randomRun(t *testing.T, seed uint64, steps int) []string {
	var trace []string
	synctest.Test(t, func(t *testing.T) { trace = randomBubble(t, seed, steps) })
	return trace
}

func randomBubble(t *testing.T, seed uint64, steps int) []string {
	rng := rand.New(rand.NewPCG(seed, 1))
	cfg := testConfig(1024)
	cfg.ContainerPool.BufferSize = 100000
	cfg.ContainerPool.PrewarmPromotion = rng.IntN(2) == 0
	cfg.ContainerPool.Queue = []string{config.QueueFair, config.QueueFIFO}[rng.IntN(2)]
	cfg.ContainerProxy.Timeouts.PauseGrace = 10 * time.Second
	cfg.ContainerProxy.Timeouts.IdleContainer = time.Minute
	cfg.Limits.Payload.Max = config.MB
	cfg.Limits.Payload.Truncation = config.MB
	eng := &engine{gated: true}
	h := newBubbleHarness(t, cfg, eng)
	t.Cleanup(eng.ungate) // before the harness closes: a failed run leaves calls waiting

	actions := []rndAction{{"small", 128, 1}, {"mid", 256, 2}, {"big", 512, 1}, {"huge", 768, 1}, {"conc", 256, 4}}
	namespaces := []string{"ns1", "ns2", "ns3"}
	arrival := map[string]int{}
	var refs []uint64
	nextRef := uint64(1)
	var trace []string

	fail := func(step int, what string) {
		t.Helper()
		h.mu.Lock()
		v := append([]string(nil), h.violations...)
		h.mu.Unlock()
		v = append(v, h.engineHeld()...)
		eng.mu.Lock()
		for _, c := range eng.containers {
			if c.destroyed > 1 {
				v = append(v, fmt.Sprintf("container %s destroyed %d times", c.id, c.destroyed))
			}
		}
		eng.mu.Unlock()
		if len(v) > 0 {
			t.Fatalf("seed %d, step %d (%s): %v", seed, step, what, firstFew(v))
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
			case cl.op == opDestroy:
				// A failed destroy is not played: the pool gives the memory
				// back anyway today (issue 13, item 2).
			case cl.op == opCreate:
				if o < 5 {
					res.err = errors.New("injected creation failure")
				}
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
			what = fmt.Sprintf("decide %s -> status %v, err %v", cl.key(), res.status, res.err)
			eng.decide(cl, res)
		case r < 84:
			d := time.Duration(rng.IntN(20)) * time.Second
			what = "advance " + d.String()
			h.clock.Advance(d)
		case r < 90:
			ref := nextRef
			nextRef++
			what = fmt.Sprintf("stem cell %d", ref)
			res, err := h.sys.Root.RequestFuture(h.pool.PID(), &actors.ReserveMemory{Ref: ref, Kind: "js:goja", Memory: 256 * mb}, waitFor).Result()
			if err != nil {
				t.Fatalf("reserve: %v", err)
			}
			if res.(*actors.ReserveMemoryReply).Granted {
				// Booked first, then created: as the prewarm scheduler does.
				spec := factory.ContainerSpec{Name: fmt.Sprintf("stem-%d", ref), Kind: "js:goja", Memory: 256 * mb}
				eng.mu.Lock()
				c := eng.newContainer(spec)
				eng.mu.Unlock()
				h.sys.Root.Send(h.pool.PID(), &actors.StemCellReady{Ref: ref, Kind: "js:goja", Memory: 256 * mb, Container: c, Created: h.clock.Now()})
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
		// Every goroutine of the bubble has done what this step set off:
		// the next step starts from the same state on every replay.
		synctest.Wait()
		trace = append(trace, what)
		fail(step, what)
	}

	// Let everything finish: answer every call as it comes, let time pass.
	for i := 0; !h.allAnswered(arrival); i++ {
		if i == drainRounds {
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
		h.settleRound(eng, time.Second)
	}
	fail(steps, "drain")

	h.shutdownSettling(t, seed, eng)
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
	for _, p := range h.placements {
		trace = append(trace, fmt.Sprintf("placed %s kind %v ident %v", p.ID, p.Kind, p.Ident))
	}
	t.Logf("seed %d: %d activations, %d containers, %d placements", seed, len(arrival), len(eng.containers), len(h.placements))
	return trace
}

// drainRounds bounds the rounds of the drain and of the shutdown: each
// advances the pool's clock, so every timer has long fired before the end.
const drainRounds = 2000

// heldCalls is an engine that holds its calls until the test lets them
// through: the gated engine, or the fake factory's gates.
type heldCalls interface {
	// letThroughAll lets every call waiting succeed, one at a time in an
	// order that does not depend on goroutine scheduling, with the bubble
	// settled after each, so that their answers reach the pool in the
	// same order on every replay.
	letThroughAll()
}

// settleRound is one round of a drain in a bubble: every engine call
// waiting is let through (when held is not nil), the pool's clock moves
// on, and the bubble settles.
func (h *harness) settleRound(held heldCalls, advance time.Duration) {
	if held != nil {
		held.letThroughAll()
	}
	h.snapshot()
	h.clock.Advance(advance)
	time.Sleep(time.Millisecond) // bubble time, so engine-call deadlines move on too
	synctest.Wait()
}

func (eng *engine) letThroughAll() {
	for _, cl := range eng.pending() {
		eng.decide(cl, callResult{})
		synctest.Wait()
	}
}

// shutdownSettling shuts the pool down while letting the engine's calls
// through, and fails the test unless it shuts down cleanly.
func (h *harness) shutdownSettling(t *testing.T, seed uint64, held heldCalls) {
	t.Helper()
	f := h.sys.Root.RequestFuture(h.pool.PID(), &actors.Shutdown{Deadline: h.clock.Now().Add(time.Minute)}, time.Hour)
	type answer struct {
		res any
		err error
	}
	done := make(chan answer, 1)
	go func() {
		res, err := f.Result()
		done <- answer{res, err}
	}()
	for range drainRounds {
		select {
		case a := <-done:
			if a.err != nil {
				t.Fatalf("seed %d: shutdown: %v", seed, a.err)
			}
			if d := a.res.(*actors.ShutdownDone); d.Err != nil {
				t.Fatalf("seed %d: shutdown: %v", seed, d.Err)
			}
			return
		default:
		}
		if held != nil {
			held.letThroughAll()
		}
		h.clock.Advance(30 * time.Second)
		time.Sleep(time.Millisecond)
		synctest.Wait()
	}
	t.Fatalf("seed %d: the pool did not shut down in %d rounds", seed, drainRounds)
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

// withFresh is seeds plus one new seed, so that every run also tries an
// interleaving no run tried before; its subtest prints how to replay it.
func withFresh(seeds []uint64) []uint64 {
	return append(append([]uint64(nil), seeds...), uint64(time.Now().UnixNano()))
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
