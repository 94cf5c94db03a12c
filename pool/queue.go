package pool

import (
	"slices"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
)

// The fair queue (container-pool.queue: fair) holds the activations that
// could not start when they came, one FIFO per action identity, grouped by
// invocation namespace. Only the head of an action's queue is ever tried, so
// one action's activations are placed in arrival order (DESIGN invariant 3).
// Across actions, a head that can start now (warm, a stem cell, or a new
// container in memory nobody was promised) goes ahead of a head that waits
// for memory. Waiting heads are given promises: a promised job has free
// memory set aside for it as it comes back, evictions planned for it, and
// is placed once what it was promised is free, however many jobs went
// ahead of it meanwhile. Promises are kept per namespace and honoured
// round robin: every namespace's oldest promise comes before any
// namespace's second, so a flood in one namespace delays another
// namespace's activation by at most one of its own placements. A
// namespace is promised at most its share of the memory (at least one
// job). The placement rules are in queue_drain.go.

// actionQueue is the waiting activations of one identity, oldest first.
type actionQueue struct {
	ident   actors.Identity
	ns      *nsQueue
	jobs    []*pending
	blocked uint64 // the placement round in which its head could not start
}

func (q *actionQueue) head() *pending { return q.jobs[0] }

// nsQueue is the action queues of one invocation namespace that have work,
// in the order they got it, and its promised jobs in promise order.
type nsQueue struct {
	name    string
	actions []*actionQueue
	holders []*pending
	// promised is the memory of holders.
	promised config.ByteSize
	blocked  uint64 // the placement round in which none of its heads could start
}

// fairQueue is every waiting activation of the fair rule.
type fairQueue struct {
	byIdent map[actors.Identity]*actionQueue
	byNS    map[string]*nsQueue
	// ring is the namespaces with work, visited round robin from next.
	ring []*nsQueue
	next int
	// promisedNS is the namespaces with promises, in the order they got
	// their oldest one.
	promisedNS []*nsQueue
	promised   config.ByteSize
	n          int
	mem        config.ByteSize
}

func newFairQueue() fairQueue {
	return fairQueue{byIdent: map[actors.Identity]*actionQueue{}, byNS: map[string]*nsQueue{}}
}

func (f *fairQueue) len() int { return f.n }

// waiting reports whether jobs of id wait: a new one must queue behind them.
func (f *fairQueue) waiting(id actors.Identity) bool { return f.n > 0 && f.byIdent[id] != nil }

// pushBack queues job behind the jobs of its identity.
func (f *fairQueue) pushBack(job *pending) {
	q := f.queueOf(job)
	q.jobs = append(q.jobs, job)
	f.n++
	f.mem += job.memory()
}

// pushArrived queues a job that had been placed and came back (its
// container went away before it ran), where its arrival puts it among the
// jobs of its identity. When it lands ahead of a promised head, the promise
// moves to it: same identity, same memory. Otherwise a new head gets its
// namespace's first promise: it had been placed already, and the memory its
// container gives back comes to it first (reference §11.7: OpenWhisk sent
// it to the back).
func (f *fairQueue) pushArrived(job *pending) {
	q := f.queueOf(job)
	// Ahead of the jobs that arrived with it: it was placed before them.
	i := 0
	for i < len(q.jobs) && q.jobs[i].act.Arrived.Before(job.act.Arrived) {
		i++
	}
	q.jobs = slices.Insert(q.jobs, i, job)
	f.n++
	f.mem += job.memory()
	if i != 0 {
		return
	}
	if len(q.jobs) > 1 && q.jobs[1].holder {
		old := q.jobs[1]
		old.holder, job.holder = false, true
		q.ns.holders[slices.Index(q.ns.holders, old)] = job
		return
	}
	f.promiseAt(job, 0)
}

func (f *fairQueue) queueOf(job *pending) *actionQueue {
	id := job.identity()
	if q := f.byIdent[id]; q != nil {
		return q
	}
	ns := f.byNS[job.act.InvocationNamespace]
	if ns == nil {
		ns = &nsQueue{name: job.act.InvocationNamespace}
		f.byNS[ns.name] = ns
		f.ring = append(f.ring, ns)
	}
	q := &actionQueue{ident: id, ns: ns}
	f.byIdent[id] = q
	ns.actions = append(ns.actions, q)
	return q
}

// popHead removes the head of q, placed or refused, with its promise.
func (f *fairQueue) popHead(q *actionQueue) *pending {
	job := q.head()
	if job.holder {
		f.unpromise(job)
	}
	q.jobs[0] = nil
	q.jobs = q.jobs[1:]
	f.n--
	f.mem -= job.memory()
	if len(q.jobs) == 0 {
		f.dropQueue(q)
	}
	return job
}

func (f *fairQueue) dropQueue(q *actionQueue) {
	delete(f.byIdent, q.ident)
	ns := q.ns
	ns.actions = slices.Delete(ns.actions, slices.Index(ns.actions, q), slices.Index(ns.actions, q)+1)
	if len(ns.actions) > 0 {
		return
	}
	delete(f.byNS, ns.name)
	i := slices.Index(f.ring, ns)
	f.ring = slices.Delete(f.ring, i, i+1)
	if f.next > i {
		f.next--
	}
	if f.next >= len(f.ring) {
		f.next = 0
	}
}

// promise makes job, the head of its queue, its namespace's last promise.
func (f *fairQueue) promise(job *pending) {
	f.promiseAt(job, len(f.byIdent[job.identity()].ns.holders))
}

func (f *fairQueue) promiseAt(job *pending, at int) {
	ns := f.byIdent[job.identity()].ns
	if len(ns.holders) == 0 {
		f.promisedNS = append(f.promisedNS, ns)
	}
	job.holder = true
	ns.holders = slices.Insert(ns.holders, at, job)
	ns.promised += job.memory()
	f.promised += job.memory()
}

func (f *fairQueue) unpromise(job *pending) {
	ns := f.byIdent[job.identity()].ns
	job.holder = false
	i := slices.Index(ns.holders, job)
	ns.holders = slices.Delete(ns.holders, i, i+1)
	ns.promised -= job.memory()
	f.promised -= job.memory()
	if len(ns.holders) == 0 {
		i := slices.Index(f.promisedNS, ns)
		f.promisedNS = slices.Delete(f.promisedNS, i, i+1)
	}
}

// promiseOrder appends the promised jobs to out in the order they are
// honoured: round robin over the namespaces, oldest promises first.
func (f *fairQueue) promiseOrder(out []*pending) []*pending {
	for r := 0; ; r++ {
		more := false
		for _, ns := range f.promisedNS {
			if r < len(ns.holders) {
				out = append(out, ns.holders[r])
				more = more || r+1 < len(ns.holders)
			}
		}
		if !more {
			return out
		}
	}
}

// share is what one namespace may be promised while others wait too: an
// equal part of the memory, and always at least one job.
func (f *fairQueue) share(total config.ByteSize) config.ByteSize {
	return total / config.ByteSize(max(1, len(f.ring)))
}

// mayPromise reports whether ns may be promised need more bytes.
func (f *fairQueue) mayPromise(ns *nsQueue, need, total config.ByteSize) bool {
	n := len(ns.holders)
	return n == 0 || (n < lookAhead && ns.promised+need <= f.share(total))
}

// trimPromises takes back, newest first, the promises of namespaces that
// hold more than their share now that more namespaces wait; each keeps its
// oldest, so nothing starves. Memory already on its way back for a job
// that loses its promise goes to whoever is placed next.
func (f *fairQueue) trimPromises(total config.ByteSize) {
	share := f.share(total)
	for _, ns := range slices.Clone(f.promisedNS) {
		for len(ns.holders) > 1 && ns.promised > share {
			f.unpromise(ns.holders[len(ns.holders)-1])
		}
	}
}

// all yields every waiting job, namespace by namespace; shutdown empties
// the queue with it.
func (f *fairQueue) all() []*pending {
	out := make([]*pending, 0, f.n)
	for _, ns := range f.ring {
		for _, q := range ns.actions {
			out = append(out, q.jobs...)
		}
	}
	return out
}
