package pool

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/internal/protocol"
)

// The harness drives the pool actor with stand-in container actors whose
// every step the test decides, so each placement rule can be observed
// without timing. The real container actor is exercised elsewhere.

const waitFor = 5 * time.Second

type harness struct {
	t     testing.TB
	sys   *actor.ActorSystem
	pool  *Pool
	clock *actors.FakeClock
	cfg   *config.Config

	collector *actor.PID
	prewarm   *actor.PID
	// counters are the container actors' counters (the pool's), when real
	// container actors run: none may have made an illegal transition.
	counters atomic.Pointer[containerCounters]

	mu         sync.Mutex
	containers []*actor.PID // in creation order
	results    map[string][]actors.RunResult
	// Results answered before their logs, and logs that followed them.
	lateLogs, lateLogsIn atomic.Int64
	placements           []placement
	fromPool             []any // messages the pool sent the prewarm scheduler
	violations           []string
	destroyed            map[string]int // stand-in PID id -> ContainerRemoved reports
	crashed              map[string]bool
	received             map[string][]string // stand-in PID id -> activation ids of the jobs it got
	autoRemove           bool                // stand-ins report ContainerRemoved as soon as they may

	// The engine under the real container actor, when it can be audited;
	// auditSeen (pool goroutine only) counts the misuses already reported.
	audit     engineAudit
	auditSeen int
}

type placement struct {
	ID        string
	Container string
	Kind      actors.StartKind
	Ident     actors.Identity
}

func testConfig(userMB int64) *config.Config {
	cfg := &config.Config{}
	cfg.Invoker.Name = "t"
	cfg.ContainerPool.UserMemory = config.ByteSize(userMB) * config.MB
	cfg.ContainerPool.MemorySyncInterval = time.Second
	cfg.ContainerPool.BufferSize = 100
	cfg.ContainerPool.Queue = config.QueueFair
	return cfg
}

// steadyConfig is testConfig without the timers that would act on their
// own during a test (memory sync, pause, idle removal: an hour away) and
// with 1 MB payloads, for tests through the real container actor.
func steadyConfig(userMB int64) *config.Config {
	cfg := testConfig(userMB)
	cfg.ContainerPool.MemorySyncInterval = time.Hour
	cfg.ContainerProxy.Timeouts.PauseGrace = time.Hour
	cfg.ContainerProxy.Timeouts.IdleContainer = time.Hour
	cfg.Limits.Payload.Max = config.MB
	cfg.Limits.Payload.Truncation = config.MB
	return cfg
}

// startPool spawns a pool actor (with h in place of the real parts it
// names) in an actor system of its own, logging nowhere; cleanup shuts
// both down, and a pool that does not shut down cleanly fails the test.
func startPool(tb testing.TB, opts Options, h hooks) (*Pool, *actor.ActorSystem) {
	tb.Helper()
	opts.Log = zerolog.Nop()
	sys := actors.NewSystem(zerolog.Nop())
	p, err := spawn(sys.Root, opts, h)
	if err != nil {
		sys.Shutdown()
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := p.Shutdown(ctx); err != nil {
			tb.Errorf("shutdown: %v", err)
		}
		sys.Shutdown()
	})
	return p, sys
}

func newHarness(t testing.TB, cfg *config.Config) *harness {
	t.Helper()
	return newHarnessWith(t, cfg, nil)
}

// newHarnessWith runs the real container actor on eng when eng is not nil.
func newHarnessWith(t testing.TB, cfg *config.Config, eng factory.ContainerFactory) *harness {
	t.Helper()
	return newHarnessOpts(t, cfg, eng, nil, nil)
}

// newHarnessHooks is newHarnessWith whose hooks edit may change (wrap the
// harness's own, or add a panic) before the pool starts.
func newHarnessHooks(t testing.TB, cfg *config.Config, eng factory.ContainerFactory, edit func(*hooks)) *harness {
	return newHarnessOpts(t, cfg, eng, nil, edit)
}

// newHarnessClock is newHarnessWith with the pool's clock made from the
// harness's fake clock by poolClock.
func newHarnessClock(t testing.TB, cfg *config.Config, eng factory.ContainerFactory, poolClock func(*actors.FakeClock) actors.Clock) *harness {
	return newHarnessOpts(t, cfg, eng, poolClock, nil)
}

// newHarnessOpts is newHarnessWith with both: the pool's clock made by
// poolClock (nil: the fake clock itself) and the hooks edited by edit.
func newHarnessOpts(t testing.TB, cfg *config.Config, eng factory.ContainerFactory, poolClock func(*actors.FakeClock) actors.Clock, edit func(*hooks)) *harness {
	if poolClock == nil {
		poolClock = func(fc *actors.FakeClock) actors.Clock { return fc }
	}
	t.Helper()
	h := &harness{
		t:          t,
		cfg:        cfg,
		clock:      actors.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)),
		results:    map[string][]actors.RunResult{},
		destroyed:  map[string]int{},
		crashed:    map[string]bool{},
		received:   map[string][]string{},
		autoRemove: true,
	}
	h.sys = actors.NewSystem(zerolog.Nop())
	h.collector = h.sys.Root.Spawn(actor.PropsFromFunc(func(c actor.Context) {
		switch r := c.Message().(type) {
		case *actors.RunResult:
			h.mu.Lock()
			h.results[r.Result.ActivationID] = append(h.results[r.Result.ActivationID], *r)
			h.mu.Unlock()
			if late := r.Result.LateLogs; late != nil {
				h.lateLogs.Add(1)
				go func() {
					<-late
					h.lateLogsIn.Add(1)
				}()
			}
		case *ping:
			c.Respond(r)
		}
	}))
	h.prewarm = h.sys.Root.Spawn(actor.PropsFromFunc(func(c actor.Context) {
		switch c.Message().(type) {
		case actor.SystemMessage, actor.AutoReceiveMessage:
		default:
			h.mu.Lock()
			h.fromPool = append(h.fromPool, c.Message())
			h.mu.Unlock()
		}
	}))
	hk := hooks{
		container: h.standinProps,
		prewarm: func(self, _ *actor.PID) *actor.Props {
			// A forwarder, so the pool's child is the test's probe.
			return actor.PropsFromFunc(func(c actor.Context) {
				switch c.Message().(type) {
				case actor.SystemMessage, actor.AutoReceiveMessage:
				default:
					c.Send(h.prewarm, c.Message())
				}
			})
		},
		afterStep: h.check,
		spawned: func(pid *actor.PID) {
			h.mu.Lock()
			h.containers = append(h.containers, pid)
			h.mu.Unlock()
		},
		placed: func(a *actors.Activation, e *entry, kind actors.StartKind) {
			h.mu.Lock()
			h.placements = append(h.placements, placement{a.ID, e.pid.Id, kind, a.Identity()})
			h.mu.Unlock()
		},
	}
	if eng != nil {
		h.audit, _ = eng.(engineAudit)
		hk.container = func(p containerParams) *actor.Props {
			h.counters.Store(p.Results)
			return newContainerProps(p)
		}
		t.Cleanup(func() {
			if c := h.counters.Load(); c != nil {
				if n := refusedTransitions(t, c); n != 0 {
					t.Errorf("the container actors attempted %v illegal state transitions", n)
				}
			}
		})
		hk.factory = func() *actor.Props { return actors.NewFactoryProps(eng, zerolog.Nop()) }
		hk.placed = func(a *actors.Activation, e *entry, kind actors.StartKind) {
			h.mu.Lock()
			h.placements = append(h.placements, placement{a.ID, e.pid.Id, kind, a.Identity()})
			if e.ident != a.Identity() {
				h.violations = append(h.violations, fmt.Sprintf("%s of %+v placed on a container of %+v", a.ID, a.Identity(), e.ident))
			}
			h.mu.Unlock()
		}
	}
	if edit != nil {
		edit(&hk)
	}
	log := zerolog.Nop()
	if path := os.Getenv("STEMCELL_POOL_TEST_LOG"); path != "" {
		// A debugging aid: the pool's and containers' logs to a file.
		f, err := os.Create(path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		t.Cleanup(func() { _ = f.Close() })
		log = zerolog.New(f).Level(zerolog.DebugLevel)
	}
	p, err := spawn(h.sys.Root, Options{Config: cfg, Clock: poolClock(h.clock), Log: log}, hk)
	if err != nil {
		t.Fatalf("spawn: %v", err)
	}
	h.pool = p
	t.Cleanup(h.close)
	return h
}

func (h *harness) close() {
	_ = h.sys.Root.PoisonFuture(h.pool.PID()).Wait()
	_ = h.sys.Root.StopFuture(h.collector).Wait()
	_ = h.sys.Root.StopFuture(h.prewarm).Wait()
	h.sys.Shutdown()
}

// check runs on the pool's goroutine after every message.
func (h *harness) check(p *poolActor) {
	var bad []string
	if err := p.ledger.check(); err != nil {
		bad = append(bad, err.Error())
	}
	var sum config.ByteSize
	for _, e := range p.entries {
		sum += e.mem
		if e.active > e.maxConc {
			bad = append(bad, fmt.Sprintf("container %s holds %d jobs, max %d", e.pid.Id, e.active, e.maxConc))
		}
		if e.lru.in != e.wantIdle() || e.availTier != e.wantTier() || (e.group != nil && p.byIdent[e.ident] != e.group) {
			bad = append(bad, fmt.Sprintf("container %s misindexed", e.pid.Id))
		}
	}
	for _, r := range p.reservations {
		sum += r.mem
	}
	if sum != p.ledger.used {
		bad = append(bad, fmt.Sprintf("containers and reservations hold %d B, ledger says %d B", sum, p.ledger.used))
	}
	n := 0
	for e := p.idle.front; e != nil && n <= p.idle.len(); e = e.lru.next {
		n++
	}
	if p.idle.len() != p.ledger.count[memIdle] || n != p.idle.len() {
		bad = append(bad, fmt.Sprintf("idle LRU has %d (%d linked), ledger %d", p.idle.len(), n, p.ledger.count[memIdle]))
	}
	bad = append(bad, checkFairQueue(&p.fair)...)
	bad = append(bad, h.checkEngine(p)...)
	states := map[*identGroup]*[numMemStates]int{}
	for _, e := range p.entries {
		if e.group != nil {
			if states[e.group] == nil {
				states[e.group] = &[numMemStates]int{}
			}
			states[e.group][e.memState()]++
		}
	}
	for id, g := range p.byIdent {
		if got := states[g]; got == nil || *got != g.states {
			bad = append(bad, fmt.Sprintf("group %+v counts %v by state, its containers are %v", id, g.states, got))
		}
	}
	if len(bad) > 0 {
		h.mu.Lock()
		h.violations = append(h.violations, bad...)
		h.mu.Unlock()
	}
}

// sync waits until the pool and every stand-in have handled what was sent
// to them so far: the pool answers a snapshot after the messages before it,
// and stand-ins answer a ping after the jobs the pool sent them.
func (h *harness) sync() actors.MemorySnapshot {
	h.t.Helper()
	for range 2 {
		h.snapshot()
		h.mu.Lock()
		var cs []*actor.PID
		for _, c := range h.containers {
			// One that reported its removal or crashed is stopping: a ping
			// could land after its poison pill and never be answered.
			if h.destroyed[c.Id] == 0 && !h.crashed[c.Id] {
				cs = append(cs, c)
			}
		}
		h.mu.Unlock()
		for _, c := range cs {
			if _, err := h.sys.Root.RequestFuture(c, &ping{}, time.Second).Result(); err != nil && err != actor.ErrDeadLetter {
				// It may have been removed (and poisoned) since the check.
				h.mu.Lock()
				gone := h.destroyed[c.Id] > 0 || h.crashed[c.Id]
				h.mu.Unlock()
				if !gone {
					h.t.Fatalf("ping %s: %v", c.Id, err)
				}
			}
		}
	}
	if _, err := h.sys.Root.RequestFuture(h.collector, &ping{}, waitFor).Result(); err != nil {
		h.t.Fatalf("ping collector: %v", err)
	}
	s := h.snapshot()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.violations) > 0 {
		h.t.Fatalf("invariant broken: %v", h.violations)
	}
	return s
}

func (h *harness) snapshot() actors.MemorySnapshot {
	h.t.Helper()
	res, err := h.sys.Root.RequestFuture(h.pool.PID(), &actors.SnapshotRequest{}, waitFor).Result()
	if err != nil {
		h.t.Fatalf("snapshot: %v", err)
	}
	return *res.(*actors.MemorySnapshot)
}

// run sends an activation with the collector as the caller.
func (h *harness) run(a actors.Activation) {
	h.sys.Root.RequestWithCustomSender(h.pool.PID(), &actors.Run{Activation: a}, h.collector)
}

func act(id, ns, name string, memMB int64) actors.Activation {
	return actors.Activation{
		ID:                  id,
		InvocationNamespace: ns,
		Action: actors.Action{
			Namespace: ns, Name: name, Version: "0.0.1", Digest: "d-" + name, Kind: "js:goja",
			Limits: actors.ActionLimits{Memory: config.ByteSize(memMB) * config.MB, MaxConcurrency: 1, Timeout: time.Minute},
		},
	}
}

func (h *harness) container(i int) *actor.PID {
	h.t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if i >= len(h.containers) {
		h.t.Fatalf("container %d does not exist (%d created)", i, len(h.containers))
	}
	return h.containers[i]
}

func (h *harness) numContainers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.containers)
}

func (h *harness) placed() []placement {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]placement(nil), h.placements...)
}

func (h *harness) resultsFor(id string) []actors.RunResult {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]actors.RunResult(nil), h.results[id]...)
}

// prewarmGot waits until the prewarm probe has a message that ok accepts:
// it is two hops from the pool (the pool's child forwards to the probe), so
// no pool barrier covers it.
func (h *harness) prewarmGot(ok func(any) bool) bool {
	deadline := time.Now().Add(waitFor)
	for {
		for _, m := range h.sentToPrewarm() {
			if ok(m) {
				return true
			}
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond) // polling pace; the condition is the synchronisation
	}
}

func (h *harness) sentToPrewarm() []any {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]any(nil), h.fromPool...)
}

// do runs a command on a stand-in and waits for it.
func (h *harness) do(c *actor.PID, cmd any) {
	h.t.Helper()
	if _, err := h.sys.Root.RequestFuture(c, cmd, waitFor).Result(); err != nil {
		h.t.Fatalf("%T on %s: %v", cmd, c.Id, err)
	}
}

// ---- the stand-in container actor ----

type standin struct {
	h      *harness
	params containerParams
	pid    *actor.PID

	// Touched only on the stand-in's goroutine, or under h.mu when read
	// by the test.
	jobs      []protocol.Job
	removing  bool
	removed   bool
	destroyed int
	received  []string
}

type (
	ping     struct{}
	complete struct {
		ID     string // "" = the oldest job
		Status factory.Status
		Run    time.Duration // the /run time reported in JobDone
	}
	ready        struct{}
	initFailed   struct{} // answer every job with the init error and go away
	bounce       struct{} // health error: reschedule every job and go away
	goAway       struct{} // idle timeout: ContainerRemoving then removal
	destroyed    struct{} // the engine is done: ContainerRemoved
	crash        struct{} // stop without reporting
	state        struct{} // answers *standinState
	standinState struct {
		jobs, destroyed int
		removing        bool
		received        []string
	}
)

func (h *harness) standinProps(p containerParams) *actor.Props {
	return actor.PropsFromProducer(func() actor.Actor { return &standin{h: h, params: p} })
}

func (s *standin) Receive(c actor.Context) {
	switch m := c.Message().(type) {
	case *actor.Started:
		s.pid = c.Self()
	case *ping:
		c.Respond(&ping{})
	case *state:
		s.h.mu.Lock()
		st := &standinState{jobs: len(s.jobs), destroyed: s.destroyed, removing: s.removing, received: append([]string(nil), s.received...)}
		s.h.mu.Unlock()
		c.Respond(st)
	case *protocol.Job:
		s.h.mu.Lock()
		s.received = append(s.received, m.Activation.ID)
		s.h.received[s.pid.Id] = append(s.h.received[s.pid.Id], m.Activation.ID)
		s.h.mu.Unlock()
		if s.removing {
			c.Send(s.params.Pool, &protocol.Reschedule{Container: s.pid, Job: *m})
			return
		}
		s.jobs = append(s.jobs, *m)
	case *complete:
		i := 0
		if m.ID != "" {
			for i = range s.jobs {
				if s.jobs[i].Activation.ID == m.ID {
					break
				}
			}
		}
		if i < len(s.jobs) {
			j := s.jobs[i]
			s.jobs = append(s.jobs[:i], s.jobs[i+1:]...)
			c.Send(s.params.Pool, &protocol.JobDone{Container: s.pid, LastUsed: s.params.Clock.Now(), RunTime: m.Run})
			c.Send(j.ReplyTo, &actors.RunResult{Result: actors.Result{ActivationID: j.Activation.ID, Status: m.Status,
				Response: json.RawMessage(`{}`), StartKind: j.StartKind, ContainerID: s.pid.Id}})
		}
		s.maybeRemoved(c)
		c.Respond(&ping{})
	case *ready:
		c.Send(s.params.Pool, &protocol.ContainerReady{Container: s.pid, ID: s.pid.Id})
		c.Respond(&ping{})
	case *initFailed:
		for _, j := range s.jobs {
			c.Send(j.ReplyTo, &actors.RunResult{Result: actors.Result{ActivationID: j.Activation.ID, Status: factory.StatusDeveloperError}})
		}
		s.jobs = nil
		s.goAway(c)
		c.Respond(&ping{})
	case *bounce:
		s.removing = true
		c.Send(s.params.Pool, &protocol.ContainerRemoving{Container: s.pid})
		for _, j := range s.jobs {
			c.Send(s.params.Pool, &protocol.Reschedule{Container: s.pid, Job: j})
		}
		s.jobs = nil
		s.maybeRemoved(c)
		c.Respond(&ping{})
	case *goAway:
		s.goAway(c)
		c.Respond(&ping{})
	case *protocol.Remove:
		s.removing = true
		if m.Abort {
			for _, j := range s.jobs {
				c.Send(j.ReplyTo, &actors.RunResult{Result: actors.Result{ActivationID: j.Activation.ID, Status: factory.StatusInternalError}})
			}
			s.jobs = nil
		}
		s.maybeRemoved(c)
	case *destroyed:
		s.report(c)
		c.Respond(&ping{})
	case *crash:
		s.h.mu.Lock()
		s.h.crashed[s.pid.Id] = true
		s.h.mu.Unlock()
		c.Respond(&ping{})
		c.Poison(c.Self())
	}
}

func (s *standin) goAway(c actor.Context) {
	if !s.removing {
		s.removing = true
		c.Send(s.params.Pool, &protocol.ContainerRemoving{Container: s.pid})
	}
	s.maybeRemoved(c)
}

func (s *standin) maybeRemoved(c actor.Context) {
	if s.removing && len(s.jobs) == 0 && s.h.autoRemove {
		s.report(c)
	}
}

func (s *standin) report(c actor.Context) {
	if s.removed {
		return
	}
	s.removed = true
	// Sent before it is recorded: a test that sees the record and then asks
	// the pool something is answered after the pool has handled it.
	c.Send(s.params.Pool, &protocol.ContainerRemoved{Container: s.pid, Replace: true})
	s.h.mu.Lock()
	s.destroyed++
	s.h.destroyed[s.pid.Id]++
	s.h.mu.Unlock()
}

// checkAnsweredOnceInOrder asserts DESIGN invariants 2 and 3 at the end of a
// randomized run: every activation answered exactly once, and first
// placements in arrival order. arrival maps an activation id to its rank.
func (h *harness) checkAnsweredOnceInOrder(t *testing.T, seed uint64, arrival map[string]int) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	for id := range arrival {
		if n := len(h.results[id]); n != 1 {
			t.Fatalf("seed %d: activation %s answered %d times", seed, id, n)
		}
	}
	// The fifo rule keeps arrival order over all activations, the fair
	// rule within each identity.
	fifo := h.cfg.ContainerPool.Queue == config.QueueFIFO
	seen := map[string]bool{}
	last := map[actors.Identity]int{}
	for _, p := range h.placements {
		if seen[p.ID] {
			continue
		}
		seen[p.ID] = true
		key := p.Ident
		if fifo {
			key = actors.Identity{}
		}
		prev, ok := last[key]
		if i := arrival[p.ID]; ok && i < prev {
			t.Fatalf("seed %d: %s (arrival %d) placed after arrival %d (queue %q)", seed, p.ID, i, prev, h.cfg.ContainerPool.Queue)
		} else {
			last[key] = i
		}
	}
}
