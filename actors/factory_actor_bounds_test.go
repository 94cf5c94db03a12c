package actors

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/factory/fake"
)

// lateFactory plays an engine that finishes a creation its caller gave up
// on: it waits for the caller's context to end, then for proceed, and
// creates the container on the fake all the same.
type lateFactory struct {
	*fake.Factory
	proceed chan struct{}
	entered chan string
}

func (f *lateFactory) CreateContainer(ctx context.Context, spec factory.ContainerSpec) (factory.Container, error) {
	f.entered <- spec.Name
	<-ctx.Done()
	<-f.proceed
	return f.Factory.CreateContainer(context.WithoutCancel(ctx), spec)
}

func newLateFactory(opts fake.Options) *lateFactory {
	return &lateFactory{Factory: fake.New(opts), proceed: make(chan struct{}), entered: make(chan string, 8)}
}

func spec(name string) factory.ContainerSpec {
	return factory.ContainerSpec{Name: name, Memory: 256 * config.MB}
}

// A creation past its deadline is answered with an error that names the
// deadline, and the sender never gets a container: one the factory still
// produced is removed before the answer.
func TestFactoryActorCreateDeadline(t *testing.T) {
	const deadline = 50 * time.Millisecond
	tests := []struct {
		name string
		// start returns the factory and a func that the test runs once the
		// creation is in the factory's hands; live reports what the
		// engine holds.
		start       func(t *testing.T) (factory.ContainerFactory, func(), func() int64)
		wantInErr   []string
		wantDestroy uint64
	}{{
		name: "factory honours the deadline",
		start: func(t *testing.T) (factory.ContainerFactory, func(), func() int64) {
			f := fake.New(fake.Options{})
			g := f.Gate(fake.OpCreate)
			return f, func() { <-g.Arrived() }, f.LiveMemory
		},
		wantInErr: []string{"past its deadline of 50ms"},
	}, {
		name: "container comes after the deadline",
		start: func(t *testing.T) (factory.ContainerFactory, func(), func() int64) {
			f := newLateFactory(fake.Options{})
			return f, func() { <-f.entered; close(f.proceed) }, f.LiveMemory
		},
		wantInErr:   []string{"past its deadline of 50ms", "came after the creation was given up and was removed"},
		wantDestroy: 1,
	}, {
		name: "removing the late container fails",
		start: func(t *testing.T) (factory.ContainerFactory, func(), func() int64) {
			f := newLateFactory(fake.Options{Faults: fake.Always(fake.OpDestroy, fake.FaultError)})
			return f, func() { <-f.entered; close(f.proceed) }, func() int64 { return 0 }
		},
		wantInErr:   []string{"past its deadline of 50ms", "removing it failed", "injected failure"},
		wantDestroy: 1,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sys := newTestSystem(t)
			f, inHand, live := tc.start(t)
			fpid := sys.Root.Spawn(NewFactoryProps(f, zerolog.Nop(), WithCreateDeadline(deadline), WithRemoveTimeout(time.Second)))
			t.Cleanup(func() { _ = sys.Root.PoisonFuture(fpid).Wait() })
			p, ch := probe(t, sys)
			sys.Root.RequestWithCustomSender(fpid, &CreateContainer{Ref: 7, Spec: spec("late")}, p)
			inHand()
			m := expect[*ContainerCreated](t, ch)
			// The answer is what gives the sender's memory back: the
			// engine must hold nothing of this creation by now.
			if mem := live(); mem != 0 {
				t.Fatalf("answered while the engine still holds %d B", mem)
			}
			if m.Ref != 7 || m.Container != nil || !errors.Is(m.Err, context.DeadlineExceeded) {
				t.Fatalf("got %+v, want ref 7, no container, context.DeadlineExceeded", m)
			}
			for _, s := range tc.wantInErr {
				if !strings.Contains(m.Err.Error(), s) {
					t.Errorf("error %q does not say %q", m.Err, s)
				}
			}
			if ff, ok := f.(*lateFactory); ok {
				if got := ff.Calls(fake.OpDestroy); got != tc.wantDestroy {
					t.Errorf("destroy calls %d, want %d", got, tc.wantDestroy)
				}
			}
		})
	}
}

// The deadline runs from the request, so it covers the wait for a start
// slot: a creation queued behind one that holds the only slot is answered
// at its deadline without reaching the factory's bound.
func TestFactoryActorDeadlineCoversTheStartSlot(t *testing.T) {
	sys := newTestSystem(t)
	f := &orderedFactory{starts: factory.NewStartQueue(1), reached: make(chan string, 2), finish: make(chan struct{}, 2)}
	fpid := sys.Root.Spawn(NewFactoryProps(f, zerolog.Nop(), WithCreateDeadline(time.Hour)))
	t.Cleanup(func() { _ = sys.Root.PoisonFuture(fpid).Wait() })
	short := sys.Root.Spawn(NewFactoryProps(f, zerolog.Nop(), WithCreateDeadline(50*time.Millisecond)))
	t.Cleanup(func() { _ = sys.Root.PoisonFuture(short).Wait() })
	p, ch := probe(t, sys)

	sys.Root.RequestWithCustomSender(fpid, &CreateContainer{Ref: 1, Spec: spec("holder")}, p)
	if got := reachedName(t, f.reached); got != "holder" {
		t.Fatalf("%s reached the factory, want holder", got)
	}
	sys.Root.RequestWithCustomSender(short, &CreateContainer{Ref: 2, Spec: spec("queued")}, p)
	m := expect[*ContainerCreated](t, ch)
	if m.Ref != 2 || !errors.Is(m.Err, context.DeadlineExceeded) {
		t.Fatalf("got %+v, want ref 2 past its deadline", m)
	}
	select {
	case name := <-f.reached:
		t.Fatalf("%s reached the factory after its deadline", name)
	default:
	}
	f.finish <- struct{}{}
	if m := expect[*ContainerCreated](t, ch); m.Ref != 1 || m.Err != nil {
		t.Fatalf("got %+v, want the holder's container", m)
	}
}

// abandoningFactory gives up on every creation at its context's end, as
// the docker factory does when the engine's create call is still running:
// the error carries the channel that says when that call has settled.
type abandoningFactory struct {
	settled chan struct{}
	entered chan string
}

func (f *abandoningFactory) CreateContainer(ctx context.Context, spec factory.ContainerSpec) (factory.Container, error) {
	f.entered <- spec.Name
	<-ctx.Done()
	return nil, &factory.StartupError{Msg: "no container", Err: &factory.AbandonedError{Err: ctx.Err(), Settled: f.settled}}
}
func (f *abandoningFactory) Init(context.Context) error    { return nil }
func (f *abandoningFactory) Cleanup(context.Context) error { return nil }

// A creation the factory abandoned past the deadline is answered only once
// the engine call behind it has settled.
func TestFactoryActorAnswersAnAbandonedCreationOnceSettled(t *testing.T) {
	sys := newTestSystem(t)
	f := &abandoningFactory{settled: make(chan struct{}), entered: make(chan string, 1)}
	fpid := sys.Root.Spawn(NewFactoryProps(f, zerolog.Nop(), WithCreateDeadline(20*time.Millisecond), WithRemoveTimeout(time.Minute)))
	t.Cleanup(func() { _ = sys.Root.PoisonFuture(fpid).Wait() })
	p, ch := probe(t, sys)
	sys.Root.RequestWithCustomSender(fpid, &CreateContainer{Ref: 3, Spec: spec("abandoned")}, p)
	<-f.entered
	expectNone(t, ch, 200*time.Millisecond) // ten deadlines: it has passed
	close(f.settled)
	m := expect[*ContainerCreated](t, ch)
	var ab *factory.AbandonedError
	if m.Container != nil || !errors.Is(m.Err, context.DeadlineExceeded) || !errors.As(m.Err, &ab) {
		t.Fatalf("got %+v, want no container and the abandoned deadline error", m)
	}
}
