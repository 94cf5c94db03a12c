package pool

import (
	"cmp"
	"slices"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
)

// Placement under the fair queue (see queue.go). Every change of capacity
// runs drainFair: promised jobs first, in promise order, each within the
// memory left after those ahead of it; then heads that can start in memory
// nobody was promised, one per namespace in turn; then new promises and the
// evictions they need.

// runFair places a new activation at once when nothing of its identity
// waits and it can start now; otherwise it queues it. It reports whether
// the pool accepted the activation (placed or queued it).
func (p *poolActor) runFair(ctx actor.Context, job *pending) bool {
	if !p.fair.waiting(job.identity()) {
		switch p.tryPlace(ctx, job, p.unpromised()) {
		case placeReject:
			return false
		case placeWarm, placeStemCell, placeCold:
			return true
		}
	}
	if !p.admitToQueue(ctx, job) {
		return false
	}
	p.fair.pushBack(job)
	switch head := p.fair.byIdent[job.identity()].head(); {
	case head == job:
		p.arrange(ctx)
	case head.held:
		// One more waiting may tip the head from waiting for its
		// action's containers to starting one.
		p.drainFair(ctx)
	}
	return true
}

// unpromised is the free memory that no waiting job was promised.
func (p *poolActor) unpromised() config.ByteSize {
	return p.ledger.free() - p.fair.promised
}

func (p *poolActor) drainFair(ctx actor.Context) {
	if p.fair.len() == 0 {
		return
	}
	p.placePromised(ctx)
	p.placeAhead(ctx)
	if p.fair.len() == 0 {
		// Reservations were refused while work waited.
		p.tell(ctx, &actors.CapacityChanged{})
		return
	}
	p.arrange(ctx)
}

// placePromised places the promised jobs that can start, in promise order:
// each may take the free memory that the jobs promised before it do not
// need, so memory coming back reaches them in order.
func (p *poolActor) placePromised(ctx actor.Context) {
	f := &p.fair
	order := f.promiseOrder(p.promisedScratch[:0])
	var setAside config.ByteSize
	for _, job := range order {
		switch p.tryPlace(ctx, job, p.ledger.free()-setAside) {
		case placeEvict, placeWait:
			setAside += job.memory()
		case placeHold:
			// Its action's containers will serve it: it needs no memory.
			f.unpromise(job)
		default:
			f.popHead(f.byIdent[job.identity()])
		}
	}
	clear(order)
	p.promisedScratch = order[:0]
}

// placeAhead places the heads that can start now without promised memory:
// warm, on a stem cell, or in a new container that fits what nobody was
// promised. Namespaces take turns, one placement each, starting from a
// different one every time, so a namespace with many startable heads cannot
// use up the memory before another's turn. A head that cannot start is not
// tried again in this round: the memory only shrinks as the round goes.
func (p *poolActor) placeAhead(ctx actor.Context) {
	f := &p.fair
	p.gen++
	ring := p.ringScratch[:0]
	if n := len(f.ring); n > 0 {
		start := f.next % n
		for i := range n {
			ring = append(ring, f.ring[(start+i)%n])
		}
		f.next = (start + 1) % n
	}
	for placed := true; placed; {
		placed = false
		for _, ns := range ring {
			if ns.blocked != p.gen && p.placeOneAhead(ctx, ns) {
				placed = true
			}
		}
	}
	clear(ring)
	p.ringScratch = ring[:0]
}

// placeOneAhead places one head of ns that can start now, if any; it marks
// ns blocked for this round when none can.
func (p *poolActor) placeOneAhead(ctx actor.Context, ns *nsQueue) bool {
	f := &p.fair
	for i := 0; i < len(ns.actions); i++ {
		q := ns.actions[i]
		if q.blocked == p.gen || q.head().holder {
			continue
		}
		if p.tryPlace(ctx, q.head(), p.unpromised()).waits() {
			q.blocked = p.gen
			continue
		}
		f.popHead(q)
		return true
	}
	ns.blocked = p.gen
	return false
}

// arrange keeps the promises fair and their evictions under way: it takes
// back promises above a namespace's share, promises the waiting heads
// (namespaces in turn, one promise each per pass, within their share), and
// plans the evictions the promised jobs need.
func (p *poolActor) arrange(ctx actor.Context) {
	f := &p.fair
	total := p.ledger.total
	f.trimPromises(total)
	for granted := true; granted; {
		granted = false
		for _, ns := range f.ring {
			for _, q := range ns.actions {
				h := q.head()
				if h.holder || h.held {
					continue
				}
				if f.mayPromise(ns, h.memory(), total) {
					f.promise(h)
					granted = true
				}
				break
			}
		}
	}
	if f.promised > 0 {
		p.evictForPromised(ctx)
	}
}

// evictForPromised starts the evictions that planAhead finds for the
// promised jobs, in promise order.
func (p *poolActor) evictForPromised(ctx actor.Context) {
	order := p.fair.promiseOrder(p.promisedScratch[:0])
	jobs := p.aheadScratch[:0]
	for i, h := range order {
		need := h.memory()
		if i > 0 {
			need = p.aheadNeed(h, order[:i])
		}
		jobs = append(jobs, aheadJob[actors.Identity]{Need: need, Ident: h.identity()})
	}
	cells, cellMem := p.reclaimableStemCells(order)
	victims, forJob := planAhead(p.ledger.free()+p.ledger.mem[memRemoving], p.ledger.mem[memIdle]+p.pols.preloadedMem+cellMem, jobs,
		p.evictionOrder(cells), func(e *entry) config.ByteSize { return e.mem }, func(e *entry) actors.Identity { return e.ident })
	for i, e := range victims {
		p.evict(ctx, e)
		order[forJob[i]].evicted = true
	}
	clear(order)
	p.promisedScratch, p.aheadScratch = order[:0], jobs[:0]
}

// reclaimableStemCells is the ready stem cells that no promised job could
// take, oldest first, and their memory. When idle warm containers do not
// cover a promised job, these go next: stock kept for demand that may come
// gives way to demand that waits. Otherwise a stock that fills the memory
// would hold off an action of another kind or size for good. The prewarm
// scheduler backfills it once nothing waits.
func (p *poolActor) reclaimableStemCells(promised []*pending) ([]*entry, config.ByteSize) {
	if p.ledger.mem[memPrewarmed] == 0 {
		return nil, 0
	}
	var cells []*entry
	var mem config.ByteSize
	for _, kindCells := range p.stemCells {
		for _, e := range kindCells {
			if !p.suitsAny(e, promised) {
				cells = append(cells, e)
				mem += e.mem
			}
		}
	}
	slices.SortFunc(cells, func(a, b *entry) int { return cmp.Compare(a.ref, b.ref) })
	return cells, mem
}

// suitsAny reports whether one of jobs could start on the stem cell e.
func (p *poolActor) suitsAny(e *entry, jobs []*pending) bool {
	for _, j := range jobs {
		need := j.memory()
		if j.act.Action.Kind == e.kind && (e.mem == need || (p.cfg.ContainerPool.PrewarmPromotion && e.mem >= need)) {
			return true
		}
	}
	return false
}
