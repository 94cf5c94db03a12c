package pool

import (
	"iter"
	"slices"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
)

// lookAhead bounds how many buffered jobs, the head included, one eviction
// plan considers.
const lookAhead = 16

// aheadJob is one buffered job in the view of planAhead, in buffer order.
type aheadJob[K comparable] struct {
	// Need is the memory a cold start of the job takes; 0 when it may start
	// without new memory (a container of its identity exists, a stem cell
	// of its kind is ready, or it is too large and will be rejected), so
	// nothing is evicted on its behalf.
	Need  config.ByteSize
	Ident K
}

// planAhead picks idle containers to evict for the buffer head and the jobs
// behind it, so that the removals for several buffered jobs overlap instead of
// running one round per job. The jobs are taken in buffer order; job i is
// covered when the memory of jobs 0..i fits in avail (free plus what is
// already on its way back) plus what is evicted for them. For a job not
// covered yet, idle containers are taken least recently used first,
// skipping those of the identity of job i or of any job ahead of it (it
// could run there warm). When a job cannot be covered, it and every job
// behind it get nothing: the plan stops, and nothing taken for that job is
// kept. So nothing is evicted that the jobs in view do not need, in their
// order; for the head alone that is the least recently used prefix that
// covers its shortfall, or nothing when all idle memory would not (its own
// identity has no idle container, or it would have run warm). Evicting
// what cannot make a job fit would only throw warm containers away.
//
// lru yields the idle containers oldest first, evictable is their total
// memory. It returns the victims in LRU order and, for each, the index of
// the job it was evicted for.
func planAhead[T any, K comparable](avail, evictable config.ByteSize, jobs []aheadJob[K], lru iter.Seq[T],
	memory func(T) config.ByteSize, ident func(T) K) (victims []T, forJob []int) {
	// protected holds the identities of jobs 0..i: only ever grows, so an
	// idle container skipped once is never eligible later in the plan.
	protected := make([]K, 0, len(jobs))
	i, cum, have := 0, config.ByteSize(0), avail
	// open moves i to the first job not covered yet, counting its need; it
	// reports false when none is left or when even every idle container
	// would not cover it.
	open := func() bool {
		for ; i < len(jobs); i++ {
			protected = append(protected, jobs[i].Ident)
			cum += jobs[i].Need
			if cum > have {
				return cum-avail <= evictable
			}
		}
		return false
	}
	if !open() {
		return nil, nil
	}
	kept := 0 // victims of covered jobs; those taken for job i are kept only once it is covered
	for c := range lru {
		if slices.Contains(protected, ident(c)) {
			continue
		}
		victims = append(victims, c)
		forJob = append(forJob, i)
		if have += memory(c); have < cum {
			continue
		}
		kept = len(victims)
		i++
		if !open() {
			break
		}
	}
	return victims[:kept], forJob[:kept]
}

// evictAhead starts the evictions that planAhead finds for head, which
// must wait for memory, and for the jobs buffered right behind it. head is
// the buffer's head, or a new arrival while the buffer is empty.
func (p *poolActor) evictAhead(ctx actor.Context, head *pending) {
	var jobsBuf [lookAhead]aheadJob[actors.Identity]
	var who [lookAhead]*pending
	jobs := append(jobsBuf[:0], aheadJob[actors.Identity]{Need: head.memory(), Ident: head.identity()})
	who[0] = head
	if front := p.buf.l.Front(); front != nil && front.Value.(*pending) == head {
		for e := front.Next(); e != nil && len(jobs) < lookAhead; e = e.Next() {
			j := e.Value.(*pending)
			who[len(jobs)] = j
			jobs = append(jobs, aheadJob[actors.Identity]{Need: p.aheadNeed(j, who[:len(jobs)]), Ident: j.identity()})
		}
	}
	victims, forJob := planAhead(p.ledger.free()+p.ledger.mem[memRemoving], p.ledger.mem[memIdle]+p.pols.preloadedMem, jobs, p.evictionOrder(nil),
		func(e *entry) config.ByteSize { return e.mem }, func(e *entry) actors.Identity { return e.ident })
	for i, e := range victims {
		p.evict(ctx, e)
		who[forJob[i]].evicted = true
	}
}

// aheadNeed is the memory a buffered job behind the head is planned to
// need: none when it may well start without a new container (one of its
// identity exists, a stem cell of its kind is ready, a job ahead of it in
// view starts a container of its identity that takes more than one job at
// once) or will be rejected. Counting too little only delays an eviction;
// counting too much would throw a warm container away for nothing.
func (p *poolActor) aheadNeed(j *pending, ahead []*pending) config.ByteSize {
	need := j.memory()
	id := j.identity()
	if need > p.ledger.total || p.byIdent[id] != nil || len(p.stemCells[j.act.Action.Kind]) > 0 {
		return 0
	}
	if j.act.Action.Limits.MaxConcurrency > 1 {
		for _, a := range ahead {
			if a.identity() == id {
				return 0
			}
		}
	}
	return need
}
