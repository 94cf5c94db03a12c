package docker

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/actors"
)

// A creation whose runtime never listens passes the factory actor's
// deadline: the engine made and started the container, and the answer
// (which is what gives the pool's memory back) comes only once the engine
// no longer has it, with an error that names the deadline.
func TestCreatePastItsDeadlineIsRemovedBeforeTheAnswer(t *testing.T) {
	needEngine(t)
	cfg := testConfig(t)
	f := newTestFactory(t, cfg)
	const deadline = 4 * time.Second

	create, answers := factoryActor(t, f, actors.WithCreateDeadline(deadline))

	spec := specFor(f, testEnv.imageMute, false, nil)
	start := time.Now()
	create(&actors.CreateContainer{Ref: 1, Spec: spec})
	mine := map[string]string{LabelInvoker: f.invoker}
	seen := false // the engine held the container while it was being created
	var m *actors.ContainerCreated
	giveUp := time.After(time.Minute)
	for m == nil {
		select {
		case m = <-answers:
			continue
		case <-giveUp:
			t.Fatal("no answer within a minute")
		case <-time.After(100 * time.Millisecond): // observation pace, not synchronisation
		}
		if list, err := testEnv.eng.List(testCtx(t), mine, ""); err == nil && len(list) > 0 {
			seen = true
		}
	}
	took := time.Since(start)
	left, err := testEnv.eng.List(testCtx(t), mine, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Fatalf("answered while the engine still holds %v", left)
	}
	if !seen {
		t.Fatal("the engine never held the container: the deadline passed before the creation reached it, and the test shows nothing")
	}
	if m.Container != nil || !errors.Is(m.Err, context.DeadlineExceeded) || !strings.Contains(m.Err.Error(), "past its deadline of 4s") {
		t.Fatalf("answer %+v, want no container and an error naming the 4s deadline", m)
	}
	if took < deadline || took > deadline+cfg.Docker.Timeouts.Rm {
		t.Fatalf("answered after %v, want between the deadline (%v) and it plus docker.timeouts.rm", took, deadline)
	}
}

// The deadline passes while the engine's create call itself is held: the
// factory gives up on the call but lets it finish in the background, and
// the factory actor answers only once that call has made the container and
// removed it again.
func TestCreateAbandonedInTheEngineIsAnsweredAfterRemoval(t *testing.T) {
	needEngine(t)
	cfg := testConfig(t)
	f := newTestFactory(t, cfg)
	started, gate := make(chan struct{}, 1), make(chan struct{})
	var openGate sync.Once
	defer openGate.Do(func() { close(gate) }) // a failed test must not leave creates hanging
	fe := &faultyEngine{engine: f.eng, createStarted: started, createGate: gate}
	f.eng = fe
	const deadline = 200 * time.Millisecond

	create, answers := factoryActor(t, f, actors.WithCreateDeadline(deadline))

	create(&actors.CreateContainer{Ref: 1, Spec: specFor(f, testEnv.fakeImage, false, nil)})
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		t.Fatal("the create never reached the engine")
	}
	select {
	case m := <-answers:
		t.Fatalf("answered %+v while the engine's create call was still running", m)
	case <-time.After(5 * deadline): // well past the deadline
	}
	openGate.Do(func() { close(gate) }) // the engine now makes the container
	var m *actors.ContainerCreated
	select {
	case m = <-answers:
	case <-time.After(time.Minute):
		t.Fatal("no answer within a minute of the engine's create")
	}
	fe.mu.Lock()
	removed := slices.Clone(fe.removed)
	fe.mu.Unlock()
	if len(removed) != 1 {
		t.Fatalf("removed %v when the answer came, want the one container the abandoned create made", removed)
	}
	left, err := testEnv.eng.List(testCtx(t), map[string]string{LabelInvoker: f.invoker}, "")
	if err != nil || len(left) != 0 {
		t.Fatalf("answered while the engine holds %v (%v)", left, err)
	}
	if m.Container != nil || !errors.Is(m.Err, context.DeadlineExceeded) {
		t.Fatalf("answer %+v, want no container and context.DeadlineExceeded", m)
	}
}

// factoryActor runs a factory actor on f until the test ends; create sends
// it a request whose answer arrives on answers.
func factoryActor(t *testing.T, f *Factory, opts ...actors.FactoryOption) (create func(*actors.CreateContainer), answers <-chan *actors.ContainerCreated) {
	t.Helper()
	sys := actors.NewSystem(zerolog.Nop())
	fpid := sys.Root.Spawn(actors.NewFactoryProps(f, zerolog.Nop(), opts...))
	ch := make(chan *actors.ContainerCreated, 8)
	replyTo := sys.Root.Spawn(actor.PropsFromFunc(func(c actor.Context) {
		if m, ok := c.Message().(*actors.ContainerCreated); ok {
			ch <- m
		}
	}))
	t.Cleanup(func() {
		_ = sys.Root.PoisonFuture(fpid).Wait()
		_ = sys.Root.PoisonFuture(replyTo).Wait()
	})
	return func(m *actors.CreateContainer) { sys.Root.RequestWithCustomSender(fpid, m, replyTo) }, ch
}
