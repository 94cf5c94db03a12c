package pool

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/stemcell-io/stemcell/factory"
)

// engine is an in-memory ContainerFactory for the pool's end-to-end tests
// and benchmarks, driving the real container actor. With gated set, every
// /init and /run waits until the test releases it, so the test decides the
// interleaving; without it they answer at once (zero latency).
type engine struct {
	gated bool

	mu         sync.Mutex
	seq        int
	containers []*engineContainer
	calls      []*call // gated calls waiting for a decision
	createErr  func() error
	violations []string
}

// call is one /init or /run waiting for the test.
type call struct {
	c      *engineContainer
	init   bool
	id     string
	answer chan callResult
}

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

func (e *engine) CreateContainer(ctx context.Context, spec factory.ContainerSpec) (factory.Container, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.createErr != nil {
		if err := e.createErr(); err != nil {
			return nil, &factory.StartupError{Msg: "engine refused " + spec.Name, Err: err}
		}
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

func (e *engine) pending() []*call {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]*call(nil), e.calls...)
}

// decide answers a waiting call.
func (e *engine) decide(cl *call, r callResult) {
	e.mu.Lock()
	for i, x := range e.calls {
		if x == cl {
			e.calls = append(e.calls[:i], e.calls[i+1:]...)
			break
		}
	}
	e.mu.Unlock()
	cl.answer <- r
}

func (e *engine) wait(ctx context.Context, c *engineContainer, init bool, id string) (callResult, error) {
	if !e.gated {
		return callResult{}, nil
	}
	cl := &call{c: c, init: init, id: id, answer: make(chan callResult, 1)}
	e.mu.Lock()
	e.calls = append(e.calls, cl)
	e.mu.Unlock()
	select {
	case r := <-cl.answer:
		return r, nil
	case <-ctx.Done():
		e.mu.Lock()
		for i, x := range e.calls {
			if x == cl {
				e.calls = append(e.calls[:i], e.calls[i+1:]...)
				break
			}
		}
		e.mu.Unlock()
		return callResult{}, ctx.Err()
	}
}

func (c *engineContainer) ID() string   { return c.id }
func (c *engineContainer) Addr() string { return "127.0.0.1:0" }

var okBody = json.RawMessage(`{"ok":true}`)

func (c *engineContainer) Initialize(ctx context.Context, req factory.InitRequest) (factory.Outcome, error) {
	r, err := c.e.wait(ctx, c, true, req.Name)
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
	r, err := c.e.wait(ctx, c, false, req.ActivationID)
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

func (c *engineContainer) Destroy(context.Context) error {
	c.e.mu.Lock()
	c.destroyed++
	c.e.mu.Unlock()
	return nil
}
