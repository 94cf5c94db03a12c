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
		Warm:      p.warmIdentities(),
	}
}

// warmIdentities lists each identity with an idle container once. The idle
// list is short (it holds only containers with nothing running), and a
// snapshot is taken once per memory-sync-interval or on request, never
// per activation.
func (p *poolActor) warmIdentities() []actors.Identity {
	var out []actors.Identity
	seen := map[actors.Identity]bool{}
	for e := p.idle.front; e != nil; e = e.lru.next {
		if !seen[e.ident] {
			seen[e.ident] = true
			out = append(out, e.ident)
		}
	}
	return out
}

func (p *poolActor) publish(ctx actor.Context) {
	s := p.snapshot()
	p.m.observe(&s)
	for _, sub := range p.subscribers {
		c := s
		ctx.Send(sub, &c)
	}
}

// subscribe adds pid and watches it: a subscriber that stops without
// unsubscribing is dropped on its Terminated, rather than sent a dead
// letter every tick for the pool's whole life. A PID that is already gone
// is answered with Terminated by protoactor's dead-letter process, so it is
// dropped as well.
func (p *poolActor) subscribe(ctx actor.Context, pid *actor.PID) {
	if pid == nil {
		return
	}
	for _, s := range p.subscribers {
		if s.Equal(pid) {
			return
		}
	}
	p.subscribers = append(p.subscribers, pid)
	ctx.Watch(pid)
}

func (p *poolActor) unsubscribe(ctx actor.Context, pid *actor.PID) {
	if p.dropSubscriber(pid) {
		ctx.Unwatch(pid)
	}
}

// dropSubscriber removes pid from the subscribers and reports whether it was
// one.
func (p *poolActor) dropSubscriber(pid *actor.PID) bool {
	for i, s := range p.subscribers {
		if s.Equal(pid) {
			p.subscribers = append(p.subscribers[:i], p.subscribers[i+1:]...)
			return true
		}
	}
	return false
}
