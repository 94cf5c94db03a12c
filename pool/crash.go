package pool

import (
	"fmt"
	"runtime/debug"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/internal/protocol"
)

// Crash safety: what a panic in the pool actor's Receive leaves behind.
//
// protoactor's answer to a panic is to restart the actor with a fresh
// instance and to stop its children first. For the pool that is the wrong
// answer: the fresh instance has an empty ledger while the containers of
// the old one are still being destroyed (the budget is exceeded), and the
// callers waiting in the old queue are never answered (their reply
// processes stay registered forever). So the pool recovers in Receive
// instead, on its own goroutine, and keeps its instance and its children:
//
//   - every caller it still holds (queued, or brought by the message that
//     panicked and not yet placed or answered) is answered once with
//     ErrPoolCrashed; pending.handed tells those apart from the jobs that
//     went to a container, which answers them itself;
//   - every container it knew is removed through its container actor, which
//     lets running activations finish and answer their callers, destroys the
//     container once, and reports ContainerRemoved: memory returns to the
//     ledger then, as always. The containers' entries may be wrong after a
//     panic (an active count, a phase half changed), and removal is the one
//     thing that is right whatever state they are in;
//   - the ledger, the warm index, the idle list and the stem-cell index are
//     rebuilt from what exists: the entries (now all removing) and the
//     prewarm reservations (the scheduler still owns them).
//
// The pool then serves again: new work waits for the memory the removals
// return, or starts at once where it is free.
//
// A panic while the actor starts or stops, or a second panic inside the
// reset, is left to protoactor: there is nothing consistent to go back to.

// survive is deferred by Receive.
func (p *poolActor) survive(ctx actor.Context) {
	r := recover()
	if r == nil {
		return
	}
	msg := ctx.Message()
	switch msg.(type) {
	case *actor.Started, *actor.Stopping, *actor.Stopped, *actor.Restarting:
		panic(r)
	}
	if p.stopping {
		panic(r)
	}
	p.log.Error().Str("panic", fmt.Sprint(r)).Str("message", fmt.Sprintf("%T", msg)).Str("stack", string(debug.Stack())).
		Int("containers", len(p.entries)).Int("queued", p.queued()).
		Msg("pool actor panicked: answering the callers it held and removing its containers")
	p.m.crashes.Inc()
	if p.inHand == nil {
		// The panic came before the handler took the job its message brings.
		p.inHand = carried(ctx)
	}
	p.reset(ctx, fmt.Errorf("%w: %v", ErrPoolCrashed, r))
	if p.hooks.afterStep != nil {
		p.hooks.afterStep(p)
	}
}

// carried is the job a Run or a Reschedule brings, nil for other messages.
func carried(ctx actor.Context) *pending {
	switch m := ctx.Message().(type) {
	case *actors.Run:
		return &pending{act: m.Activation, replyTo: ctx.Sender()}
	case *protocol.Reschedule:
		return &pending{act: m.Job.Activation, replyTo: m.Job.ReplyTo}
	}
	return nil
}

// reset answers the callers the pool holds with cause and rebuilds an empty
// but consistent pool whose every container is on its way out.
func (p *poolActor) reset(ctx actor.Context, cause error) {
	held := p.fair.all()
	for p.buf.len() > 0 {
		held = append(held, p.buf.popHead())
	}
	if p.inHand != nil {
		held = append(held, p.inHand)
	}
	p.fair = newFairQueue()
	p.buf = buffer{}
	p.inHand = nil
	p.ringScratch, p.promisedScratch, p.aheadScratch = nil, nil, nil
	for _, job := range held {
		// A job can be both in the queue and handed (placed, not yet
		// popped), or in hand and queued: handed makes the answer one.
		if job.handed {
			continue
		}
		p.reject(ctx, job, "crashed", fmt.Errorf("activation %s: %w", job.act.ID, cause))
	}

	p.byIdent = map[actors.Identity]*identGroup{}
	// The actions' policy statistics stay, but what ran is unknown now:
	// the jobs still running report JobDone, which cannot count below 0.
	for _, a := range p.pols.actions {
		a.st.Running = 0
	}
	for _, e := range p.pols.preloaded {
		e.preloaded = false
	}
	p.pols.preloaded, p.pols.preloadedMem = nil, 0
	p.stemCells = map[string][]*entry{}
	p.byRef = map[uint64]*entry{}
	p.idle = lruList{}
	// A hold check that was due may never have been scheduled.
	p.holdCheckDue = false
	l := newLedger(p.ledger.total)
	for _, r := range p.reservations {
		l.recount(memStarting, r.mem)
	}
	for _, e := range p.entries {
		e.removing = true
		e.group = nil
		e.availTier, e.availPos = tierNone, -1
		e.lru = lruLink{}
		if e.ref != 0 {
			p.byRef[e.ref] = e
		}
		l.recount(memRemoving, e.mem)
		// Remove is idempotent in the container actor: one sent before the
		// panic does no harm.
		ctx.Send(e.pid, &protocol.Remove{})
	}
	p.ledger = l
	if err := p.ledger.check(); err != nil {
		p.log.Error().Err(err).Msg("ledger rebuilt after the panic is inconsistent")
	}
	p.stopStrays(ctx)
	p.tell(ctx, &actors.CapacityChanged{})
	p.checkShutdown(ctx)
}

// stopStrays stops the container actors the pool no longer knows: one whose
// ContainerRemoved was handled when the panic came before its poison pill.
// Its container is gone already.
func (p *poolActor) stopStrays(ctx actor.Context) {
	for _, c := range ctx.Children() {
		if c.Equal(p.factoryPID) || c.Equal(p.prewarmPID) || p.entries[c.Id] != nil {
			continue
		}
		p.log.Warn().Str("container", c.Id).Msg("stopping a container actor the pool no longer knows")
		ctx.Poison(c)
	}
}
