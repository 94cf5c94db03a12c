package pool

import (
	"cmp"
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/factory/fake"
	"github.com/stemcell-io/stemcell/internal/protocol"
)

// policyPool is a pool with the real container actor on the fake factory
// and a fake clock, whose creations wait at a gate: a test lets each one
// through after advancing the clock by what that action's cold start
// costs, so the pool measures cold and warm durations on the fake clock.
type policyPool struct {
	t     *testing.T
	p     *Pool
	clock *actors.FakeClock
	f     *fake.Factory
	gate  *fake.Gate
	reg   *prometheus.Registry
	cost  map[string]time.Duration // cold-start cost by action name; 0 if absent
}

// policyConfig is steadyConfig with the policies' default knobs and the
// given policies.
func policyConfig(userMB int64, keepAlive, eviction string) *config.Config {
	cfg := steadyConfig(userMB)
	d := config.Default().ContainerPool
	cfg.ContainerPool.GreedyDual, cfg.ContainerPool.HybridHistogram = d.GreedyDual, d.HybridHistogram
	cfg.ContainerPool.KeepAlivePolicy, cfg.ContainerPool.EvictionPolicy = keepAlive, eviction
	return cfg
}

// A warm run takes 10 ms, as the outcome says.
const policyRunTime = 10 * time.Millisecond

func newPolicyPool(t *testing.T, cfg *config.Config) *policyPool {
	t.Helper()
	run := func(_ *fake.Container, req factory.RunRequest) factory.Outcome {
		start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		return factory.Outcome{Start: start, End: start.Add(policyRunTime), Status: factory.StatusSuccess, Result: []byte(`{}`)}
	}
	pp := &policyPool{
		t:     t,
		clock: actors.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)),
		f:     fake.New(fake.Options{Run: run}),
		reg:   prometheus.NewRegistry(),
		cost:  map[string]time.Duration{},
	}
	pp.gate = pp.f.Gate(fake.OpCreate)
	pp.p, _ = startPool(t, Options{Config: cfg, Factory: pp.f, Clock: pp.clock, Registerer: pp.reg, Name: "pol"}, hooks{})
	t.Cleanup(func() { pp.gate.Open() }) // let a creation still waiting through, so shutdown ends
	return pp
}

// invoke runs a and returns its result, letting every creation through
// once the clock moved by its action's cost.
func (pp *policyPool) invoke(a actors.Activation) actors.Result {
	pp.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	type answer struct {
		r   actors.Result
		err error
	}
	done := make(chan answer, 1)
	go func() {
		r, err := pp.p.Invoke(ctx, a)
		done <- answer{r, err}
	}()
	for {
		select {
		case c := <-pp.gate.Arrived():
			pp.clock.Advance(pp.cost[c.Spec.Action.Name])
			pp.gate.Release(1)
		case ans := <-done:
			if ans.err != nil {
				pp.t.Fatalf("invoke %s: %v", a.ID, ans.err)
			}
			if ans.r.Status != factory.StatusSuccess {
				pp.t.Fatalf("invoke %s: status %d %s", a.ID, ans.r.Status, ans.r.Response)
			}
			return ans.r
		}
	}
}

func (pp *policyPool) snapshot() actors.MemorySnapshot {
	pp.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	s, err := pp.p.Snapshot(ctx)
	if err != nil {
		pp.t.Fatal(err)
	}
	return s
}

// waitFor polls the pool's snapshot until ok accepts it.
func (pp *policyPool) waitFor(what string, ok func(actors.MemorySnapshot) bool) actors.MemorySnapshot {
	pp.t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		s := pp.snapshot()
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			pp.t.Fatalf("%s: not within %v; last snapshot %+v", what, waitFor, s)
		}
		time.Sleep(time.Millisecond) // polling pace; the condition is the synchronisation
	}
}

// letCreate lets the next creation through the gate.
func (pp *policyPool) letCreate() {
	pp.t.Helper()
	select {
	case <-pp.gate.Arrived():
		pp.gate.Release(1)
	case <-time.After(waitFor):
		pp.t.Fatal("no creation reached the gate")
	}
}

// destroyed says whether the container of that id was destroyed.
func (pp *policyPool) destroyed(id string) bool {
	pp.t.Helper()
	for _, c := range pp.f.Created() {
		if c.ID() == id {
			return c.Destroyed()
		}
	}
	pp.t.Fatalf("no container %s was created", id)
	return false
}

// metric is the value of a counter or gauge of the pool's registry.
func (pp *policyPool) metric(name string, labels map[string]string) float64 {
	pp.t.Helper()
	families, err := pp.reg.Gather()
	if err != nil {
		pp.t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if matches(m, labels) {
				if m.Counter != nil {
					return m.GetCounter().GetValue()
				}
				return m.GetGauge().GetValue()
			}
		}
	}
	return 0
}

// Greedy-Dual inside the real pool: an action that is expensive to start
// keeps its container under memory pressure that makes LRU evict it, even
// though a cheap action was used more often and more recently.
//
// Room for three 256 MB containers. x (cold start 2 s) runs twice, then y
// (100 ms) four times, then z (100 ms) once: the idle list is x, y, z,
// x least recently used. w then needs one eviction. By hand, with the
// clock at 0 and memory 256 MiB (cost = mean cold − mean warm, where a
// cold run lasts from the container's creation to the end of its run):
//
//	x: frequency 2, cost 2 s − 10 ms = 1990 ms: priority 2 × 1990 / 256 = 15.5
//	y: frequency 4, cost 100 − 10 = 90 ms:       priority 4 × 90 / 256   = 1.41
//	z: frequency 1, no warm run, default 250 ms: priority 1 × 250 / 256  = 0.98
//
// so Greedy-Dual evicts z, LRU evicts x; x's next call is then warm under
// Greedy-Dual and a cold start (after another eviction) under LRU.
func TestGreedyDualKeepsFrequentExpensiveAction(t *testing.T) {
	for _, tt := range []struct {
		eviction string
		evicted  string           // whose container w's eviction removed
		xNext    actors.StartKind // how x's call after w starts
	}{
		{config.PolicyOpenWhisk, "x", actors.StartRecreated},
		{config.PolicyGreedyDual, "z", actors.StartWarm},
	} {
		t.Run(tt.eviction, func(t *testing.T) {
			pp := newPolicyPool(t, policyConfig(768, config.PolicyOpenWhisk, tt.eviction))
			pp.cost = map[string]time.Duration{"x": 2 * time.Second, "y": 100 * time.Millisecond, "z": 100 * time.Millisecond, "w": 100 * time.Millisecond}
			containerOf := map[string]string{}
			n := 0
			call := func(name string) actors.Result {
				t.Helper()
				n++
				r := pp.invoke(act(name+"-"+string(rune('a'+n)), "ns", name, 256))
				containerOf[name] = r.ContainerID
				pp.clock.Advance(time.Second) // a distinct last use for each
				return r
			}
			for _, name := range []string{"x", "x", "y", "y", "y", "y", "z"} {
				call(name)
			}
			before := map[string]string{"x": containerOf["x"], "y": containerOf["y"], "z": containerOf["z"]}
			if r := call("w"); r.StartKind != actors.StartRecreated {
				t.Fatalf("w started %s, want recreated (after an eviction)", r.StartKind)
			}
			for name, id := range before {
				if got, want := pp.destroyed(id), name == tt.evicted; got != want {
					t.Fatalf("%s's container %s destroyed %v, want %v (%s is the one to evict)", name, id, got, want, tt.evicted)
				}
			}
			if r := call("x"); r.StartKind != tt.xNext {
				t.Fatalf("x's next call started %s, want %s", r.StartKind, tt.xNext)
			}
			if got := pp.metric("stemcell_pool_policy_evictions_total", map[string]string{"policy": tt.eviction}); got < 1 {
				t.Errorf("stemcell_pool_policy_evictions_total{policy=%q} = %v, want >= 1", tt.eviction, got)
			}
			if got := pp.metric("stemcell_pool_policy_info", map[string]string{"keep_alive": config.PolicyOpenWhisk, "eviction": tt.eviction}); got != 1 {
				t.Errorf("stemcell_pool_policy_info = %v, want 1", got)
			}
		})
	}
}

// A configuration naming a policy that does not exist, or a bad knob of
// the chosen one, is refused by Spawn with the key in the message.
func TestSpawnRefusesBadPolicy(t *testing.T) {
	for _, tt := range []struct {
		name string
		edit func(cfg *config.Config)
		want string
	}{
		{"unknown keep-alive", func(cfg *config.Config) { cfg.ContainerPool.KeepAlivePolicy = "lfu" }, `container-pool.keep-alive-policy "lfu"`},
		{"unknown eviction", func(cfg *config.Config) { cfg.ContainerPool.EvictionPolicy = "hybrid-histogram" }, `eviction policy "hybrid-histogram"`},
		{"bad knob", func(cfg *config.Config) {
			cfg.ContainerPool.KeepAlivePolicy = config.PolicyHybridHistogram
			cfg.ContainerPool.HybridHistogram.Bins = 0
		}, "hybrid-histogram.bins: 0 is invalid"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := policyConfig(256, config.PolicyOpenWhisk, config.PolicyOpenWhisk)
			tt.edit(cfg)
			sys := actors.NewSystem(zerolog.Nop())
			defer sys.Shutdown()
			_, err := Spawn(sys.Root, Options{Config: cfg, Factory: fake.New(fake.Options{})})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Spawn: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// The default policy is the container's own timers, so the pool sends no
// plan (no message, nothing changes on the hot path); another policy's plan
// goes to the container once per idle period.
func TestKeepAlivePlanSentOnlyWhenItDiffers(t *testing.T) {
	for _, tt := range []struct {
		keepAlive string
		plans     int64
	}{
		{"", 0}, // a configuration built by hand: openwhisk
		{config.PolicyOpenWhisk, 0},
		{config.PolicyGreedyDual, 2}, // never removed: differs from idle-container
	} {
		t.Run(cmp.Or(tt.keepAlive, "unset"), func(t *testing.T) {
			cfg := testConfig(512)
			cfg.ContainerPool.KeepAlivePolicy = tt.keepAlive
			cfg.ContainerPool.GreedyDual = config.Default().ContainerPool.GreedyDual
			var plans atomic.Int64
			var last atomic.Pointer[protocol.KeepAlive]
			h := newHarnessHooks(t, cfg, nil, func(hk *hooks) {
				inner := hk.container
				hk.container = func(p containerParams) *actor.Props {
					return inner(p).Configure(actor.WithReceiverMiddleware(func(next actor.ReceiverFunc) actor.ReceiverFunc {
						return func(c actor.ReceiverContext, env *actor.MessageEnvelope) {
							if k, ok := env.Message.(*protocol.KeepAlive); ok {
								plans.Add(1)
								last.Store(k)
							}
							next(c, env)
						}
					}))
				}
			})
			h.run(act("a1", "ns", "f", 256))
			h.sync()
			c := h.container(0)
			h.do(c, &ready{})
			h.do(c, &complete{})
			h.run(act("a2", "ns", "f", 256))
			h.sync()
			h.do(c, &complete{})
			h.sync()
			if got := plans.Load(); got != tt.plans {
				t.Fatalf("%d plans sent, want %d", got, tt.plans)
			}
			if k := last.Load(); k != nil && !k.RemoveAt.IsZero() {
				t.Fatalf("greedy-dual plan %+v removes the container: want no removal time", k)
			}
		})
	}
}

// Every placement the policy heard of ends in its Finished: a job its
// container bounced did not run there, and once it ran elsewhere nothing of
// the action counts as running (hybrid-histogram plans no pre-load while
// something runs).
func TestPolicyRunningCountSurvivesBounce(t *testing.T) {
	var mu sync.Mutex
	var running, invocations int
	h := newHarnessHooks(t, testConfig(512), nil, func(hk *hooks) {
		check := hk.afterStep
		hk.afterStep = func(p *poolActor) {
			check(p)
			for _, a := range p.pols.actions {
				mu.Lock()
				running, invocations = a.st.Running, int(a.st.Invocations)
				mu.Unlock()
			}
		}
	})
	h.run(act("a1", "ns", "f", 256))
	h.sync()
	h.do(h.container(0), &bounce{})
	h.sync()
	h.do(h.container(1), &ready{})
	h.do(h.container(1), &complete{})
	h.sync()
	if r := h.resultsFor("a1"); len(r) != 1 {
		t.Fatalf("%d results for a1, want 1", len(r))
	}
	mu.Lock()
	defer mu.Unlock()
	if running != 0 || invocations != 2 {
		t.Fatalf("running %d, invocations %d: want 0 running after 2 placements (one bounced)", running, invocations)
	}
}
