package pool

import (
	"container/list"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
)

// pending is an accepted activation not yet placed on a container.
type pending struct {
	act      actors.Activation
	replyTo  *actor.PID
	evicted  bool // containers were evicted for it: its cold start is a recreation
	ident    actors.Identity
	hasIdent bool
	holder   bool // promised memory in the fair queue
	held     bool // waits for a container of its own action (placeHold): no promise
	// handed: the pool no longer holds the caller, because the job went to
	// a container (which answers it) or was answered. After a panic the
	// pool answers exactly the jobs it still holds (crash.go).
	handed bool
}

func (p *pending) memory() config.ByteSize { return p.act.Action.Limits.Memory }

// identity is the activation's identity, built once: placement and the
// eviction look-ahead ask for it again on every try.
func (p *pending) identity() actors.Identity {
	if !p.hasIdent {
		p.ident, p.hasIdent = p.act.Identity(), true
	}
	return p.ident
}

// buffer is the FIFO of activations waiting for capacity. Only its head is
// ever tried, so a large job at the head holds back smaller ones behind it
// (DESIGN invariant 3).
type buffer struct {
	l   list.List
	mem config.ByteSize
}

func (b *buffer) len() int { return b.l.Len() }

func (b *buffer) pushBack(p *pending) {
	b.l.PushBack(p)
	b.mem += p.memory()
}

// pushFront puts a job bounced by a container back where its arrival puts
// it: ahead of everything that arrived after it, which is everything that
// was still waiting when it was placed (reference §11.7: OpenWhisk sent it
// to the tail). Jobs bounced together keep their order among themselves;
// the walk stops at the first later arrival, so it is short.
func (b *buffer) pushFront(p *pending) {
	e := b.l.Front()
	for e != nil && e.Value.(*pending).act.Arrived.Before(p.act.Arrived) {
		e = e.Next()
	}
	if e == nil {
		b.l.PushBack(p)
	} else {
		b.l.InsertBefore(p, e)
	}
	b.mem += p.memory()
}

func (b *buffer) head() *pending {
	if e := b.l.Front(); e != nil {
		return e.Value.(*pending)
	}
	return nil
}

func (b *buffer) popHead() *pending {
	e := b.l.Front()
	if e == nil {
		return nil
	}
	p := b.l.Remove(e).(*pending)
	b.mem -= p.memory()
	return p
}
