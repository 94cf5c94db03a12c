package actors

import (
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"
)

// newTestSystem returns a quiet actor system; every actor still alive at
// the end of the test is poisoned so no goroutine outlives it.
func newTestSystem(t *testing.T) *actor.ActorSystem {
	t.Helper()
	return NewSystem(zerolog.Nop())
}

// probe forwards every user message it receives to the returned channel.
func probe(t *testing.T, sys *actor.ActorSystem) (*actor.PID, <-chan any) {
	t.Helper()
	ch := make(chan any, 256)
	pid := sys.Root.Spawn(actor.PropsFromFunc(func(c actor.Context) {
		switch c.Message().(type) {
		case actor.SystemMessage, actor.AutoReceiveMessage:
		default:
			ch <- c.Message()
		}
	}))
	t.Cleanup(func() { _ = sys.Root.PoisonFuture(pid).Wait() })
	return pid, ch
}

func expect[T any](t *testing.T, ch <-chan any) T {
	t.Helper()
	select {
	case m := <-ch:
		v, ok := m.(T)
		if !ok {
			var zero T
			t.Fatalf("got %T %+v, want %T", m, m, zero)
		}
		return v
	case <-time.After(5 * time.Second):
		var zero T
		t.Fatalf("no %T within 5s", zero)
		return zero
	}
}

func expectNone(t *testing.T, ch <-chan any, d time.Duration) {
	t.Helper()
	select {
	case m := <-ch:
		t.Fatalf("unexpected message %T %+v", m, m)
	case <-time.After(d):
	}
}
