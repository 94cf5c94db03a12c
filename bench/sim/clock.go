package sim

import (
	"container/heap"
	"sync"
	"time"
)

// Clock is the simulation's event list: the pool's clock (actors.Clock),
// the fake engine's (fake.Clock) and the driver's, all in one. Time moves
// only when the driver fires the next event, so a run's virtual time does
// not depend on how fast the machine is. Events due at the same instant
// fire in the order they were scheduled.
//
// It is a heap rather than actors.FakeClock, whose Advance scans every
// pending timer per event: a simulation holds thousands of timers (one
// pause or removal per idle container, one per running activation).
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	seq    uint64
	events eventHeap
	live   map[uint64]struct{} // scheduled and neither fired nor stopped
}

type event struct {
	at  time.Time
	seq uint64
	f   func()
}

type eventHeap []event

func (h eventHeap) Len() int { return len(h) }
func (h eventHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}
func (h eventHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *eventHeap) Push(x any)   { *h = append(*h, x.(event)) }
func (h *eventHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = event{}
	*h = old[:len(old)-1]
	return e
}

// NewClock starts at start.
func NewClock(start time.Time) *Clock {
	return &Clock{now: start, live: map[uint64]struct{}{}}
}

// Now is the virtual time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc schedules f d from now; stop cancels it and reports whether it
// had not fired yet.
func (c *Clock) AfterFunc(d time.Duration, f func()) (stop func() bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	id := c.seq
	heap.Push(&c.events, event{at: c.now.Add(max(d, 0)), seq: id, f: f})
	c.live[id] = struct{}{}
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		_, ok := c.live[id]
		delete(c.live, id)
		return ok
	}
}

// After is a channel that receives the time d from now, as time.After.
func (c *Clock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	c.AfterFunc(d, func() { ch <- c.Now() })
	return ch
}

// next is the time of the earliest pending event; ok is false when none is
// pending. Stopped events are dropped on the way.
func (c *Clock) next() (at time.Time, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dropStopped()
	if len(c.events) == 0 {
		return time.Time{}, false
	}
	return c.events[0].at, true
}

func (c *Clock) dropStopped() {
	for len(c.events) > 0 {
		if _, ok := c.live[c.events[0].seq]; ok {
			return
		}
		heap.Pop(&c.events)
	}
}

// fireNext moves time to the earliest pending event and runs it on the
// caller's goroutine; it reports false when nothing was pending.
func (c *Clock) fireNext() bool {
	c.mu.Lock()
	c.dropStopped()
	if len(c.events) == 0 {
		c.mu.Unlock()
		return false
	}
	e := heap.Pop(&c.events).(event)
	delete(c.live, e.seq)
	if e.at.After(c.now) {
		c.now = e.at
	}
	c.mu.Unlock()
	e.f()
	return true
}

// advanceTo moves time to t (never backwards) without firing anything; the
// driver calls it for an arrival, which is no timer of the clock.
func (c *Clock) advanceTo(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.now) {
		c.now = t
	}
}
