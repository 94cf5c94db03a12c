package actors

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/factory"
)

// gatedFactory blocks every CreateContainer until its gate is closed, so the
// test can show the actor keeps serving while creations are in flight.
type gatedFactory struct {
	gate    chan struct{}
	mu      sync.Mutex
	started []string
	fail    map[string]error
	entered chan string
}

func (f *gatedFactory) CreateContainer(ctx context.Context, spec factory.ContainerSpec) (factory.Container, error) {
	f.mu.Lock()
	f.started = append(f.started, spec.Name)
	f.mu.Unlock()
	f.entered <- spec.Name
	select {
	case <-f.gate:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if err := f.fail[spec.Name]; err != nil {
		return nil, err
	}
	return stubContainer(spec.Name), nil
}
func (f *gatedFactory) Init(context.Context) error    { return nil }
func (f *gatedFactory) Cleanup(context.Context) error { return nil }

type stubContainer string

func (c stubContainer) ID() string   { return string(c) }
func (c stubContainer) Addr() string { return "127.0.0.1:0" }
func (c stubContainer) Initialize(context.Context, factory.InitRequest) (factory.Outcome, error) {
	return factory.Outcome{}, nil
}
func (c stubContainer) Run(context.Context, factory.RunRequest) (factory.Outcome, error) {
	return factory.Outcome{}, nil
}
func (c stubContainer) Suspend(context.Context) error { return nil }
func (c stubContainer) Resume(context.Context) error  { return nil }
func (c stubContainer) Logs(context.Context, factory.LogRequest) ([]string, error) {
	return nil, nil
}
func (c stubContainer) Destroy(context.Context) error { return nil }

func TestFactoryActorAnswersEachSenderWithoutBlocking(t *testing.T) {
	sys := newTestSystem(t)
	errBoom := errors.New("boom")
	f := &gatedFactory{gate: make(chan struct{}), entered: make(chan string, 8),
		fail: map[string]error{"c2": &factory.StartupError{Msg: "no image", UserError: true, Err: errBoom}}}
	fpid := sys.Root.Spawn(NewFactoryProps(f, zerolog.Nop()))
	t.Cleanup(func() { _ = sys.Root.PoisonFuture(fpid).Wait() })
	p, ch := probe(t, sys)

	for i, name := range []string{"c1", "c2", "c3"} {
		sys.Root.RequestWithCustomSender(fpid, &CreateContainer{Ref: uint64(i + 1), Spec: factory.ContainerSpec{Name: name}}, p)
	}
	// All three creations are in flight at once: the mailbox was not held.
	for i := 0; i < 3; i++ {
		select {
		case <-f.entered:
		case <-time.After(5 * time.Second):
			t.Fatalf("only %d of 3 creations started while the first was blocked", i)
		}
	}
	expectNone(t, ch, 20*time.Millisecond)
	close(f.gate)

	got := map[uint64]*ContainerCreated{}
	for i := 0; i < 3; i++ {
		m := expect[*ContainerCreated](t, ch)
		got[m.Ref] = m
	}
	tests := []struct {
		ref     uint64
		wantID  string
		wantErr bool
	}{{1, "c1", false}, {2, "", true}, {3, "c3", false}}
	for _, tc := range tests {
		m := got[tc.ref]
		if m == nil {
			t.Fatalf("no answer for ref %d", tc.ref)
		}
		if tc.wantErr {
			var se *factory.StartupError
			if m.Err == nil || !errors.As(m.Err, &se) || !se.UserError || !errors.Is(m.Err, errBoom) || m.Container != nil {
				t.Fatalf("ref %d: want a wrapped user StartupError and no container, got %+v", tc.ref, m)
			}
			continue
		}
		if m.Err != nil || m.Container == nil || m.Container.ID() != tc.wantID {
			t.Fatalf("ref %d: got %+v, want container %s", tc.ref, m, tc.wantID)
		}
	}
}

func TestFactoryActorRefusesRequestWithoutSender(t *testing.T) {
	sys := newTestSystem(t)
	f := &gatedFactory{gate: make(chan struct{}), entered: make(chan string, 1)}
	close(f.gate)
	fpid := sys.Root.Spawn(NewFactoryProps(f, zerolog.Nop()))
	sys.Root.Send(fpid, &CreateContainer{Ref: 1, Spec: factory.ContainerSpec{Name: "orphan"}})
	if err := sys.Root.PoisonFuture(fpid).Wait(); err != nil {
		t.Fatal(err)
	}
	if len(f.started) != 0 {
		t.Fatalf("created %v for a request nobody could own", f.started)
	}
}

// Stopping the factory actor cancels creations in flight; the sender still
// gets its answer, carrying the cancellation.
func TestFactoryActorStopCancelsCreations(t *testing.T) {
	sys := newTestSystem(t)
	f := &gatedFactory{gate: make(chan struct{}), entered: make(chan string, 1)}
	fpid := sys.Root.Spawn(NewFactoryProps(f, zerolog.Nop()))
	p, ch := probe(t, sys)
	sys.Root.RequestWithCustomSender(fpid, &CreateContainer{Ref: 5, Spec: factory.ContainerSpec{Name: "slow"}}, p)
	<-f.entered
	if err := sys.Root.StopFuture(fpid).Wait(); err != nil {
		t.Fatal(err)
	}
	m := expect[*ContainerCreated](t, ch)
	if m.Ref != 5 || !errors.Is(m.Err, context.Canceled) {
		t.Fatalf("got %+v, want ref 5 with context.Canceled", m)
	}
}

var _ actor.Actor = (*factoryActor)(nil)

// orderedFactory bounds its creations with a factory.StartQueue, as the
// docker factory bounds its engine calls by docker.parallel-runs, and
// reports each creation as it gets past the bound ("reaches the engine").
// A creation keeps its slot until the test sends a token on finish.
type orderedFactory struct {
	starts  *factory.StartQueue
	reached chan string
	finish  chan struct{}
}

func (f *orderedFactory) CreateContainer(ctx context.Context, spec factory.ContainerSpec) (factory.Container, error) {
	return f.ReserveCreate(spec)(ctx)
}

func (f *orderedFactory) ReserveCreate(spec factory.ContainerSpec) func(context.Context) (factory.Container, error) {
	ticket := f.starts.Reserve()
	return func(ctx context.Context) (factory.Container, error) {
		if err := ticket.Wait(ctx); err != nil {
			return nil, err
		}
		defer ticket.Release()
		f.reached <- spec.Name
		select {
		case <-f.finish:
			return stubContainer(spec.Name), nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
func (f *orderedFactory) Init(context.Context) error    { return nil }
func (f *orderedFactory) Cleanup(context.Context) error { return nil }

var _ factory.OrderedFactory = (*orderedFactory)(nil)

// Creations reach the factory's bound in the order the factory actor got
// them: the first `limit` at once, then exactly the next one each time a
// slot frees.
func TestFactoryActorKeepsCreateOrderThroughTheLimit(t *testing.T) {
	const n = 24
	for _, limit := range []int{1, 2, 3} {
		t.Run(fmt.Sprintf("limit %d", limit), func(t *testing.T) {
			sys := newTestSystem(t)
			f := &orderedFactory{starts: factory.NewStartQueue(limit), reached: make(chan string, n), finish: make(chan struct{}, n)}
			fpid := sys.Root.Spawn(NewFactoryProps(f, zerolog.Nop()))
			t.Cleanup(func() { _ = sys.Root.PoisonFuture(fpid).Wait() })
			p, ch := probe(t, sys)
			names := make([]string, n)
			for i := range names {
				names[i] = fmt.Sprintf("c%02d", i)
				sys.Root.RequestWithCustomSender(fpid, &CreateContainer{Ref: uint64(i), Spec: factory.ContainerSpec{Name: names[i]}}, p)
			}

			// The first `limit` hold their slots together, so they may
			// report in any order among themselves.
			first := map[string]bool{}
			for range limit {
				first[reachedName(t, f.reached)] = true
			}
			for _, name := range names[:limit] {
				if !first[name] {
					t.Fatalf("first %d to reach the factory: %v, want %v", limit, first, names[:limit])
				}
			}
			for i := limit; i < n; i++ {
				f.finish <- struct{}{}
				if got := reachedName(t, f.reached); got != names[i] {
					t.Fatalf("after %d finished, %s reached the factory, want %s", i-limit+1, got, names[i])
				}
			}
			for range limit {
				f.finish <- struct{}{}
			}
			for range n {
				if m := expect[*ContainerCreated](t, ch); m.Err != nil || m.Container.ID() != names[m.Ref] {
					t.Fatalf("answer %+v, want container %s", m, names[m.Ref])
				}
			}
		})
	}
}

func reachedName(t *testing.T, reached <-chan string) string {
	t.Helper()
	select {
	case name := <-reached:
		return name
	case <-time.After(5 * time.Second):
		t.Fatal("no creation reached the factory within 5s")
		return ""
	}
}
