package pool

import (
	"github.com/asynkron/protoactor-go/actor"

	"github.com/stemcell-io/stemcell/actors"
)

// Memory sync: snapshots for subscribers and SnapshotRequest.

func (p *poolActor) snapshot() actors.MemorySnapshot {
	return actors.MemorySnapshot{
		Time:      p.clock.Now(),
		Total:     p.ledger.total,
		Free:      p.ledger.free(),
		Busy:      p.ledger.usage(memBusy),
		Idle:      p.ledger.usage(memIdle),
		Prewarmed: p.ledger.usage(memPrewarmed),
		Starting:  p.ledger.usage(memStarting),
		Removing:  p.ledger.usage(memRemoving),
		Buffered:  actors.Usage{Count: p.queued(), Memory: p.queuedMemory()},
	}
}

func (p *poolActor) publish(ctx actor.Context) {
	s := p.snapshot()
	p.m.observe(&s)
	for _, sub := range p.subscribers {
		c := s
		ctx.Send(sub, &c)
	}
}

func (p *poolActor) subscribe(pid *actor.PID) {
	if pid == nil {
		return
	}
	for _, s := range p.subscribers {
		if s.Equal(pid) {
			return
		}
	}
	p.subscribers = append(p.subscribers, pid)
}

func (p *poolActor) unsubscribe(pid *actor.PID) {
	for i, s := range p.subscribers {
		if s.Equal(pid) {
			p.subscribers = append(p.subscribers[:i], p.subscribers[i+1:]...)
			return
		}
	}
}
