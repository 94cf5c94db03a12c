package factory

import (
	"container/list"
	"context"
	"errors"
	"sync"
)

// StartQueue bounds how many container starts run at once and grants the
// slots in the order the starts were reserved, not in the order their
// goroutines happen to ask. The factory actor reserves on its own
// goroutine, in message order, so the order the pool decided survives the
// limit: with a limit of 1 the starts are strictly serial in that order,
// with a limit of N the k-th slot goes to the k-th reservation.
//
// A limit <= 0 means unlimited: every ticket is granted at once.
type StartQueue struct {
	limit   int
	mu      sync.Mutex
	held    int
	waiting list.List // of *StartTicket, in reservation order
}

// NewStartQueue returns a queue that runs at most limit starts at once.
func NewStartQueue(limit int) *StartQueue { return &StartQueue{limit: limit} }

// StartTicket is one start's place in a StartQueue. Wait for the slot,
// then Release it; a ticket that will never be waited for is Cancelled.
type StartTicket struct {
	q       *StartQueue
	elem    *list.Element // in q.waiting while queued
	ready   bool          // may be granted; false while a deferred start prepares
	waited  bool          // Wait or Cancel was called
	state   ticketState
	granted chan struct{} // closed when the slot is granted
}

type ticketState int

const (
	ticketQueued ticketState = iota
	ticketGranted
	ticketDone // released, cancelled or gave up waiting
)

// errWaitedTwice reports a caller that waits on one ticket twice, which
// would let one place in line hold two slots.
var errWaitedTwice = errors.New("start ticket: Wait or Cancel was already called")

// Reserve takes the next place in line without blocking. The ticket holds
// back every ticket reserved after it until it is granted or given up, so
// a caller must Wait or Cancel it promptly.
func (q *StartQueue) Reserve() *StartTicket { return q.reserve(true) }

// ReserveDeferred takes the next place in line for a start that has work
// to do before it can use a slot (an image pull). Until its Wait is called
// the ticket does not hold back the tickets behind it; once it is, it is
// granted before any ticket reserved after it that still waits.
func (q *StartQueue) ReserveDeferred() *StartTicket { return q.reserve(false) }

func (q *StartQueue) reserve(ready bool) *StartTicket {
	t := &StartTicket{q: q, ready: ready, granted: make(chan struct{})}
	q.mu.Lock()
	defer q.mu.Unlock()
	t.elem = q.waiting.PushBack(t)
	if ready {
		q.admit()
	}
	return t
}

// admit grants free slots to the oldest ready tickets. A deferred ticket
// that is not ready yet is passed over, not waited for. Callers hold q.mu.
//
// Invariant after admit: no ready ticket waits while a slot is free. So
// removing a waiting ticket never frees a slot for another; only Release
// (and a ticket becoming ready) can, and both call admit.
func (q *StartQueue) admit() {
	for e := q.waiting.Front(); e != nil && (q.limit <= 0 || q.held < q.limit); {
		next := e.Next()
		if t := e.Value.(*StartTicket); t.ready {
			q.waiting.Remove(e)
			t.elem = nil
			t.state = ticketGranted
			q.held++
			close(t.granted)
		}
		e = next
	}
}

// Wait blocks until the ticket holds a slot or ctx ends. When ctx ends
// first, the ticket leaves the line (or frees the slot it was granted
// meanwhile) and Wait returns ctx.Err(). Wait is called at most once.
func (t *StartTicket) Wait(ctx context.Context) error {
	q := t.q
	q.mu.Lock()
	if t.waited {
		q.mu.Unlock()
		return errWaitedTwice
	}
	t.waited = true
	t.markReadyLocked()
	q.mu.Unlock()

	select {
	case <-t.granted:
		return nil
	case <-ctx.Done():
		t.giveUp()
		return ctx.Err()
	}
}

// markReadyLocked lets a deferred ticket be granted from now on, before the
// tickets reserved after it. Callers hold q.mu.
func (t *StartTicket) markReadyLocked() {
	if !t.ready && t.state == ticketQueued {
		t.ready = true
		t.q.admit()
	}
}

// Cancel gives up a ticket that was never waited for: it leaves the line,
// or frees the slot it was granted at reservation. After Wait it does
// nothing, so a deferred Cancel guards every early return.
func (t *StartTicket) Cancel() {
	q := t.q
	q.mu.Lock()
	if t.waited {
		q.mu.Unlock()
		return
	}
	t.waited = true
	q.mu.Unlock()
	t.giveUp()
}

// Release frees the slot the ticket holds. Only the first call counts, and
// a ticket that holds no slot has nothing to release.
func (t *StartTicket) Release() {
	q := t.q
	q.mu.Lock()
	defer q.mu.Unlock()
	if t.state != ticketGranted {
		return
	}
	t.state = ticketDone
	q.held--
	q.admit()
}

// giveUp ends the ticket whatever it holds.
func (t *StartTicket) giveUp() {
	q := t.q
	q.mu.Lock()
	if t.state == ticketQueued {
		q.waiting.Remove(t.elem)
		t.elem = nil
		t.state = ticketDone
		q.mu.Unlock()
		return
	}
	q.mu.Unlock()
	t.Release()
}
