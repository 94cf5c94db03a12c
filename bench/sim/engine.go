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

// engine wraps the fake factory for the simulation: it spends the
// engine's latencies on the event clock, adds each action's own
// initialisation time to /init (the part of a cold start that depends on
// the action's code, which the fake's one /init latency cannot give), and
// keeps the memory ledger that the wasted-memory figure integrates over
// virtual time.
//
// Determinism: two operations that end at the same instant fire in the
// order they were scheduled, which is the order of concurrent goroutines
// and not reproducible, and the pool may decide differently by that order
// (which activation gets which container, which stem cell is taken). So
// every operation adds a jitter below 1 ms drawn from a hash of a key that
// does not depend on goroutine order: the activation for /init and /run;
// for the others the container's own key and how many operations of the
// kind it had. A container's key is the activation it was created for (or
// its name, given by the pool's own counter, when it was loaded ahead of
// its action's next call). Stem
// cells of one kind and memory are interchangeable (the pool may take or
// remove either of two), so their creations and removals are keyed by the
// kind, the memory and how many such creations or removals came before,
// not by which stem cell it is; their /init is keyed by the activation.
type engine struct {
	inner    factory.ContainerFactory
	clock    *Clock
	latency  fake.Latencies
	initCost func(action string) time.Duration
	ledger   *memoryLedger

	mu        sync.Mutex
	stemCells map[string]int // operations on stem cells so far, by kind, memory and operation
	// Containers of each action alive now, and the creations of action
	// containers: in all, and while another container of the action was
	// alive and not being removed (scale-out: a cold start that no
	// keep-alive policy can save).
	alive               map[string]int
	creations, scaleOut int
}

// adopt counts a container of action as alive; created says it was
// created for the action (not a stem cell taken).
func (e *engine) adopt(action string, created bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.alive == nil {
		e.alive = map[string]int{}
	}
	if created {
		e.creations++
		if e.alive[action] > 0 {
			e.scaleOut++
		}
	}
	e.alive[action]++
}

func (e *engine) release(action string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.alive[action]--
}

// creationCounts are the creations of action containers, in all and while
// another container of the same action was alive.
func (e *engine) creationCounts() (all, scaleOut int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.creations, e.scaleOut
}

// maxJitter bounds the jitter.
const maxJitter = time.Millisecond

// keyOf is the key of a new container for spec.
func (e *engine) keyOf(spec factory.ContainerSpec) string {
	switch {
	case spec.Action != nil && spec.TransactionID != "":
		return "for " + spec.TransactionID
	case spec.Action != nil: // loaded ahead of its action's next call: no activation yet
		return "named " + spec.Name
	}
	return e.nthStemCellOp("stem cell "+spec.Kind+" "+spec.Memory.String(), "create")
}

// nthStemCellOp counts the operations op on stem cells of what.
func (e *engine) nthStemCellOp(what, op string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stemCells == nil {
		e.stemCells = map[string]int{}
	}
	k := what + " " + op
	e.stemCells[k]++
	return k + " #" + strconv.Itoa(e.stemCells[k])
}

// spend waits base plus the jitter of key on the event clock.
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

func (e *engine) CreateContainer(ctx context.Context, spec factory.ContainerSpec) (factory.Container, error) {
	mb := spec.Memory.MiB()
	e.ledger.add(e.clock.Now(), mb, mb) // loaded and busy being created
	key := e.keyOf(spec)
	action := ""
	if spec.Action != nil {
		action = spec.Action.Name
		e.adopt(action, true)
	}
	err := e.spend(ctx, e.latency.Create.Fixed, "create", key)
	var c factory.Container
	if err == nil {
		c, err = e.inner.CreateContainer(ctx, spec)
	}
	if err != nil {
		e.ledger.add(e.clock.Now(), -mb, -mb)
		if action != "" {
			e.release(action)
		}
		return nil, err
	}
	e.ledger.add(e.clock.Now(), 0, -mb)
	if spec.Action == nil {
		return &container{Container: c, e: e, mb: mb, stemCell: "stem cell " + spec.Kind + " " + spec.Memory.String()}, nil
	}
	return &container{Container: c, e: e, mb: mb, key: key, action: action}, nil
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
	e        *engine
	mb       float64
	key      string
	stemCell string // what it is, for a stem cell
	action   string // whose it is; "" for a stem cell not taken
	mu       sync.Mutex
	removed  bool
	ops      map[string]int // suspends, resumes and destroys so far
}

// opKey is the key of the container's next operation op: a stem cell's
// counts among the stem cells of its kind and memory, any other container's
// among its own.
func (c *container) opKey(op string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stemCell != "" {
		return c.e.nthStemCellOp(c.stemCell, op)
	}
	if c.ops == nil {
		c.ops = map[string]int{}
	}
	c.ops[op]++
	return c.key + " " + op + " #" + strconv.Itoa(c.ops[op])
}

// Initialize is the engine's /init followed by the action's own
// initialisation time, which the outcome includes: the pool sees one
// longer /init, as from a runtime that loads the action's dependencies.
func (c *container) Initialize(ctx context.Context, req factory.InitRequest) (factory.Outcome, error) {
	c.e.ledger.add(c.e.clock.Now(), 0, c.mb)
	defer func() { c.e.ledger.add(c.e.clock.Now(), 0, -c.mb) }()
	start := c.e.clock.Now()
	activation := req.Env["__OW_ACTIVATION_ID"]
	c.mu.Lock()
	taken := c.stemCell != ""
	if taken { // taken for an activation: no longer interchangeable
		c.key, c.stemCell, c.action = "for "+activation, "", req.Name
	}
	c.mu.Unlock()
	if taken {
		c.e.adopt(req.Name, false)
	}
	out, err := c.Container.Initialize(ctx, req)
	if err != nil || out.Status != factory.StatusSuccess {
		return out, err
	}
	if err := c.e.spend(ctx, c.e.latency.Init.Fixed+c.e.initCost(req.Name), "init", activation); err != nil {
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
	if err := c.e.spend(ctx, c.e.latency.Suspend.Fixed, c.opKey("suspend")); err != nil {
		return err
	}
	return c.Container.Suspend(ctx)
}

func (c *container) Resume(ctx context.Context) error {
	if err := c.e.spend(ctx, c.e.latency.Resume.Fixed, c.opKey("resume")); err != nil {
		return err
	}
	return c.Container.Resume(ctx)
}

// Destroy returns the memory when the engine has removed the container,
// as the pool's ledger does.
// The container stops counting as its action's from the start.
func (c *container) Destroy(ctx context.Context) error {
	c.mu.Lock()
	first := !c.removed
	c.removed = true
	action := c.action
	c.mu.Unlock()
	if first && action != "" {
		c.e.release(action)
	}
	err := c.e.spend(ctx, c.e.latency.Destroy.Fixed, c.opKey("destroy"))
	err = errors.Join(err, c.Container.Destroy(ctx))
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
