package actors

import (
	"context"
	"fmt"
	"sync"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/factory"
)

// NewFactoryProps returns the props of the factory actor, which wraps f.
// On *CreateContainer it calls f.CreateContainer on a goroutine of its own
// and answers the sender with *ContainerCreated, so a creation that takes
// seconds never holds up the mailbox. Parallelism is bounded inside the
// factory (docker.parallel-runs), not here. A request without a sender is
// refused (logged), because nobody could take ownership of the container.
//
// When f is a factory.OrderedFactory, the actor reserves each creation's
// place on its own goroutine, in message order, before handing it to the
// creating goroutine: the order the pool decided is the order creations
// get past the factory's bound. Goroutines started one after another run
// in no set order (Go's scheduler tends to run the newest first), so
// without the reservation two queued cold starts reach the engine in
// whatever order their goroutines happen to run.
//
// Stopping the actor cancels the contexts of creations in flight; their
// answers still go to the senders.
func NewFactoryProps(f factory.ContainerFactory, log zerolog.Logger) *actor.Props {
	return actor.PropsFromProducer(func() actor.Actor {
		return &factoryActor{f: f, log: log.With().Str("component", "factory").Logger()}
	})
}

type factoryActor struct {
	f      factory.ContainerFactory
	log    zerolog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	wg     *sync.WaitGroup
}

func (a *factoryActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		a.ctx, a.cancel = context.WithCancel(context.Background())
		a.wg = &sync.WaitGroup{}
		a.watch(ctx)
	case *actor.Stopping, *actor.Restarting:
		a.cancel()
	case *CreateContainer:
		a.create(ctx, m)
	}
}

func (a *factoryActor) create(ctx actor.Context, m *CreateContainer) {
	// Sender and root are read here: ctx belongs to the actor goroutine
	// and must not be touched from the creating goroutine.
	sender, root := ctx.Sender(), ctx.ActorSystem().Root
	if sender == nil {
		a.log.Error().Uint64("ref", m.Ref).Str("name", m.Spec.Name).
			Msg("CreateContainer without a sender refused: the container would have no owner")
		return
	}
	cctx, log, spec := a.ctx, a.log, m.Spec
	create := a.reserve(spec)
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		c, err := create(cctx)
		if err != nil {
			err = fmt.Errorf("create container %q (image %s): %w", spec.Name, spec.Image, err)
			log.Warn().Err(err).Uint64("ref", m.Ref).Msg("container creation failed")
		}
		root.Send(sender, &ContainerCreated{Ref: m.Ref, Container: c, Err: err})
	}()
}

// watch follows the engine's changes to the factory's containers when the
// factory offers it, and forwards each as a *factory.EngineEvent to the
// parent (the pool), which routes it to the container's actor. It ends
// when the actor stops.
func (a *factoryActor) watch(ctx actor.Context) {
	w, ok := a.f.(factory.Watcher)
	parent := ctx.Parent()
	if !ok || parent == nil {
		return
	}
	root, wctx := ctx.ActorSystem().Root, a.ctx
	go w.Watch(wctx, func(ev factory.EngineEvent) { root.Send(parent, &ev) })
}

// reserve takes spec's place in the factory's start order now, on the
// actor goroutine, when the factory keeps one.
func (a *factoryActor) reserve(spec factory.ContainerSpec) func(context.Context) (factory.Container, error) {
	if of, ok := a.f.(factory.OrderedFactory); ok {
		return of.ReserveCreate(spec)
	}
	f := a.f
	return func(ctx context.Context) (factory.Container, error) { return f.CreateContainer(ctx, spec) }
}
