package fake

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stemcell-io/stemcell/factory"
)

// RunFunc computes a run's outcome in place of the default echo. It must be
// safe for concurrent use.
type RunFunc func(c *Container, req factory.RunRequest) factory.Outcome

// Options configure a Factory. The zero value is a factory whose operations
// succeed at once and whose runs echo their params.
type Options struct {
	Latency Latencies
	// Seed feeds the latency jitter.
	Seed uint64
	// Clock, when set, times the latencies (an actors.FakeClock makes them
	// advance only when the test says so); nil uses real timers.
	Clock Clock
	// Faults decides injected failures; SetFaults replaces it later.
	Faults Injector
	// Run replaces the default result: the params, or {"ok":true} when the
	// params are empty.
	Run RunFunc
}

// Factory is the fake ContainerFactory. Safe for concurrent use.
type Factory struct {
	opts      Options
	latency   [numOps]Latency
	anyLag    bool
	sampler   *sampler
	faults    atomic.Pointer[Injector]
	gates     [numOps]atomic.Pointer[Gate]
	calls     [numOps]atomic.Uint64
	ids       atomic.Uint64
	initCalls atomic.Uint64
	cleanups  atomic.Uint64

	memLive atomic.Int64
	memPeak atomic.Int64

	mu         sync.Mutex
	live       map[string]*Container
	all        []*Container
	swept      []*Container
	violations []error
	watchers   uint64                               // Watch calls so far, for their keys
	watching   map[uint64]func(factory.EngineEvent) // Watch sinks (outside.go)
}

var _ factory.ContainerFactory = (*Factory)(nil)

// New returns a fake factory.
func New(opts Options) *Factory {
	f := &Factory{
		opts:    opts,
		latency: opts.Latency.byOp(),
		sampler: newSampler(opts.Seed),
		live:    map[string]*Container{},
	}
	for _, l := range f.latency {
		if !l.zero() {
			f.anyLag = true
		}
	}
	if opts.Faults != nil {
		f.SetFaults(opts.Faults)
	}
	return f
}

// SetFaults replaces the fault injector; nil stops injecting.
func (f *Factory) SetFaults(i Injector) {
	if i == nil {
		f.faults.Store(nil)
		return
	}
	f.faults.Store(&i)
}

// Gate installs a gate on op and returns it; calls of op that start from
// now on wait at it. A gate already installed is returned as is.
func (f *Factory) Gate(op Op) *Gate {
	for {
		if g := f.gates[op].Load(); g != nil {
			return g
		}
		g := newGate()
		if f.gates[op].CompareAndSwap(nil, g) {
			return g
		}
	}
}

// Ungate removes op's gate and lets its waiting calls through.
func (f *Factory) Ungate(op Op) {
	if g := f.gates[op].Swap(nil); g != nil {
		g.Open()
	}
}

// Calls is how many calls of op have started.
func (f *Factory) Calls(op Op) uint64 { return f.calls[op].Load() }

// InitCalls and CleanupCalls count the factory-level Init and Cleanup.
func (f *Factory) InitCalls() uint64    { return f.initCalls.Load() }
func (f *Factory) CleanupCalls() uint64 { return f.cleanups.Load() }

// LiveMemory is the memory of containers being created or alive (not yet
// destroyed); PeakMemory is its maximum so far. A create counts from its
// first moment and a destroy until it returns, as the engine holds memory.
func (f *Factory) LiveMemory() int64 { return f.memLive.Load() }
func (f *Factory) PeakMemory() int64 { return f.memPeak.Load() }

func (f *Factory) addMemory(n int64) {
	v := f.memLive.Add(n)
	for {
		p := f.memPeak.Load()
		if v <= p || f.memPeak.CompareAndSwap(p, v) {
			return
		}
	}
}

// Live returns the containers created and not destroyed, by id.
func (f *Factory) Live() []*Container {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]*Container, 0, len(f.live))
	for _, c := range f.live {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

// Created returns every container ever created, in creation order.
func (f *Factory) Created() []*Container {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*Container(nil), f.all...)
}

// Swept returns the containers that Cleanup removed because nobody had
// destroyed them.
func (f *Factory) Swept() []*Container {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*Container(nil), f.swept...)
}

// Violations returns the misuses seen so far: a container destroyed twice,
// used after destroy, run while paused, suspended twice, resumed while
// running, initialised twice, or run beyond its concurrency.
func (f *Factory) Violations() []error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]error(nil), f.violations...)
}

// Verify reports every violation and every container still alive: after a
// test has shut its pool down, it must return nil (each container created
// was destroyed exactly once).
func (f *Factory) Verify() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	errs := append([]error(nil), f.violations...)
	ids := make([]*Container, 0, len(f.live))
	for _, c := range f.live {
		ids = append(ids, c)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i].seq < ids[j].seq })
	for _, c := range ids {
		errs = append(errs, fmt.Errorf("container %s (%s) was never destroyed", c.id, c.spec.Name))
	}
	return errors.Join(errs...)
}

func (f *Factory) violate(err error) {
	f.mu.Lock()
	f.violations = append(f.violations, err)
	f.mu.Unlock()
}

// enter is the common prologue of every operation: count, gate, fault,
// latency. The fast path (no gate, no injector, no latency) is three atomic
// loads and an add.
func (f *Factory) enter(ctx context.Context, op Op, c *Container, spec *factory.ContainerSpec, activation string) (Fault, time.Duration, error) {
	seq := f.calls[op].Add(1)
	if g := f.gates[op].Load(); g != nil {
		if err := g.pass(ctx, Call{Op: op, Seq: seq, Container: c, Spec: spec, Activation: activation}); err != nil {
			return FaultNone, 0, fmt.Errorf("fake %s held at its gate: %w", op, err)
		}
	}
	fault := FaultNone
	if i := f.faults.Load(); i != nil {
		fault = (*i)(Call{Op: op, Seq: seq, Container: c, Spec: spec, Activation: activation})
	}
	var d time.Duration
	if f.anyLag {
		d = f.sampler.draw(f.latency[op])
	}
	return fault, d, nil
}

// CreateContainer makes a container after the create latency.
func (f *Factory) CreateContainer(ctx context.Context, spec factory.ContainerSpec) (factory.Container, error) {
	f.addMemory(int64(spec.Memory))
	fault, d, err := f.enter(ctx, OpCreate, nil, &spec, "")
	if err == nil {
		err = wait(ctx, f.opts.Clock, d)
	}
	if err != nil {
		f.addMemory(-int64(spec.Memory))
		return nil, fmt.Errorf("fake create %q: %w", spec.Name, err)
	}
	if fault != FaultNone {
		f.addMemory(-int64(spec.Memory))
		return nil, &factory.StartupError{
			Msg:       "fake: injected create failure of " + strconv.Quote(spec.Name),
			UserError: fault == FaultUserError,
		}
	}
	n := f.ids.Add(1)
	c := &Container{
		f:    f,
		seq:  n,
		id:   "fake" + strconv.FormatUint(n, 10),
		addr: "fake:" + strconv.FormatUint(n, 10),
		spec: spec,
	}
	f.mu.Lock()
	f.live[c.id] = c
	f.all = append(f.all, c)
	f.mu.Unlock()
	return c, nil
}

// Init counts the call; the fake has no leftovers to remove.
func (f *Factory) Init(ctx context.Context) error {
	f.initCalls.Add(1)
	return ctx.Err()
}

// Cleanup removes every live container, as the engine cleanup would at
// shutdown, and records them in Swept.
func (f *Factory) Cleanup(ctx context.Context) error {
	f.cleanups.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	for id, c := range f.live {
		if c.state.Load()&stDestroyed != 0 {
			continue
		}
		c.setFlag(stDestroyed | stSwept)
		delete(f.live, id)
		f.swept = append(f.swept, c)
		f.memLive.Add(-int64(c.spec.Memory))
	}
	return ctx.Err()
}
