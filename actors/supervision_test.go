package actors

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"
)

// crashChild keeps a counter to show its state is rebuilt by a restart, and
// a pointer into a cell to show what its producer keeps across restarts.
type crashChild struct {
	count int
	cell  *int
	out   chan<- any
}

func (c *crashChild) Receive(ctx actor.Context) {
	switch ctx.Message().(type) {
	case *actor.Started:
		*c.cell++
		c.out <- [2]int{c.count, *c.cell}
	case *actor.Restarting:
		c.out <- "restarting"
	case string:
		c.count++
		panic("crash")
	}
}

// parent spawns one child under ContainerSupervisor and reports when that
// child terminates, the way the pool watches its container actors.
func TestContainerSupervisorRestartsThenStops(t *testing.T) {
	sys := newTestSystem(t)
	out := make(chan any, 64)
	childPID := make(chan *actor.PID, 1)
	parent := sys.Root.Spawn(actor.PropsFromFunc(func(ctx actor.Context) {
		switch m := ctx.Message().(type) {
		case *actor.Started:
			cell := 0
			childPID <- ctx.Spawn(actor.PropsFromProducer(func() actor.Actor {
				return &crashChild{cell: &cell, out: out}
			}))
		case *actor.Terminated:
			out <- m
		}
	}, actor.WithSupervisor(ContainerSupervisor())))
	t.Cleanup(func() { _ = sys.Root.PoisonFuture(parent).Wait() })
	child := <-childPID
	if got := expect[[2]int](t, out); got != [2]int{0, 1} {
		t.Fatalf("first start %v", got)
	}
	for i := 1; i <= containerMaxRestarts; i++ {
		sys.Root.Send(child, "boom")
		expect[string](t, out)
		// Fresh instance (count 0), same cell, same PID.
		if got := expect[[2]int](t, out); got != [2]int{0, i + 1} {
			t.Fatalf("restart %d: %v", i, got)
		}
	}
	sys.Root.Send(child, "boom")
	term := expect[*actor.Terminated](t, out)
	if !term.Who.Equal(child) {
		t.Fatalf("terminated %v, want %v", term.Who, child)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestNewSystemLogsThroughZerolog(t *testing.T) {
	var buf syncBuffer
	sys := NewSystem(zerolog.New(&buf))
	// Subscribers run in subscription order, so this one sees the event after
	// NewSystem's own subscriber has logged it.
	crashed := make(chan struct{}, 1)
	sys.EventStream.Subscribe(func(evt any) {
		if _, ok := evt.(*actor.SupervisorEvent); ok {
			crashed <- struct{}{}
		}
	})
	pid := sys.Root.Spawn(actor.PropsFromFunc(func(ctx actor.Context) {
		if _, ok := ctx.Message().(string); ok {
			panic("kaboom")
		}
	}))
	sys.Root.Send(pid, "x")
	select {
	case <-crashed:
	case <-time.After(5 * time.Second):
		t.Fatal("no supervisor event within 5s")
	}
	_ = sys.Root.PoisonFuture(pid).Wait()
	out := buf.String()
	for _, want := range []string{`"component":"protoactor"`, `"message":"actor system started"`, `"reason":"kaboom"`, `"level":"warn"`, `"message":"actor crashed"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
}
