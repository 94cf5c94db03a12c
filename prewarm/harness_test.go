package prewarm

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand"
	"runtime"
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
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// testContainer is a created container as far as the scheduler cares.
type testContainer struct {
	id, addr  string
	destroyed atomic.Bool
}

func (c *testContainer) ID() string   { return c.id }
func (c *testContainer) Addr() string { return c.addr }
func (c *testContainer) Initialize(context.Context, factory.InitRequest) (factory.Outcome, error) {
	return factory.Outcome{}, nil
}
func (c *testContainer) Run(context.Context, factory.RunRequest) (factory.Outcome, error) {
	return factory.Outcome{}, nil
}
func (c *testContainer) Suspend(context.Context) error                              { return nil }
func (c *testContainer) Resume(context.Context) error                               { return nil }
func (c *testContainer) Logs(context.Context, factory.LogRequest) ([]string, error) { return nil, nil }
func (c *testContainer) Destroy(context.Context) error                              { c.destroyed.Store(true); return nil }

// event is one message seen by the stand-in pool or factory, with the fake
// time it arrived at.
type event struct {
	at  time.Time
	msg any
}

// factoryMode says how the stand-in factory answers.
type factoryMode int

const (
	factoryOK   factoryMode = iota // create at once
	factoryFail                    // fail at once
	factoryHold                    // keep until the test completes it
)

type harness struct {
	t     *testing.T
	sys   *actor.ActorSystem
	clock *actors.FakeClock
	reg   *prometheus.Registry
	logs  *syncBuffer

	grant atomic.Bool // the pool's answer to ReserveMemory
	mode  atomic.Int32

	mu       sync.Mutex
	poolLog  []event
	creates  []event // CreateContainer as the factory saw them
	held     []*actors.CreateContainer
	changed  chan struct{} // signalled on every recorded message
	nextAddr int

	pool, factory, sched *actor.PID
}

type syncBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

type testOpts struct {
	// factory replaces the stand-in factory actor (the real factory actor
	// over factory/fake, say).
	factory *actor.Props
	mode    factoryMode
	refuse  bool
	dial    func(ctx context.Context, addr string) error
}

func testConfig(cells ...config.StemCell) *config.Config {
	variance := 10 * time.Second
	return &config.Config{
		Invoker: config.InvokerConfig{Name: "t-prewarm"},
		ContainerPool: config.ContainerPoolConfig{
			UserMemory:                             4096 * config.MB,
			PrewarmExpirationCheckInitDelay:        time.Minute,
			PrewarmExpirationCheckInterval:         time.Minute,
			PrewarmExpirationCheckIntervalVariance: &variance,
			PrewarmExpirationLimit:                 100,
			PrewarmMaxRetryLimit:                   5,
		},
		ContainerProxy: config.ContainerProxyConfig{ActionHealthCheck: config.ActionHealthCheck{
			Enabled: false, CheckPeriod: 3 * time.Second, MaxFails: 3,
		}},
		RuntimesManifest: config.RuntimesManifestConfig{Manifest: config.Manifest{
			Runtimes: map[string][]config.RuntimeKind{"nodejs": {{
				Kind:      "js:goja",
				Image:     config.ImageName{Prefix: "stemcell", Name: "action-runtime", Tag: "dev"},
				StemCells: cells,
			}}},
		}},
	}
}

var nodeKey = Key{Kind: "js:goja", Memory: 256 * config.MB}

func newHarness(t *testing.T, cfg *config.Config, o testOpts) *harness {
	t.Helper()
	h := &harness{
		t:       t,
		clock:   actors.NewFakeClock(t0),
		reg:     prometheus.NewRegistry(),
		logs:    &syncBuffer{},
		changed: make(chan struct{}, 1),
	}
	h.grant.Store(!o.refuse)
	h.mode.Store(int32(o.mode))
	h.sys = actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}), actor.WithDeadLetterThrottleInterval(10*time.Millisecond)) // its goroutine outlives dead letters by this much
	h.pool = h.sys.Root.Spawn(actor.PropsFromFunc(h.poolReceive))
	if o.factory != nil {
		h.factory = h.sys.Root.Spawn(o.factory)
	} else {
		h.factory = h.sys.Root.Spawn(actor.PropsFromFunc(h.factoryReceive))
	}
	h.sched = h.sys.Root.Spawn(Props(Options{
		Config:     cfg,
		Pool:       h.pool,
		Factory:    h.factory,
		Clock:      h.clock,
		Rand:       rand.New(rand.NewSource(7)),
		Log:        zerolog.New(h.logs),
		Registerer: h.reg,
		Dial:       o.dial,
	}))
	t.Cleanup(func() {
		for _, pid := range []*actor.PID{h.sched, h.factory, h.pool} {
			if err := h.sys.Root.StopFuture(pid).Wait(); err != nil {
				t.Errorf("stopping %v: %v", pid, err)
			}
		}
	})
	h.settle()
	return h
}

func (h *harness) record(dst *[]event, msg any) {
	h.mu.Lock()
	*dst = append(*dst, event{at: h.clock.Now(), msg: msg})
	h.mu.Unlock()
	select {
	case h.changed <- struct{}{}:
	default:
	}
}

func (h *harness) poolReceive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case actor.SystemMessage, actor.AutoReceiveMessage, *actor.Touch:
	case *actors.ReserveMemory:
		h.record(&h.poolLog, m)
		ctx.Respond(&actors.ReserveMemoryReply{Ref: m.Ref, Granted: h.grant.Load()})
	default:
		h.record(&h.poolLog, m)
	}
}

func (h *harness) factoryReceive(ctx actor.Context) {
	m, ok := ctx.Message().(*actors.CreateContainer)
	if !ok {
		return
	}
	h.record(&h.creates, m)
	switch factoryMode(h.mode.Load()) {
	case factoryOK:
		ctx.Respond(&actors.ContainerCreated{Ref: m.Ref, Container: h.newContainer(m.Ref)})
	case factoryFail:
		ctx.Respond(&actors.ContainerCreated{Ref: m.Ref, Err: fmt.Errorf("create %s: image broken", m.Spec.Name)})
	case factoryHold:
		h.mu.Lock()
		h.held = append(h.held, m)
		h.mu.Unlock()
	}
}

func (h *harness) newContainer(ref uint64) *testContainer {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.nextAddr++
	return &testContainer{id: fmt.Sprintf("c%d", ref), addr: fmt.Sprintf("10.0.0.%d:8080", h.nextAddr)}
}

// complete answers the held creations that match, in the given order.
func (h *harness) complete(refs ...uint64) {
	h.t.Helper()
	for _, ref := range refs {
		h.mu.Lock()
		found := false
		for i, m := range h.held {
			if m.Ref == ref {
				h.held = append(h.held[:i], h.held[i+1:]...)
				found = true
				break
			}
		}
		h.mu.Unlock()
		if !found {
			h.t.Fatalf("no held creation with ref %d", ref)
		}
		h.sys.Root.Send(h.sched, &actors.ContainerCreated{Ref: ref, Container: h.newContainer(ref)})
		h.settle()
	}
}

func (h *harness) heldRefs() []uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []uint64
	for _, m := range h.held {
		out = append(out, m.Ref)
	}
	return out
}

// touch waits until pid has processed everything queued before it.
func (h *harness) touch(pid *actor.PID) {
	h.t.Helper()
	if _, err := h.sys.Root.RequestFuture(pid, &actor.Touch{}, 5*time.Second).Result(); err != nil {
		h.t.Fatalf("touch %v: %v", pid, err)
	}
}

// settle waits for the message chain scheduler -> pool -> scheduler ->
// factory -> scheduler -> pool to run dry. Each hop's mailbox is FIFO, so a
// Touch answered by the next actor proves the previous hop's sends landed.
func (h *harness) settle() {
	h.t.Helper()
	for range 3 {
		h.touch(h.sched)
		h.touch(h.pool)
		h.touch(h.sched)
		h.touch(h.factory)
	}
	h.touch(h.sched)
	h.touch(h.pool)
}

// advance moves the fake clock in steps of step and settles after each.
func (h *harness) advance(total, step time.Duration) {
	h.t.Helper()
	for d := time.Duration(0); d < total; d += step {
		h.clock.Advance(min(step, total-d))
		h.settle()
	}
}

func (h *harness) state() *State {
	h.t.Helper()
	res, err := h.sys.Root.RequestFuture(h.sched, &stateRequest{}, 5*time.Second).Result()
	if err != nil {
		h.t.Fatalf("state: %v", err)
	}
	return res.(*State)
}

// poolMsgs returns the messages of type T the pool received.
func poolMsgs[T any](h *harness) []T {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []T
	for _, e := range h.poolLog {
		if m, ok := e.msg.(T); ok {
			out = append(out, m)
		}
	}
	return out
}

func (h *harness) createCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.creates)
}

// waitFor waits, without sleeping, until cond holds after a recorded message
// or fails after a deadline; for effects of goroutines the settle chain
// cannot see (health checks).
func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.After(10 * time.Second)
	for !cond() {
		select {
		case <-h.changed:
		case <-deadline:
			h.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// metricValue is the value of the series of name whose labels include the
// given name/value pairs (summed when several match).
func metricValue(t *testing.T, h *harness, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if have[labels[i]] != labels[i+1] {
					continue series
				}
			}
			switch {
			case m.GetGauge() != nil:
				sum += m.GetGauge().GetValue()
			case m.GetCounter() != nil:
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

// waitForHealthRounds waits until the scheduler has applied n health
// rounds; their dials run on goroutines the settle chain cannot see.
func (h *harness) waitForHealthRounds(n uint64) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for h.state().HealthRounds < n {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for health round %d", n)
		}
		runtime.Gosched()
	}
	h.settle()
}
