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
	cctx, f, log, spec := a.ctx, a.f, a.log, m.Spec
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		c, err := f.CreateContainer(cctx, spec)
		if err != nil {
			err = fmt.Errorf("create container %q (image %s): %w", spec.Name, spec.Image, err)
			log.Warn().Err(err).Uint64("ref", m.Ref).Msg("container creation failed")
		}
		root.Send(sender, &ContainerCreated{Ref: m.Ref, Container: c, Err: err})
	}()
}
