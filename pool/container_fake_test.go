package pool

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/internal/protocol"
)

// ctFake is an in-memory factory.Container whose every call is recorded
// and reported on events, and whose behaviour each test sets.
type ctFake struct {
	id     string
	clock  actors.Clock
	events chan string

	// Behaviour; nil funcs succeed at once.
	initFn      func(ctx context.Context, req factory.InitRequest) (factory.Outcome, error)
	runFn       func(ctx context.Context, req factory.RunRequest) (factory.Outcome, error)
	suspendGate chan struct{}
	suspendErr  error
	resumeErr   error
	logs        []string
	logsErr     error

	mu         sync.Mutex
	calls      []string
	inits      []factory.InitRequest
	runs       []factory.RunRequest
	logReqs    []factory.LogRequest
	running    int
	maxRunning int
}

func newCtFake(id string, clock actors.Clock) *ctFake {
	return &ctFake{id: id, clock: clock, events: make(chan string, 256)}
}

func (f *ctFake) record(call string) {
	f.mu.Lock()
	f.calls = append(f.calls, call)
	f.mu.Unlock()
	f.events <- call
}

func (f *ctFake) count(call string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c == call {
			n++
		}
	}
	return n
}

func (f *ctFake) ID() string   { return f.id }
func (f *ctFake) Addr() string { return "127.0.0.1:0" }

func (f *ctFake) Initialize(ctx context.Context, req factory.InitRequest) (factory.Outcome, error) {
	f.mu.Lock()
	f.inits = append(f.inits, req)
	f.mu.Unlock()
	f.record("init")
	if f.initFn != nil {
		return f.initFn(ctx, req)
	}
	now := f.clock.Now()
	return factory.Outcome{Start: now, End: now, Status: factory.StatusSuccess, Result: json.RawMessage(`{"ok":true}`)}, nil
}

func (f *ctFake) Run(ctx context.Context, req factory.RunRequest) (factory.Outcome, error) {
	f.mu.Lock()
	f.runs = append(f.runs, req)
	f.running++
	f.maxRunning = max(f.maxRunning, f.running)
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.running--
		f.mu.Unlock()
	}()
	f.record("run")
	if f.runFn != nil {
		return f.runFn(ctx, req)
	}
	now := f.clock.Now()
	return factory.Outcome{Start: now, End: now, Status: factory.StatusSuccess, Result: json.RawMessage(`{"id":"` + req.ActivationID + `"}`)}, nil
}

func (f *ctFake) Suspend(ctx context.Context) error {
	if f.suspendGate != nil {
		select {
		case <-f.suspendGate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f.record("suspend")
	return f.suspendErr
}

func (f *ctFake) Resume(context.Context) error {
	f.record("resume")
	return f.resumeErr
}

func (f *ctFake) Logs(_ context.Context, req factory.LogRequest) ([]string, error) {
	f.mu.Lock()
	f.logReqs = append(f.logReqs, req)
	f.mu.Unlock()
	f.record("logs")
	return append([]string(nil), f.logs...), f.logsErr
}

func (f *ctFake) Destroy(context.Context) error {
	f.record("destroy")
	return nil
}

// ctFactory hands out prepared containers (or errors) in order, after its
// gate opens.
type ctFactory struct {
	gate    chan struct{}
	results []ctCreate
	mu      sync.Mutex
	specs   []factory.ContainerSpec
}

type ctCreate struct {
	c   *ctFake
	err error
}

func (f *ctFactory) CreateContainer(ctx context.Context, spec factory.ContainerSpec) (factory.Container, error) {
	f.mu.Lock()
	f.specs = append(f.specs, spec)
	r := f.results[0]
	f.results = f.results[1:]
	f.mu.Unlock()
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	return r.c, nil
}
func (f *ctFactory) Init(context.Context) error    { return nil }
func (f *ctFactory) Cleanup(context.Context) error { return nil }

// ctEnv runs one container actor under a stand-in pool actor that records
// everything the container sends it. Jobs reply to the stand-in too, so one
// channel shows the exact order of RunResult, JobDone and the removal
// reports. The stand-in is the container's parent, with the pool's
// supervisor, so it also sees the container's *actor.Terminated.
type ctEnv struct {
	t     *testing.T
	sys   *actor.ActorSystem
	clock *actors.FakeClock
	cfg   *config.Config
	pool  *actor.PID
	msgs  chan any
	terms chan *actor.Terminated // apart: system messages overtake user ones
	fact  *actor.PID
	seen  chan any // containerSuspended results as the container receives them
	// counters count the containers' results and transitions; a test
	// fails if any container made an illegal transition.
	counters *containerCounters
}

type ctSpawn struct{ props *actor.Props }

// ctSync passes through the container's test hook: when it is seen, every
// message sent before it has been handled completely.
type ctSync struct{ done chan struct{} }

// ctCrash makes the container's test hook panic.
type ctCrash struct{}

const ctWait = 5 * time.Second

func ctConfig() *config.Config {
	cfg := &config.Config{}
	cfg.ContainerProxy.Timeouts.PauseGrace = 10 * time.Second
	cfg.ContainerProxy.Timeouts.IdleContainer = 10 * time.Minute
	cfg.Limits.Payload.Max = config.MB
	cfg.Limits.Payload.Truncation = config.MB
	return cfg
}

func newCtEnv(t *testing.T) *ctEnv {
	t.Helper()
	e := &ctEnv{
		t:     t,
		sys:   actors.NewSystem(zerolog.Nop()),
		clock: actors.NewFakeClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)),
		cfg:   ctConfig(),
		msgs:  make(chan any, 1024),
		terms: make(chan *actor.Terminated, 16),
		seen:  make(chan any, 64),
	}
	e.counters = newTestCounters(t)
	e.pool = e.sys.Root.Spawn(actor.PropsFromFunc(func(c actor.Context) {
		switch m := c.Message().(type) {
		case *ctSpawn:
			c.Respond(c.Spawn(m.props))
		case *actor.Terminated:
			e.terms <- m
		case actor.SystemMessage, actor.AutoReceiveMessage:
		default:
			e.msgs <- m
		}
	}, actor.WithSupervisor(actors.ContainerSupervisor())))
	t.Cleanup(func() {
		_ = e.sys.Root.PoisonFuture(e.pool).Wait()
		if n := refusedTransitions(t, e.counters); n != 0 {
			t.Errorf("the container actors attempted %v illegal state transitions (see the error log)", n)
		}
	})
	return e
}

func (e *ctEnv) params() containerParams {
	return containerParams{
		Pool:    e.pool,
		Config:  e.cfg,
		Clock:   e.clock,
		Log:     zerolog.Nop(),
		Results: e.counters,
		testHook: func(m any) {
			switch m := m.(type) {
			case *ctSync:
				close(m.done)
			case *ctCrash:
				panic("crash requested by the test")
			case *containerSuspended:
				e.seen <- m
			}
		},
	}
}

func (e *ctEnv) spawn(p containerParams) *actor.PID {
	e.t.Helper()
	res, err := e.sys.Root.RequestFuture(e.pool, &ctSpawn{newContainerProps(p)}, ctWait).Result()
	if err != nil {
		e.t.Fatalf("spawn container: %v", err)
	}
	return res.(*actor.PID)
}

// stemCell spawns a container actor on an existing container.
func (e *ctEnv) stemCell(c *ctFake) *actor.PID {
	p := e.params()
	p.StemCell = c
	return e.spawn(p)
}

// cold spawns a container actor that creates its container through a
// factory actor wrapping f.
func (e *ctEnv) cold(f *ctFactory) *actor.PID {
	return e.coldWith(f, factory.ContainerSpec{Name: "t_cold", Kind: "js:goja", Memory: 256 * config.MB})
}

func (e *ctEnv) coldWith(f factory.ContainerFactory, spec factory.ContainerSpec) *actor.PID {
	if e.fact == nil {
		e.fact = e.sys.Root.Spawn(actors.NewFactoryProps(f, zerolog.Nop()))
		fact := e.fact
		e.t.Cleanup(func() { _ = e.sys.Root.PoisonFuture(fact).Wait() })
	}
	p := e.params()
	p.Factory = e.fact
	p.Spec = spec
	return e.spawn(p)
}

// suspended waits until the container has handled the result of its
// Suspend: only then is its idle timer armed. (The fake's "suspend" event
// comes before the actor hears of it.)
func (e *ctEnv) suspended(pid *actor.PID) {
	e.t.Helper()
	e.sawSuspend()
	e.sync(pid)
}

// sawSuspend waits until the container received its Suspend result.
func (e *ctEnv) sawSuspend() {
	e.t.Helper()
	select {
	case <-e.seen:
	case <-time.After(2 * time.Minute):
		e.t.Fatal("the container did not receive its Suspend result")
	}
}

// sync waits until pid has handled everything sent to it before.
func (e *ctEnv) sync(pid *actor.PID) {
	e.t.Helper()
	done := make(chan struct{})
	e.sys.Root.Send(pid, &ctSync{done})
	select {
	case <-done:
	case <-time.After(ctWait):
		e.t.Fatal("container did not reach the sync point")
	}
}

func ctAction(maxConc int) actors.Action {
	return actors.Action{
		Namespace: "guest/pkg", Name: "hello", Version: "0.0.1", Digest: "d1", Kind: "js:goja",
		Main: "handler", Code: "function handler(){}",
		Limits: actors.ActionLimits{Memory: 256 * config.MB, Timeout: time.Minute, MaxConcurrency: maxConc},
	}
}

func (e *ctEnv) job(pid *actor.PID, id string, act actors.Action, kind actors.StartKind) protocol.Job {
	j := protocol.Job{
		Activation: actors.Activation{
			ID: id, TransactionID: "tx-" + id, InvocationNamespace: "guest", Action: act,
			Params: json.RawMessage(`{"name":"x"}`), InitEnv: map[string]string{"INIT_KEY": "v"},
			APIKey: "key-1", Arrived: e.clock.Now(),
		},
		ReplyTo:   e.pool,
		StartKind: kind,
	}
	e.sys.Root.Send(pid, &j)
	return j
}

// next returns the next message the stand-in pool received.
func (e *ctEnv) next() any {
	e.t.Helper()
	select {
	case m := <-e.msgs:
		return m
	case <-time.After(ctWait):
		e.t.Fatal("no message from the container within the deadline")
		return nil
	}
}

func ctNext[T any](e *ctEnv) T {
	e.t.Helper()
	m := e.next()
	v, ok := m.(T)
	if !ok {
		var zero T
		e.t.Fatalf("got %T %+v, want %T", m, m, zero)
	}
	return v
}

// result expects a JobDone then its RunResult. The stand-in pool is also
// every job's ReplyTo, so the order it sees is the order of sending: the
// capacity must be back before the caller has its result.
func (e *ctEnv) result(pid *actor.PID) actors.Result {
	e.t.Helper()
	if d := ctNext[*protocol.JobDone](e); !d.Container.Equal(pid) {
		e.t.Fatalf("JobDone from %v, want %v", d.Container, pid)
	}
	return ctNext[*actors.RunResult](e).Result
}

// quiet asserts the stand-in pool receives nothing for a short while: used
// only to show something did NOT happen after a sync point.
func (e *ctEnv) quiet() {
	e.t.Helper()
	select {
	case m := <-e.msgs:
		e.t.Fatalf("unexpected %T %+v", m, m)
	case <-time.After(30 * time.Millisecond):
	}
}

// removed expects ContainerRemoved (with replace) then the actor's end.
func (e *ctEnv) removed(pid *actor.PID, replace bool) {
	e.t.Helper()
	r := ctNext[*protocol.ContainerRemoved](e)
	if !r.Container.Equal(pid) || r.Replace != replace {
		e.t.Fatalf("ContainerRemoved %+v, want container %v replace %v", r, pid, replace)
	}
	e.terminated(pid)
	e.quiet()
}

func (e *ctEnv) terminated(pid *actor.PID) {
	e.t.Helper()
	select {
	case term := <-e.terms:
		if !term.Who.Equal(pid) {
			e.t.Fatalf("terminated %v, want %v", term.Who, pid)
		}
	case <-time.After(ctWait):
		e.t.Fatalf("container %v did not stop", pid)
	}
}

func waitEvent(t *testing.T, f *ctFake, want string) {
	t.Helper()
	waitOn(t, f.events, want, ctWait)
}

// waitOn skips events until want comes, or fails after d.
func waitOn(t *testing.T, events <-chan string, want string, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case got := <-events:
			if got == want {
				return
			}
		case <-deadline:
			t.Fatalf("no %q call within %v", want, d)
		}
	}
}

var errCtBoom = errors.New("boom")
