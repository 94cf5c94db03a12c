package pool

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory/fake"
)

// TestRandomInterleavingsFakeFactory is TestRandomInterleavings on the
// shared fake factory: creates, inits, runs and destroys are held at the
// fake's gates and let through one at a time, and every engine operation
// may fail as the fake can make it fail (creation errors, init and run
// failures of every status, crashes, OOM kills, health errors, timeouts,
// failed resumes). The fake checks that every container it created was
// destroyed exactly once.
//
// A seed replays its run: the test picks held calls by their Key (what the
// pool decided, not which goroutine got there first) and settles the
// bubble after each, and the faults are drawn from the seed and the call's
// Key, not from a source shared in call order.
func TestRandomInterleavingsFakeFactory(t *testing.T) {
	steps := 2000
	if testing.Short() {
		steps = 400
	}
	forEachSeed(t, withFresh(fixedSeeds), func(t *testing.T, seed uint64) { randomFakeRun(t, seed, steps) })
}

// fakeFaults is what the randomized test lets the fake do wrong, by the
// call's roll in [0, 100).
func fakeFaults(c fake.Call, r int) fake.Fault {
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

// fakeGates are the gates of the fake's operations that the randomized
// test decides one call at a time.
type fakeGates []*fake.Gate

// heldFakeOps are held: every operation whose completion the pool hears of
// and that can run in parallel with another (two creations, runs on two
// containers). Suspend, resume and logs follow from a timer or a run the
// test let through, one at a time, so they are not held.
var heldFakeOps = []fake.Op{fake.OpCreate, fake.OpInit, fake.OpRun, fake.OpDestroy}

func (gs fakeGates) pending() []fake.Call {
	var out []fake.Call
	for _, g := range gs {
		out = append(out, g.Pending()...)
	}
	slices.SortFunc(out, func(a, b fake.Call) int { return cmp.Compare(a.Key(), b.Key()) })
	return out
}

// letThrough lets c through and waits until the bubble settled.
func (gs fakeGates) letThrough(c fake.Call) {
	gs[slices.Index(heldFakeOps, c.Op)].ReleaseCall(c)
	synctest.Wait()
}

// letSomeThrough lets up to n calls through, each drawn by rng from what
// held() lists at that moment, and returns their keys.
func letSomeThrough(rng *rand.Rand, gs fakeGates, n int, held func() []fake.Call) []string {
	var through []string
	for range n {
		calls := held()
		if len(calls) == 0 {
			break
		}
		c := calls[rng.IntN(len(calls))]
		through = append(through, c.Key())
		gs.letThrough(c)
	}
	return through
}

func (gs fakeGates) letThroughAll() {
	for _, c := range gs.pending() {
		gs.letThrough(c)
	}
}

// randomFakeRun runs one seed inside a synctest bubble and returns its
// trace: what each step did and where every activation was placed.
func randomFakeRun(t *testing.T, seed uint64, steps int) []string {
	var trace []string
	synctest.Test(t, func(t *testing.T) { trace = randomFakeBubble(t, seed, steps) })
	return trace
}

func randomFakeBubble(t *testing.T, seed uint64, steps int) []string {
	return randomFakeBubbleWith(t, seed, steps, nil)
}

// randomFakeBubbleWith is randomFakeBubble with the configuration edited by
// edit (when not nil) before the pool starts.
func randomFakeBubbleWith(t *testing.T, seed uint64, steps int, edit func(*config.Config)) []string {
	rng := rand.New(rand.NewPCG(seed, 3))
	cfg := testConfig(1024)
	cfg.ContainerPool.BufferSize = 100000
	cfg.ContainerPool.PrewarmPromotion = rng.IntN(2) == 0
	cfg.ContainerPool.Queue = []string{config.QueueFair, config.QueueFIFO}[rng.IntN(2)]
	cfg.ContainerProxy.Timeouts.PauseGrace = 10 * time.Second
	cfg.ContainerProxy.Timeouts.IdleContainer = time.Minute
	cfg.Limits.Payload.Max = config.MB
	cfg.Limits.Payload.Truncation = config.MB
	if edit != nil {
		edit(cfg)
	}
	ff := fake.New(fake.Options{Seed: seed, Faults: fake.Seeded(seed, fakeFaults)})
	var gates fakeGates
	for _, op := range heldFakeOps {
		gates = append(gates, ff.Gate(op))
	}
	h := newBubbleHarness(t, cfg, ff)
	t.Cleanup(func() { // before the harness closes: a failed run leaves calls waiting
		for _, op := range heldFakeOps {
			ff.Ungate(op)
		}
	})

	actions := []rndAction{{"small", 128, 1}, {"mid", 256, 2}, {"big", 512, 1}, {"conc", 256, 4}}
	namespaces := []string{"ns1", "ns2"}
	arrival := map[string]int{}
	var trace []string
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
			// Creates, inits and runs, one at a time with the bubble
			// settled after each.
			through := letSomeThrough(rng, gates, 1+rng.IntN(4), func() []fake.Call {
				return slices.DeleteFunc(gates.pending(), func(c fake.Call) bool { return c.Op == fake.OpDestroy })
			})
			what = fmt.Sprintf("let through %q", through)
		case r < 82:
			// Destroys wait at the engine, holding their memory, until let
			// through: the pool must not give that memory out meanwhile.
			through := letSomeThrough(rng, gates, 1+rng.IntN(2), ff.Gate(fake.OpDestroy).Pending)
			what = fmt.Sprintf("let destroys through %q", through)
		case r < 90:
			d := time.Duration(rng.IntN(20)) * time.Second
			what = "advance " + d.String()
			h.clock.Advance(d)
		default:
			what = "barrier"
			h.snapshot()
		}
		synctest.Wait()
		trace = append(trace, what)
		check(step, what)
	}

	for i := 0; !h.allAnswered(arrival); i++ {
		if i == drainRounds {
			t.Fatalf("seed %d: unanswered after the drain: %v; snapshot %+v", seed, h.unanswered(arrival), h.snapshot())
		}
		h.settleRound(gates, time.Second)
	}
	h.shutdownSettling(t, seed, gates)
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
	for _, p := range h.placements {
		trace = append(trace, fmt.Sprintf("placed %s kind %v ident %v", p.ID, p.Kind, p.Ident))
	}
	t.Logf("seed %d: %d activations (%d answered before their logs), %d containers created, %d placements",
		seed, len(arrival), h.lateLogs.Load(), len(ff.Created()), len(h.placements))
	return trace
}
