package sim

import (
	"context"
	"sync"
	"time"

	"github.com/stemcell-io/stemcell/factory"
)

// engine wraps the fake factory for the simulation: it adds each action's
// own initialisation time to /init (the part of a cold start that depends
// on the action's code, which the fake's one /init latency cannot give),
// and keeps the memory ledger that the wasted-memory figure integrates over
// virtual time.
type engine struct {
	inner    factory.ContainerFactory
	clock    *Clock
	initCost func(action string) time.Duration
	ledger   *memoryLedger
}

var (
	_ factory.ContainerFactory = (*engine)(nil)
	_ factory.Watcher          = (*engine)(nil)
)

func (e *engine) CreateContainer(ctx context.Context, spec factory.ContainerSpec) (factory.Container, error) {
	mb := spec.Memory.MiB()
	e.ledger.add(e.clock.Now(), mb, mb) // loaded and busy being created
	c, err := e.inner.CreateContainer(ctx, spec)
	if err != nil {
		e.ledger.add(e.clock.Now(), -mb, -mb)
		return nil, err
	}
	e.ledger.add(e.clock.Now(), 0, -mb)
	return &container{Container: c, e: e, mb: mb}, nil
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
	mu      sync.Mutex
	removed bool
}

// Initialize is the engine's /init followed by the action's own
// initialisation time, which the outcome includes: the pool sees one
// longer /init, as from a runtime that loads the action's dependencies.
func (c *container) Initialize(ctx context.Context, req factory.InitRequest) (factory.Outcome, error) {
	c.e.ledger.add(c.e.clock.Now(), 0, c.mb)
	defer func() { c.e.ledger.add(c.e.clock.Now(), 0, -c.mb) }()
	out, err := c.Container.Initialize(ctx, req)
	if err != nil || out.Status != factory.StatusSuccess {
		return out, err
	}
	if d := c.e.initCost(req.Name); d > 0 {
		select {
		case <-c.e.clock.After(d):
		case <-ctx.Done():
			return factory.Outcome{}, ctx.Err()
		}
		out.End = c.e.clock.Now()
	}
	return out, nil
}

func (c *container) Run(ctx context.Context, req factory.RunRequest) (factory.Outcome, error) {
	c.e.ledger.add(c.e.clock.Now(), 0, c.mb)
	defer func() { c.e.ledger.add(c.e.clock.Now(), 0, -c.mb) }()
	return c.Container.Run(ctx, req)
}

// Destroy returns the memory when the engine has removed the container,
// as the pool's ledger does.
func (c *container) Destroy(ctx context.Context) error {
	err := c.Container.Destroy(ctx)
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
