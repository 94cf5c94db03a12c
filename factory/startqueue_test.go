package factory

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// isGranted reads a ticket's grant without waiting: grants happen inside
// Reserve, Release and Wait, so the state is settled when they return.
func isGranted(t *StartTicket) bool {
	select {
	case <-t.granted:
		return true
	default:
		return false
	}
}

// grantedIndexes lists which tickets hold a slot that was not released.
func grantedIndexes(ts []*StartTicket, released []bool) []int {
	var out []int
	for i, t := range ts {
		if isGranted(t) && !released[i] {
			out = append(out, i)
		}
	}
	return out
}

// Whatever order the holders give their slots back in, the k-th slot goes
// to the k-th reservation.
func TestStartQueueGrantsInReservationOrder(t *testing.T) {
	tests := []struct {
		limit       int
		releaseLast bool // give back the newest slot first instead of the oldest
	}{
		{limit: 1}, {limit: 2}, {limit: 3}, {limit: 2, releaseLast: true}, {limit: 3, releaseLast: true},
	}
	const n = 9
	for _, tc := range tests {
		t.Run(fmt.Sprintf("limit %d newest first %v", tc.limit, tc.releaseLast), func(t *testing.T) {
			q := NewStartQueue(tc.limit)
			ts := make([]*StartTicket, n)
			for i := range ts {
				ts[i] = q.Reserve()
			}
			released := make([]bool, n)
			nextGrant := tc.limit
			for range n {
				held := grantedIndexes(ts, released)
				// Every ticket before nextGrant was granted; those not yet
				// released still hold their slots.
				if want := nextGrant - countTrue(released); len(held) != want || want > tc.limit {
					t.Fatalf("holding %v, want %d slots in use (limit %d)", held, want, tc.limit)
				}
				for _, i := range held {
					if i >= nextGrant {
						t.Fatalf("ticket %d holds a slot before ticket %d was granted; holding %v", i, nextGrant, held)
					}
				}
				victim := held[0]
				if tc.releaseLast {
					victim = held[len(held)-1]
				}
				if err := ts[victim].Wait(context.Background()); err != nil {
					t.Fatalf("wait on granted ticket %d: %v", victim, err)
				}
				ts[victim].Release()
				released[victim] = true
				if nextGrant < n {
					if !isGranted(ts[nextGrant]) {
						t.Fatalf("released %d; ticket %d, next in line, was not granted", victim, nextGrant)
					}
					nextGrant++
				}
			}
		})
	}
}

func countTrue(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// A blocked Wait returns once its turn comes, in reservation order, even
// when the waiters start waiting in the opposite order.
func TestStartQueueWaitersResumeInOrder(t *testing.T) {
	q := NewStartQueue(1)
	first := q.Reserve()
	const n = 6
	ts := make([]*StartTicket, n)
	for i := range ts {
		ts[i] = q.Reserve()
	}
	order := make(chan int, n)
	var wg sync.WaitGroup
	for i := n - 1; i >= 0; i-- {
		wg.Go(func() {
			if err := ts[i].Wait(context.Background()); err != nil {
				t.Error(err)
				return
			}
			order <- i
			ts[i].Release()
		})
	}
	first.Release()
	wg.Wait()
	close(order)
	want := 0
	for got := range order {
		if got != want {
			t.Fatalf("ticket %d got its slot, want %d", got, want)
		}
		want++
	}
	if want != n {
		t.Fatalf("%d of %d waiters got a slot", want, n)
	}
}

// A deferred ticket lets later tickets pass while it prepares, and once it
// waits it goes before those reserved after it.
func TestStartQueueDeferredTicket(t *testing.T) {
	q := NewStartQueue(1)
	holder := q.Reserve()
	deferred := q.ReserveDeferred()
	passer := q.Reserve()
	holder.Release()
	if isGranted(deferred) || !isGranted(passer) {
		t.Fatalf("deferred granted %v, next granted %v: want the ready ticket to pass the preparing one", isGranted(deferred), isGranted(passer))
	}
	later := q.Reserve()
	// What Wait does first, without blocking, so the test needs no goroutine.
	q.mu.Lock()
	deferred.markReadyLocked()
	q.mu.Unlock()
	passer.Release()
	if !isGranted(deferred) || isGranted(later) {
		t.Fatalf("deferred granted %v, later granted %v: want the deferred ticket first once ready", isGranted(deferred), isGranted(later))
	}
	if err := deferred.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	deferred.Release()
	if !isGranted(later) {
		t.Fatal("the last ticket was not granted after the deferred one released")
	}
}

// Every way of giving a ticket up leaves the queue with no leaked slot and
// no stuck place in line.
func TestStartQueueGivingUp(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name   string
		giveUp func(t *testing.T, q *StartQueue, holder *StartTicket)
	}{
		{"cancel a queued ticket", func(t *testing.T, q *StartQueue, holder *StartTicket) {
			q.Reserve().Cancel()
			holder.Release()
		}},
		{"cancel a deferred ticket", func(t *testing.T, q *StartQueue, holder *StartTicket) {
			q.ReserveDeferred().Cancel()
			holder.Release()
		}},
		{"cancel a ticket granted at reservation", func(t *testing.T, q *StartQueue, holder *StartTicket) {
			holder.Cancel()
		}},
		{"wait with an ended context", func(t *testing.T, q *StartQueue, holder *StartTicket) {
			if err := q.Reserve().Wait(cancelled); !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			holder.Release()
		}},
		{"context ends while waiting", func(t *testing.T, q *StartQueue, holder *StartTicket) {
			ctx, cancel := context.WithCancel(context.Background())
			errc := make(chan error, 1)
			go func() { errc <- q.Reserve().Wait(ctx) }()
			cancel()
			if err := <-errc; !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			holder.Release()
		}},
		{"release twice and cancel after wait", func(t *testing.T, q *StartQueue, holder *StartTicket) {
			if err := holder.Wait(context.Background()); err != nil {
				t.Fatal(err)
			}
			holder.Release()
			holder.Release()
			holder.Cancel()
			// A second holder must still fit exactly: the extra calls freed
			// nothing.
			second := q.Reserve()
			if !isGranted(second) {
				t.Fatal("slot not free after release")
			}
			if third := q.Reserve(); isGranted(third) {
				t.Fatal("a repeated release freed a second slot")
			} else {
				third.Cancel()
			}
			second.Release()
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := NewStartQueue(1)
			holder := q.Reserve()
			tc.giveUp(t, q, holder)
			next := q.Reserve()
			if !isGranted(next) {
				t.Fatal("the slot leaked: a new reservation was not granted")
			}
			if q.waiting.Len() != 0 || q.held != 1 {
				t.Fatalf("queue left with %d waiting and %d held, want 0 and 1", q.waiting.Len(), q.held)
			}
		})
	}
}

func TestStartQueueWaitTwiceIsRefused(t *testing.T) {
	q := NewStartQueue(1)
	tk := q.Reserve()
	if err := tk.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := tk.Wait(context.Background()); !errors.Is(err, errWaitedTwice) {
		t.Fatalf("second wait: %v, want errWaitedTwice", err)
	}
}

func TestStartQueueUnlimited(t *testing.T) {
	for _, limit := range []int{0, -1} {
		q := NewStartQueue(limit)
		for i := range 100 {
			if tk := q.Reserve(); !isGranted(tk) {
				t.Fatalf("limit %d: ticket %d waits in an unlimited queue", limit, i)
			}
		}
	}
}

// Under concurrent use the limit holds and every ticket gets its turn.
func TestStartQueueBoundsConcurrency(t *testing.T) {
	const limit, n = 3, 200
	q := NewStartQueue(limit)
	var running, peak atomic.Int32
	var wg sync.WaitGroup
	for i := range n {
		reserve := q.Reserve
		if i%7 == 0 {
			reserve = q.ReserveDeferred
		}
		tk := reserve()
		wg.Go(func() {
			if i%11 == 0 {
				tk.Cancel()
				return
			}
			if err := tk.Wait(context.Background()); err != nil {
				t.Error(err)
				return
			}
			r := running.Add(1)
			for p := peak.Load(); r > p && !peak.CompareAndSwap(p, r); p = peak.Load() {
			}
			running.Add(-1)
			tk.Release()
		})
	}
	wg.Wait()
	if p := peak.Load(); p > limit {
		t.Fatalf("%d starts at once, want at most %d", p, limit)
	}
	if q.held != 0 || q.waiting.Len() != 0 {
		t.Fatalf("queue left with %d held and %d waiting", q.held, q.waiting.Len())
	}
}
