package actors

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/factory/fake"
)

// StopCreating cancels the creations in flight, answers CreatingStopped
// only after each of them was answered, and refuses later ones without
// calling the factory.
func TestFactoryActorStopCreatingCancelsInFlight(t *testing.T) {
	tests := []struct{ inFlight int }{{0}, {1}, {3}}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d in flight", tc.inFlight), func(t *testing.T) {
			sys := newTestSystem(t)
			f := fake.New(fake.Options{})
			g := f.Gate(fake.OpCreate)
			fpid := sys.Root.Spawn(NewFactoryProps(f, zerolog.Nop()))
			t.Cleanup(func() { _ = sys.Root.PoisonFuture(fpid).Wait() })
			p, ch := probe(t, sys)
			for i := range tc.inFlight {
				sys.Root.RequestWithCustomSender(fpid, &CreateContainer{Ref: uint64(i), Spec: spec("stem")}, p)
				<-g.Arrived()
			}

			sys.Root.RequestWithCustomSender(fpid, &StopCreating{}, p)
			for range tc.inFlight {
				m := expect[*ContainerCreated](t, ch)
				if m.Container != nil || !errors.Is(m.Err, context.Canceled) {
					t.Fatalf("in-flight creation answered %+v, want no container and context.Canceled", m)
				}
			}
			expect[*CreatingStopped](t, ch)

			calls := f.Calls(fake.OpCreate)
			sys.Root.RequestWithCustomSender(fpid, &CreateContainer{Ref: 99, Spec: spec("after")}, p)
			m := expect[*ContainerCreated](t, ch)
			if m.Ref != 99 || m.Container != nil || !errors.Is(m.Err, ErrCreationsStopped) {
				t.Fatalf("creation after the stop answered %+v, want ErrCreationsStopped", m)
			}
			if got := f.Calls(fake.OpCreate); got != calls {
				t.Fatalf("the factory got %d creations after the stop", got-calls)
			}
			// A second StopCreating (a second shutdown waiter) is answered too.
			sys.Root.RequestWithCustomSender(fpid, &StopCreating{}, p)
			expect[*CreatingStopped](t, ch)
			if n := len(f.Live()); n != 0 {
				t.Fatalf("%d containers live after the stop", n)
			}
		})
	}
}

// A creation the engine finishes after the stop is removed before
// CreatingStopped: after that answer the engine holds nothing the actor
// made, so a cleanup that follows cannot miss a container.
func TestFactoryActorStopCreatingWaitsForLateContainers(t *testing.T) {
	sys := newTestSystem(t)
	f := newLateFactory(fake.Options{})
	fpid := sys.Root.Spawn(NewFactoryProps(f, zerolog.Nop()))
	t.Cleanup(func() { _ = sys.Root.PoisonFuture(fpid).Wait() })
	p, ch := probe(t, sys)
	sys.Root.RequestWithCustomSender(fpid, &CreateContainer{Ref: 1, Spec: spec("stem")}, p)
	<-f.entered

	sys.Root.RequestWithCustomSender(fpid, &StopCreating{}, p)
	// The creation is still in the engine's hands: no answer may come.
	expectNone(t, ch, 50*time.Millisecond)
	close(f.proceed)
	m := expect[*ContainerCreated](t, ch)
	if m.Container != nil || !errors.Is(m.Err, context.Canceled) || !strings.Contains(m.Err.Error(), "was removed") {
		t.Fatalf("got %+v, want no container and an error saying it was removed", m)
	}
	expect[*CreatingStopped](t, ch)
	if n, mem := len(f.Live()), f.LiveMemory(); n != 0 || mem != 0 {
		t.Fatalf("after CreatingStopped the engine holds %d containers (%d B)", n, mem)
	}
	if got := len(f.Created()); got != 1 {
		t.Fatalf("created %d containers, want the 1 late one", got)
	}
}
