package sim

import (
	"context"
	"errors"
	"hash/fnv"
	"strconv"
	"sync"
	"time"

	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/factory/fake"
)

// engine wraps the fake factory for the simulation: it adds each action's
// own initialisation time to /init (the part of a cold start that depends
// on the action's code, which the fake's one /init latency cannot give),
// and keeps the memory ledger that the wasted-memory figure integrates over
// virtual time.
//
// The engine's latencies are spent here, not in the fake, each with a
// jitter below 1 ms drawn from a hash of the container's key and the
// operation: fixed latencies would make two creations started in one event
// end at the same instant, and the order of equal instants is the order in
// which concurrent goroutines scheduled them, which is not reproducible.
// The key is what the container is for (the action, or a stem cell's kind
// and memory), the operation and how many such operations came before:
// not the container's name (the counter in stem cells' names runs on
// across pools in one process), and not which of two identical containers
// it is, since the pool may pick either of two equal stem cells.
type engine struct {
	inner    factory.ContainerFactory
	clock    *Clock
	latency  fake.Latencies
	initCost func(action string) time.Duration
	ledger   *memoryLedger

	mu    sync.Mutex
	calls map[string]int
}

// whatFor is what a container of spec is for.
func whatFor(spec factory.ContainerSpec) string {
	what := "stem cell " + spec.Kind
	if spec.Action != nil {
		what = spec.Action.Namespace + "/" + spec.Action.Name
	}
	return what + "/" + spec.Memory.String()
}

// nth counts the calls of op on containers for what.
func (e *engine) nth(what, op string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.calls == nil {
		e.calls = map[string]int{}
	}
	k := what + "/" + op
	e.calls[k]++
	return strconv.Itoa(e.calls[k])
}

// maxJitter bounds the per-operation jitter.
const maxJitter = time.Millisecond

// spend waits base plus the jitter keyed by key on the event clock.
func (e *engine) spend(ctx context.Context, base time.Duration, key ...string) error {
	h := fnv.New64a()
	for _, k := range key {
		h.Write([]byte(k))
		h.Write([]byte{0})
	}
	d := base + time.Duration(h.Sum64()%uint64(maxJitter))
	select {
	case <-e.clock.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

var (
	_ factory.ContainerFactory = (*engine)(nil)
	_ factory.Watcher          = (*engine)(nil)
)

func (e *engine) CreateContainer(ctx context.Context, spec factory.ContainerSpec) (factory.Container, error) {
	mb := spec.Memory.MiB()
	e.ledger.add(e.clock.Now(), mb, mb) // loaded and busy being created
	what := whatFor(spec)
	err := e.spend(ctx, e.latency.Create.Fixed, what, "create", e.nth(what, "create"))
	var c factory.Container
	if err == nil {
		c, err = e.inner.CreateContainer(ctx, spec)
	}
	if err != nil {
		e.ledger.add(e.clock.Now(), -mb, -mb)
		return nil, err
	}
	e.ledger.add(e.clock.Now(), 0, -mb)
	return &container{Container: c, e: e, mb: mb, what: what}, nil
}

func (e *engine) Init(ctx context.Context) error    { return e.inner.Init(ctx) }
func (e *engine) Cleanup(ctx context.Context) error { return e.inner.Cleanup(ctx) }

// Watch forwards the fake's engine events, so the pool sees the same
// engine it would see without the wrapper.
func (e *engine) Watch(ctx context.Context, emit func(factory.EngineEvent)) {
	if w, ok := e.inner.(factory.Watcher); ok {
		w.Watch(ctx, emit)
	}
}

// container is one simulated container: its memory counts as wasted while
// it is loaded and neither being created, initialised nor running.
type container struct {
	factory.Container
	e       *engine
	mb      float64
	what    string
	mu      sync.Mutex
	removed bool
}

// Initialize is the engine's /init followed by the action's own
// initialisation time, which the outcome includes: the pool sees one
// longer /init, as from a runtime that loads the action's dependencies.
func (c *container) Initialize(ctx context.Context, req factory.InitRequest) (factory.Outcome, error) {
	c.e.ledger.add(c.e.clock.Now(), 0, c.mb)
	defer func() { c.e.ledger.add(c.e.clock.Now(), 0, -c.mb) }()
	start := c.e.clock.Now()
	out, err := c.Container.Initialize(ctx, req)
	if err != nil || out.Status != factory.StatusSuccess {
		return out, err
	}
	if err := c.e.spend(ctx, c.e.latency.Init.Fixed+c.e.initCost(req.Name), c.what, "init", c.e.nth(c.what, "init")); err != nil {
		return factory.Outcome{}, err
	}
	out.Start, out.End = start, c.e.clock.Now()
	return out, nil
}

func (c *container) Run(ctx context.Context, req factory.RunRequest) (factory.Outcome, error) {
	c.e.ledger.add(c.e.clock.Now(), 0, c.mb)
	defer func() { c.e.ledger.add(c.e.clock.Now(), 0, -c.mb) }()
	start := c.e.clock.Now()
	if err := c.e.spend(ctx, c.e.latency.Run.Fixed, "run", req.ActivationID); err != nil {
		return factory.Outcome{}, err
	}
	out, err := c.Container.Run(ctx, req)
	out.Start = start
	return out, err
}

func (c *container) Suspend(ctx context.Context) error {
	if err := c.e.spend(ctx, c.e.latency.Suspend.Fixed, c.what, "suspend", c.e.nth(c.what, "suspend")); err != nil {
		return err
	}
	return c.Container.Suspend(ctx)
}

func (c *container) Resume(ctx context.Context) error {
	if err := c.e.spend(ctx, c.e.latency.Resume.Fixed, c.what, "resume", c.e.nth(c.what, "resume")); err != nil {
		return err
	}
	return c.Container.Resume(ctx)
}

// Destroy returns the memory when the engine has removed the container,
// as the pool's ledger does.
func (c *container) Destroy(ctx context.Context) error {
	err := c.e.spend(ctx, c.e.latency.Destroy.Fixed, c.what, "destroy", c.e.nth(c.what, "destroy"))
	err = errors.Join(err, c.Container.Destroy(ctx))
	c.mu.Lock()
	first := !c.removed
	c.removed = true
	c.mu.Unlock()
	if first {
		c.e.ledger.add(c.e.clock.Now(), -c.mb, 0)
	}
	return err
}

// memoryLedger integrates over virtual time the memory of the containers
// the engine holds (loaded) and of those doing work (active: being
// created, initialised or running an activation).
type memoryLedger struct {
	mu             sync.Mutex
	last           time.Time
	loaded, active float64 // MB now
	loadedMBs      float64 // ∫ loaded dt, MB·s
	wastedMBs      float64 // ∫ (loaded − active) dt, MB·s
	peakLoaded     float64
}

func (l *memoryLedger) add(now time.Time, loaded, active float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.integrate(now)
	l.loaded += loaded
	l.active += active
	l.peakLoaded = max(l.peakLoaded, l.loaded)
}

func (l *memoryLedger) integrate(now time.Time) {
	if !l.last.IsZero() && now.After(l.last) {
		dt := now.Sub(l.last).Seconds()
		l.loadedMBs += l.loaded * dt
		l.wastedMBs += (l.loaded - l.active) * dt
	}
	if l.last.IsZero() || now.After(l.last) {
		l.last = now
	}
}

// totals closes the integral at now.
func (l *memoryLedger) totals(now time.Time) (loadedMBs, wastedMBs, peak float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.integrate(now)
	return l.loadedMBs, l.wastedMBs, l.peakLoaded
}
