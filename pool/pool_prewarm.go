package pool

import (
	"github.com/asynkron/protoactor-go/actor"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/factory"
)

// The pool's side of the prewarm protocol: reservations and stem cells.

func (p *poolActor) tell(ctx actor.Context, msg any) {
	if p.prewarmPID != nil {
		ctx.Send(p.prewarmPID, msg)
	}
}

func (p *poolActor) answerPrewarm(ctx actor.Context, msg any) {
	if ctx.Sender() != nil {
		ctx.Respond(msg)
		return
	}
	p.tell(ctx, msg)
}

func (p *poolActor) onReserve(ctx actor.Context, m *actors.ReserveMemory) {
	_, dup := p.reservations[m.Ref]
	// Waiting activations come first: a reservation would take the memory the
	// buffer head waits for.
	granted := p.shutdown == nil && !dup && m.Memory > 0 && p.queued() == 0 && p.ledger.fits(m.Memory)
	if granted {
		if err := p.ledger.add(memStarting, m.Memory); err != nil {
			p.log.Error().Err(err).Uint64("ref", m.Ref).Msg("reservation refused by the ledger")
			granted = false
		} else {
			p.reservations[m.Ref] = reservation{kind: m.Kind, mem: m.Memory}
		}
	}
	p.answerPrewarm(ctx, &actors.ReserveMemoryReply{Ref: m.Ref, Granted: granted})
}

func (p *poolActor) onRelease(ctx actor.Context, m *actors.ReleaseMemory) {
	r, ok := p.reservations[m.Ref]
	if !ok {
		p.log.Warn().Uint64("ref", m.Ref).Msg("ReleaseMemory for an unknown reservation ignored")
		return
	}
	delete(p.reservations, m.Ref)
	// The scheduler releases a reservation when its creation failed (the
	// factory actor answers only once the engine holds nothing of it) or
	// was never asked for: either way no container exists.
	p.memoryReturned(memStarting, r.mem, "stem-cell creation failed or never started")
	p.memoryBack(ctx)
}

func (p *poolActor) onStemCellReady(ctx actor.Context, m *actors.StemCellReady) {
	// The reserved memory moves to the stem cell's own entry: the container
	// exists, so its memory never leaves the book. Without a reservation it
	// is booked anew; without room the ledger refuses, and the only safe
	// thing is to get rid of the container at once.
	r, ok := p.reservations[m.Ref]
	if ok {
		delete(p.reservations, m.Ref)
		p.ledger.move(memStarting, memPrewarmed, r.mem)
	} else {
		p.log.Error().Uint64("ref", m.Ref).Msg("StemCellReady without a reservation")
		r = reservation{kind: m.Kind, mem: m.Memory}
		if err := p.ledger.add(memPrewarmed, r.mem); err != nil {
			p.log.Error().Err(err).Uint64("ref", m.Ref).Msg("stem cell does not fit; destroying it")
			p.destroyOrphan(m.Container)
			p.tell(ctx, &actors.StemCellRemoved{Ref: m.Ref, Replace: false})
			return
		}
	}
	e := &entry{
		kind:      m.Kind,
		mem:       r.mem,
		maxConc:   1,
		phase:     phaseStemCell,
		ref:       m.Ref,
		expires:   m.Expires,
		availTier: tierNone,
	}
	e.pid = p.spawnContainer(ctx, containerParams{
		Pool:     ctx.Self(),
		Factory:  p.factoryPID,
		Spec:     factory.ContainerSpec{Kind: m.Kind, Memory: r.mem},
		StemCell: m.Container,
		Config:   p.cfg,
		Clock:    p.clock,
		Log:      p.log.With().Str("container", m.Container.ID()).Logger(),
		Results:  p.m.results(),
		// The pool's keep-alive policy plans from the pause.
		ReportPause: true,
	})
	p.registered(e)
	p.byRef[e.ref] = e
	p.knowContainer(e, m.Container.ID())
	if p.shutdown != nil {
		p.removeContainer(ctx, e, false)
		return
	}
	p.stemCells[e.kind] = append(p.stemCells[e.kind], e)
	p.drain(ctx)
}

func (p *poolActor) onRemoveStemCell(ctx actor.Context, m *actors.RemoveStemCell) {
	e := p.byRef[m.Ref]
	switch {
	case e == nil:
		// Already gone; the scheduler has been told (taken or removed).
		p.log.Debug().Uint64("ref", m.Ref).Msg("RemoveStemCell for an unknown stem cell ignored")
	case e.phase != phaseStemCell:
		p.answerPrewarm(ctx, &actors.StemCellTaken{Ref: e.ref, Kind: e.kind, Memory: e.mem})
	case !e.removing:
		p.log.Info().Uint64("ref", m.Ref).Str("reason", m.Reason).Msg("removing stem cell")
		p.removeContainer(ctx, e, false)
	}
}

func (p *poolActor) dropStemCell(e *entry) {
	cells := p.stemCells[e.kind]
	for i, c := range cells {
		if c == e {
			cells[i] = cells[len(cells)-1]
			cells[len(cells)-1] = nil
			cells = cells[:len(cells)-1]
			break
		}
	}
	if len(cells) == 0 {
		delete(p.stemCells, e.kind)
	} else {
		p.stemCells[e.kind] = cells
	}
}
