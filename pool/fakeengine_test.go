package pool

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/stemcell-io/stemcell/factory"
)

// engine is an in-memory ContainerFactory for the pool's end-to-end tests,
// driving the real container actor. With gated set, every create, /init,
// /run and destroy waits until the test decides it, so the test chooses the
// interleaving; without it they answer at once (zero latency).
//
// It audits itself as an engine would be audited: the memory of the
// containers it holds (created and not yet destroyed) and every misuse (a
// container destroyed twice, used after its destroy).
type engine struct {
	mu         sync.Mutex
	gated      bool
	seq        int
	containers []*engineContainer
	calls      []*call // gated calls waiting for a decision
	creating   int64   // memory of the creations in flight
	violations []string
}

// callOp is what a gated call waits to do.
type callOp string

const (
	opCreate  callOp = "create"
	opInit    callOp = "init"
	opRun     callOp = "run"
	opDestroy callOp = "destroy"
)

// call is one engine call waiting for the test.
type call struct {
	c      *engineContainer
	op     callOp
	id     string // the activation of a run, the action of an init
	answer chan callResult
}

// key orders the waiting calls by what the pool decided (its container
// names count on its own goroutine), not by which goroutine got to the
// engine first, so a seed picks the same call on every replay.
func (cl *call) key() string { return cl.c.spec.Name + " " + string(cl.op) + " " + cl.id }

type callResult struct {
	status factory.Status
	err    error
}

type engineContainer struct {
	e         *engine
	id        string
	spec      factory.ContainerSpec
	identity  string // "<namespace> <action>" of the first run
	destroyed int
}

// CreateContainer holds the memory of spec from its first moment, as an
// engine does; when gated, the test decides whether the creation succeeds
// (an error in the decision fails it).
func (e *engine) CreateContainer(ctx context.Context, spec factory.ContainerSpec) (factory.Container, error) {
	e.mu.Lock()
	e.creating += int64(spec.Memory)
	e.mu.Unlock()
	r, err := e.wait(ctx, &engineContainer{e: e, spec: spec}, opCreate, "")
	e.mu.Lock()
	defer e.mu.Unlock()
	e.creating -= int64(spec.Memory)
	if err == nil {
		err = r.err
	}
	if err != nil {
		return nil, &factory.StartupError{Msg: "engine refused " + spec.Name, Err: err}
	}
	return e.newContainer(spec), nil
}

// newContainer is also how a test makes a stem cell. e.mu is held.
func (e *engine) newContainer(spec factory.ContainerSpec) *engineContainer {
	e.seq++
	c := &engineContainer{e: e, id: fmt.Sprintf("c%d", e.seq), spec: spec}
	e.containers = append(e.containers, c)
	return c
}

func (e *engine) Init(context.Context) error    { return nil }
func (e *engine) Cleanup(context.Context) error { return nil }

// LiveMemory is the memory of the containers the engine holds: being
// created, or created and not yet destroyed.
func (e *engine) LiveMemory() int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := e.creating
	for _, c := range e.containers {
		if c.destroyed == 0 {
			n += int64(c.spec.Memory)
		}
	}
	return n
}

// Violations are the misuses seen so far.
func (e *engine) Violations() []error {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]error, len(e.violations))
	for i, v := range e.violations {
		out[i] = errors.New(v)
	}
	return out
}

// pending returns the calls waiting for a decision, in a stable order.
func (e *engine) pending() []*call {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := append([]*call(nil), e.calls...)
	slices.SortFunc(out, func(a, b *call) int { return cmp.Compare(a.key(), b.key()) })
	return out
}

// decide answers a waiting call.
func (e *engine) decide(cl *call, r callResult) {
	e.mu.Lock()
	e.unwait(cl)
	e.mu.Unlock()
	cl.answer <- r
}

// ungate lets every waiting and future call succeed: a test that failed
// half-way leaves no goroutine waiting for a decision.
func (e *engine) ungate() {
	e.mu.Lock()
	e.gated = false
	e.mu.Unlock()
	for _, cl := range e.pending() {
		e.decide(cl, callResult{})
	}
}

// unwait drops cl from the waiting calls. e.mu is held.
func (e *engine) unwait(cl *call) {
	for i, x := range e.calls {
		if x == cl {
			e.calls = append(e.calls[:i], e.calls[i+1:]...)
			return
		}
	}
}

func (e *engine) wait(ctx context.Context, c *engineContainer, op callOp, id string) (callResult, error) {
	if err := c.usable(op); err != nil {
		return callResult{}, err
	}
	cl := &call{c: c, op: op, id: id, answer: make(chan callResult, 1)}
	e.mu.Lock()
	if !e.gated {
		e.mu.Unlock()
		return callResult{}, nil
	}
	e.calls = append(e.calls, cl)
	e.mu.Unlock()
	select {
	case r := <-cl.answer:
		return r, nil
	case <-ctx.Done():
		e.mu.Lock()
		e.unwait(cl)
		e.mu.Unlock()
		return callResult{}, ctx.Err()
	}
}

// usable records a violation when op reaches a destroyed container.
func (c *engineContainer) usable(op callOp) error {
	c.e.mu.Lock()
	defer c.e.mu.Unlock()
	if c.destroyed == 0 {
		return nil
	}
	msg := fmt.Sprintf("%s on container %s (%s) after it was destroyed", op, c.id, c.spec.Name)
	c.e.violations = append(c.e.violations, msg)
	return errors.New(msg)
}

func (c *engineContainer) ID() string   { return c.id }
func (c *engineContainer) Addr() string { return "127.0.0.1:0" }

var okBody = json.RawMessage(`{"ok":true}`)

func (c *engineContainer) Initialize(ctx context.Context, req factory.InitRequest) (factory.Outcome, error) {
	r, err := c.e.wait(ctx, c, opInit, req.Name)
	if err != nil {
		return factory.Outcome{}, err
	}
	if r.err != nil {
		return factory.Outcome{}, r.err
	}
	return factory.Outcome{Status: r.status, Result: okBody}, nil
}

func (c *engineContainer) Run(ctx context.Context, req factory.RunRequest) (factory.Outcome, error) {
	who := req.Namespace + " " + req.ActionName
	c.e.mu.Lock()
	if c.identity == "" {
		c.identity = who
	} else if c.identity != who {
		c.e.violations = append(c.e.violations, fmt.Sprintf("container %s served %q then %q", c.id, c.identity, who))
	}
	c.e.mu.Unlock()
	r, err := c.e.wait(ctx, c, opRun, req.ActivationID)
	if err != nil {
		return factory.Outcome{}, err
	}
	if r.err != nil {
		return factory.Outcome{}, r.err
	}
	now := time.Now()
	return factory.Outcome{Start: now, End: now, Status: r.status, Result: okBody}, nil
}

func (c *engineContainer) Suspend(context.Context) error { return nil }
func (c *engineContainer) Resume(context.Context) error  { return nil }
func (c *engineContainer) Logs(context.Context, factory.LogRequest) ([]string, error) {
	return nil, nil
}

// Destroy holds the container's memory until the test lets it through (when
// gated); a second destroy is a violation.
func (c *engineContainer) Destroy(ctx context.Context) error {
	r, err := c.e.wait(ctx, c, opDestroy, "")
	if err != nil {
		return err
	}
	if r.err != nil {
		return r.err
	}
	c.e.mu.Lock()
	defer c.e.mu.Unlock()
	c.destroyed++
	if c.destroyed > 1 {
		c.e.violations = append(c.e.violations, fmt.Sprintf("container %s (%s) destroyed %d times", c.id, c.spec.Name, c.destroyed))
	}
	return nil
}
