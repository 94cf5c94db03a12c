package actors

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/factory"
)

// Bounds of the factory actor when no option sets them.
const (
	// DefaultCreateDeadline bounds a whole creation: docker.timeouts.pull +
	// run + inspect at their defaults.
	DefaultCreateDeadline = 12 * time.Minute
	// DefaultRemoveTimeout bounds the removal of a container whose creation
	// was given up (docker.timeouts.rm's default).
	DefaultRemoveTimeout = time.Minute
)

// FactoryOption sets a bound of the factory actor.
type FactoryOption func(*factoryActor)

// WithCreateDeadline bounds each creation as a whole, from the moment the
// actor takes the request: the wait for a start slot, a pull, create and
// start, and the wait for the runtime. d <= 0 keeps DefaultCreateDeadline.
func WithCreateDeadline(d time.Duration) FactoryOption {
	return func(a *factoryActor) {
		if d > 0 {
			a.deadline = d
		}
	}
}

// WithRemoveTimeout bounds the removal of a container the actor no longer
// hands out (its creation passed the deadline, or creations were stopped).
// d <= 0 keeps DefaultRemoveTimeout.
func WithRemoveTimeout(d time.Duration) FactoryOption {
	return func(a *factoryActor) {
		if d > 0 {
			a.rmTimeout = d
		}
	}
}

// NewFactoryProps returns the props of the factory actor, which wraps f.
// On *CreateContainer it calls f.CreateContainer on a goroutine of its own
// and answers the sender with *ContainerCreated, so a creation that takes
// seconds never holds up the mailbox. Parallelism is bounded inside the
// factory (docker.parallel-runs), not here. A request without a sender is
// refused (logged), because nobody could take ownership of the container.
//
// Each creation has a deadline (WithCreateDeadline). Past it the creation
// is cancelled; a container the factory still produced is removed before
// the sender is answered, with an error that says so; one the factory
// reports abandoned (*factory.AbandonedError: an engine call runs on and
// removes what it makes) is answered once that call has settled. The
// sender's memory for the container therefore returns only once the
// engine has none.
//
// *StopCreating makes the actor refuse every later request, cancel the
// creations in flight and answer *CreatingStopped once each has ended and
// any container they produced is removed: after that answer the actor
// creates nothing more, so a cleanup that follows leaves nothing behind.
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
func NewFactoryProps(f factory.ContainerFactory, log zerolog.Logger, opts ...FactoryOption) *actor.Props {
	return actor.PropsFromProducer(func() actor.Actor {
		a := &factoryActor{f: f, log: log.With().Str("component", "factory").Logger(),
			deadline: DefaultCreateDeadline, rmTimeout: DefaultRemoveTimeout}
		for _, o := range opts {
			o(a)
		}
		return a
	})
}

type factoryActor struct {
	f         factory.ContainerFactory
	log       zerolog.Logger
	deadline  time.Duration
	rmTimeout time.Duration
	ctx       context.Context
	cancel    context.CancelFunc
	// createCtx is the parent of every creation's context; StopCreating
	// cancels it (ctx, which the watch follows, lives on).
	createCtx    context.Context
	cancelCreate context.CancelFunc

	// inFlight counts creations whose goroutine has not reported
	// creationEnded; stopped is set by StopCreating, whose senders wait in
	// stopWaiters until inFlight is 0.
	inFlight    int
	stopped     bool
	stopWaiters []*actor.PID
}

// creationEnded tells the actor one creating goroutine has answered its
// sender (and removed what it would not hand out).
type creationEnded struct{}

// A creation that ends after the actor stopped is an expected dead letter.
func (*creationEnded) IgnoreDeadLetterLogging() {}

func (a *factoryActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		a.ctx, a.cancel = context.WithCancel(context.Background())
		a.createCtx, a.cancelCreate = context.WithCancel(a.ctx)
		a.watch(ctx)
	case *actor.Stopping, *actor.Restarting:
		a.cancel()
	case *CreateContainer:
		a.create(ctx, m)
	case *creationEnded:
		a.inFlight--
		a.answerStopWaiters(ctx)
	case *StopCreating:
		a.stopCreating(ctx)
	}
}

func (a *factoryActor) create(ctx actor.Context, m *CreateContainer) {
	// Sender and root are read here: ctx belongs to the actor goroutine
	// and must not be touched from the creating goroutine.
	sender, root, self := ctx.Sender(), ctx.ActorSystem().Root, ctx.Self()
	if sender == nil {
		a.log.Error().Uint64("ref", m.Ref).Str("name", m.Spec.Name).
			Msg("CreateContainer without a sender refused: the container would have no owner")
		return
	}
	if a.stopped {
		ctx.Send(sender, &ContainerCreated{Ref: m.Ref,
			Err: fmt.Errorf("create container %q: %w", m.Spec.Name, ErrCreationsStopped)})
		return
	}
	// The deadline runs from now, so it covers the wait for a start slot
	// that reserve takes below.
	cctx, cancel := context.WithTimeout(a.createCtx, a.deadline)
	log, spec, deadline, rmTimeout := a.log, m.Spec, a.deadline, a.rmTimeout
	create := a.reserve(spec)
	a.inFlight++
	go func() {
		defer cancel()
		c, err := create(cctx)
		awaitSettled(err, deadline+rmTimeout, log)
		if err == nil && cctx.Err() != nil && c != nil {
			// The factory finished after the creation was given up: nobody
			// may use the container, and its memory must not return
			// before the engine let it go.
			err = removeLate(c, cctx.Err(), rmTimeout)
			c = nil
		}
		if err != nil {
			if errors.Is(cctx.Err(), context.DeadlineExceeded) {
				// Both wrapped: the factory's own error may not say
				// that the deadline ended it.
				err = fmt.Errorf("create container %q (image %s): past its deadline of %s (%w): %w", spec.Name, spec.Image, deadline, cctx.Err(), err)
			} else {
				err = fmt.Errorf("create container %q (image %s): %w", spec.Name, spec.Image, err)
			}
			log.Warn().Err(err).Uint64("ref", m.Ref).Msg("container creation failed")
		}
		root.Send(sender, &ContainerCreated{Ref: m.Ref, Container: c, Err: err})
		root.Send(self, &creationEnded{})
	}()
}

// awaitSettled waits, at most bound, until an engine call that err says
// was abandoned (the creation's context ended during it) has ended and
// removed what it made, so that the answer, which gives the sender's memory
// back, does not come while the engine may still hold the container.
func awaitSettled(err error, bound time.Duration, log zerolog.Logger) {
	var ab *factory.AbandonedError
	if !errors.As(err, &ab) || ab.Settled == nil {
		return
	}
	t := time.NewTimer(bound)
	defer t.Stop()
	select {
	case <-ab.Settled:
	case <-t.C:
		log.Warn().Err(err).Dur("waited", bound).Msg("an abandoned engine call is still running; answering anyway")
	}
}

// removeLate destroys a container whose creation ended with cause
// (deadline or stop) and returns the error the sender is answered with.
func removeLate(c factory.Container, cause error, rmTimeout time.Duration) error {
	dctx, cancel := context.WithTimeout(context.Background(), rmTimeout)
	defer cancel()
	if err := c.Destroy(dctx); err != nil {
		return &factory.StartupError{Msg: "Failed to provision resources to run the action.",
			Err: fmt.Errorf("container %s came after the creation was given up (%w); removing it failed: %w", c.ID(), cause, err)}
	}
	return &factory.StartupError{Msg: "Failed to provision resources to run the action.",
		Err: fmt.Errorf("container %s came after the creation was given up and was removed: %w", c.ID(), cause)}
}

// stopCreating refuses later creations and cancels those in flight; the
// sender is answered when the last one has ended.
func (a *factoryActor) stopCreating(ctx actor.Context) {
	if !a.stopped {
		a.stopped = true
		a.log.Info().Int("in_flight", a.inFlight).Msg("creations stopped: cancelling those in flight")
		a.cancelCreate()
	}
	if s := ctx.Sender(); s != nil {
		a.stopWaiters = append(a.stopWaiters, s)
	}
	a.answerStopWaiters(ctx)
}

func (a *factoryActor) answerStopWaiters(ctx actor.Context) {
	if !a.stopped || a.inFlight > 0 {
		return
	}
	for _, w := range a.stopWaiters {
		ctx.Send(w, &CreatingStopped{})
	}
	a.stopWaiters = nil
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
