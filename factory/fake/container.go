package fake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/factory/actionclient"
)

// Container state flags.
const (
	stInitialized int32 = 1 << iota
	stPaused
	stDead // crashed or OOM-killed: the runtime is gone
	stDestroyed
	stSwept          // destroyed by Cleanup rather than Destroy
	stRemovedOutside // removed by RemoveOutside: the engine no longer has it
)

// ErrGone is returned by operations on a container that Cleanup removed.
var ErrGone = errors.New("fake container no longer exists")

var okResult = json.RawMessage(`{"ok":true}`)

// Container is a fake container. Its accessors let tests look inside.
type Container struct {
	f    *Factory
	seq  uint64
	id   string
	addr string
	spec factory.ContainerSpec

	state    atomic.Int32
	maxConc  atomic.Int32 // from Initialize; 0 before it
	inFlight atomic.Int32
	destroys atomic.Int32

	logMu sync.Mutex
	logs  []string
}

var _ factory.Container = (*Container)(nil)

// ID is "fake<n>", n counting creations from 1.
func (c *Container) ID() string { return c.id }

// Addr is "fake:<n>"; nothing listens there.
func (c *Container) Addr() string { return c.addr }

// Spec is the spec the container was created with.
func (c *Container) Spec() factory.ContainerSpec { return c.spec }

// Initialized, Paused, Dead and Destroyed report the container's state.
func (c *Container) Initialized() bool { return c.state.Load()&stInitialized != 0 }
func (c *Container) Paused() bool      { return c.state.Load()&stPaused != 0 }
func (c *Container) Dead() bool        { return c.state.Load()&stDead != 0 }
func (c *Container) Destroyed() bool   { return c.state.Load()&stDestroyed != 0 }

// Destroys counts the Destroy calls that reached this container.
func (c *Container) Destroys() int { return int(c.destroys.Load()) }

// Log appends lines that the next Logs call returns; a RunFunc uses it to
// play an action writing to stdout.
func (c *Container) Log(lines ...string) {
	c.logMu.Lock()
	c.logs = append(c.logs, lines...)
	c.logMu.Unlock()
}

func (c *Container) setFlag(b int32) {
	for {
		s := c.state.Load()
		if c.state.CompareAndSwap(s, s|b) {
			return
		}
	}
}

func (c *Container) clearFlag(b int32) {
	for {
		s := c.state.Load()
		if c.state.CompareAndSwap(s, s&^b) {
			return
		}
	}
}

// usable records a violation and returns an error when op reaches a
// destroyed container.
func (c *Container) usable(op Op) error {
	if c.state.Load()&stDestroyed == 0 {
		return nil
	}
	err := fmt.Errorf("fake %s on container %s after it was destroyed", op, c.id)
	c.f.violate(err)
	return err
}

// Initialize plays /init: once per container, not while paused.
func (c *Container) Initialize(ctx context.Context, req factory.InitRequest) (factory.Outcome, error) {
	start := time.Now()
	fault, d, err := c.f.enter(ctx, OpInit, c, nil, "")
	if err != nil {
		return factory.Outcome{}, err
	}
	if err := c.usable(OpInit); err != nil {
		return factory.Outcome{}, err
	}
	s := c.state.Load()
	if s&stPaused != 0 {
		c.f.violate(fmt.Errorf("fake init on container %s while paused", c.id))
	}
	if s&stInitialized != 0 {
		c.f.violate(fmt.Errorf("fake init on container %s, which was already initialised", c.id))
	}
	if s&stDead != 0 {
		return actionclient.ConnectionOutcome(actionclient.OpInit, start, time.Now(), false), nil
	}
	if out, done, err := c.spend(ctx, actionclient.OpInit, req.Timeout, d, start); done {
		return out, err
	}
	if out, ok, err := c.applyFault(fault, actionclient.OpInit, start, req.Timeout); ok {
		return out, err
	}
	c.maxConc.Store(int32(max(req.MaxConcurrency, 1)))
	c.setFlag(stInitialized)
	return factory.Outcome{Start: start, End: time.Now(), Status: factory.StatusSuccess}, nil
}

// Run plays /run. Without latency, faults or gates it neither allocates nor
// locks.
func (c *Container) Run(ctx context.Context, req factory.RunRequest) (factory.Outcome, error) {
	start := time.Now()
	fault, d, err := c.f.enter(ctx, OpRun, c, nil, req.ActivationID)
	if err != nil {
		return factory.Outcome{}, err
	}
	s := c.state.Load()
	if s&(stDestroyed|stPaused|stDead) != 0 || s&stInitialized == 0 {
		if out, done, err := c.runMisuse(s, start); done {
			return out, err
		}
	}
	n := c.inFlight.Add(1)
	defer c.inFlight.Add(-1)
	if m := c.maxConc.Load(); m > 0 && n > m {
		c.f.violate(fmt.Errorf("fake run on container %s: %d runs at once, max concurrency %d", c.id, n, m))
	}
	if d > 0 {
		if out, done, err := c.spend(ctx, actionclient.OpRun, req.Timeout, d, start); done {
			return out, err
		}
	}
	if fault != FaultNone {
		if out, ok, err := c.applyFault(fault, actionclient.OpRun, start, req.Timeout); ok {
			return out, err
		}
	}
	if c.f.opts.Run != nil {
		out := c.f.opts.Run(c, req)
		if out.Start.IsZero() {
			out.Start = start
		}
		if out.End.IsZero() {
			out.End = time.Now()
		}
		return out, nil
	}
	result := okResult
	if len(req.Params) > 0 {
		result = req.Params
	}
	// Without latency the run took no time; a second clock read would be
	// half the cost of a warm run on machines with a slow clock.
	end := start
	if d > 0 {
		end = time.Now()
	}
	return factory.Outcome{Start: start, End: end, Status: factory.StatusSuccess, Result: result}, nil
}

// runMisuse handles a run the engine would not serve; done is false when
// the run may go on (a run before init, which some runtimes accept).
func (c *Container) runMisuse(s int32, start time.Time) (factory.Outcome, bool, error) {
	switch {
	case s&stDestroyed != 0:
		return factory.Outcome{}, true, c.usable(OpRun)
	case s&stPaused != 0:
		err := fmt.Errorf("fake run on container %s while paused", c.id)
		c.f.violate(err)
		return factory.Outcome{}, true, err
	case s&stDead != 0:
		return actionclient.ConnectionOutcome(actionclient.OpRun, start, time.Now(), false), true, nil
	}
	c.f.violate(fmt.Errorf("fake run on container %s before init", c.id))
	return factory.Outcome{}, false, nil
}

// spend waits the simulated latency d; an op slower than its timeout waits
// only the timeout and ends as a time-limit error (done true).
func (c *Container) spend(ctx context.Context, op string, timeout, d time.Duration, start time.Time) (factory.Outcome, bool, error) {
	if timeout > 0 && d >= timeout {
		if err := wait(ctx, c.f.opts.Clock, timeout); err != nil {
			return factory.Outcome{}, true, fmt.Errorf("fake %s on container %s: %w", op, c.id, err)
		}
		return actionclient.TimeoutOutcome(op, timeout, start, start.Add(timeout)), true, nil
	}
	if err := wait(ctx, c.f.opts.Clock, d); err != nil {
		return factory.Outcome{}, true, fmt.Errorf("fake %s on container %s: %w", op, c.id, err)
	}
	return factory.Outcome{}, false, nil
}

// applyFault turns an injected fault of /init or /run into what the
// container would answer; ok is false for FaultNone. An injected timeout
// does not wait: its outcome says it lasted the whole limit.
func (c *Container) applyFault(fault Fault, op string, start time.Time, timeout time.Duration) (factory.Outcome, bool, error) {
	end := time.Now()
	switch fault {
	case FaultNone:
		return factory.Outcome{}, false, nil
	case FaultCrash, FaultOOM:
		c.setFlag(stDead)
		return actionclient.ConnectionOutcome(op, start, end, fault == FaultOOM), true, nil
	case FaultHealth:
		return factory.Outcome{Start: start, End: end}, true,
			fmt.Errorf("fake %s on container %s: injected: %w", op, c.id, factory.ErrHealth)
	case FaultTimeout:
		return actionclient.TimeoutOutcome(op, timeout, start, start.Add(timeout)), true, nil
	case FaultApplicationError:
		if op == actionclient.OpRun {
			return actionclient.ErrorOutcome(factory.StatusApplicationError, "fake: injected application error", start, end), true, nil
		}
	}
	return actionclient.ErrorOutcome(factory.StatusDeveloperError, "fake: injected "+op+" failure", start, end), true, nil
}

// Suspend pauses the container.
func (c *Container) Suspend(ctx context.Context) error {
	if err := c.lifecycle(ctx, OpSuspend); err != nil {
		return err
	}
	if c.state.Load()&stPaused != 0 {
		err := fmt.Errorf("fake suspend on container %s, which is already paused", c.id)
		c.f.violate(err)
		return err
	}
	if n := c.inFlight.Load(); n > 0 {
		c.f.violate(fmt.Errorf("fake suspend on container %s with %d runs in flight", c.id, n))
	}
	c.setFlag(stPaused)
	return nil
}

// Resume unpauses the container.
func (c *Container) Resume(ctx context.Context) error {
	if err := c.lifecycle(ctx, OpResume); err != nil {
		return err
	}
	if c.state.Load()&stPaused == 0 {
		err := fmt.Errorf("fake resume on container %s, which is not paused", c.id)
		c.f.violate(err)
		return err
	}
	c.clearFlag(stPaused)
	return nil
}

// Logs returns the lines logged since the previous call.
func (c *Container) Logs(ctx context.Context, req factory.LogRequest) ([]string, error) {
	if err := c.lifecycle(ctx, OpLogs); err != nil {
		return nil, err
	}
	c.logMu.Lock()
	defer c.logMu.Unlock()
	out := c.logs
	c.logs = nil
	return out, nil
}

// lifecycle is the shared prologue of suspend, resume and logs.
func (c *Container) lifecycle(ctx context.Context, op Op) error {
	fault, d, err := c.f.enter(ctx, op, c, nil, "")
	if err != nil {
		return err
	}
	if err := c.usable(op); err != nil {
		return err
	}
	if c.state.Load()&stRemovedOutside != 0 {
		return fmt.Errorf("fake %s on container %s: %w", op, c.id, ErrRemovedOutside)
	}
	if err := wait(ctx, c.f.opts.Clock, d); err != nil {
		return fmt.Errorf("fake %s on container %s: %w", op, c.id, err)
	}
	switch {
	case fault == FaultHealth && op == OpResume:
		return fmt.Errorf("fake resume on container %s: injected: %w", c.id, factory.ErrHealth)
	case fault != FaultNone:
		return fmt.Errorf("fake %s on container %s: injected failure", op, c.id)
	}
	return nil
}

// Destroy removes the container. A second successful Destroy is a
// violation; a Destroy after Cleanup swept the container returns ErrGone.
func (c *Container) Destroy(ctx context.Context) error {
	c.destroys.Add(1)
	fault, d, err := c.f.enter(ctx, OpDestroy, c, nil, "")
	if err != nil {
		return err
	}
	if err := wait(ctx, c.f.opts.Clock, d); err != nil {
		return fmt.Errorf("fake destroy of container %s: %w", c.id, err)
	}
	if fault != FaultNone {
		return fmt.Errorf("fake destroy of container %s: injected failure", c.id)
	}
	f := c.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if c.state.Load()&stRemovedOutside != 0 {
		// The engine answers a forced remove of an absent container
		// with success; its memory went with RemoveOutside.
		return nil
	}
	if c.state.Load()&stDestroyed != 0 {
		if c.state.Load()&stSwept != 0 {
			return fmt.Errorf("fake destroy of container %s: %w", c.id, ErrGone)
		}
		err := fmt.Errorf("fake destroy of container %s (%s): destroyed twice", c.id, c.spec.Name)
		f.violations = append(f.violations, err)
		return err
	}
	c.setFlag(stDestroyed)
	delete(f.live, c.id)
	f.memLive.Add(-int64(c.spec.Memory))
	return nil
}
