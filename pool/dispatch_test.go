package pool

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Schedule never blocks and never starts a goroutine: with every worker
// busy and the queue full, what comes later waits and runs on the workers,
// each function exactly once.
func TestWorkersStayBoundedWhenTheQueueIsFull(t *testing.T) {
	for _, extra := range []int{1, 100, 2 * workerQueue} {
		t.Run(fmt.Sprintf("%d beyond the queue", extra), func(t *testing.T) {
			w := newWorkers()
			defer w.stop()
			release := make(chan struct{})
			var running, peak atomic.Int64
			total := w.n + workerQueue + extra
			ran := make([]atomic.Int32, total)
			var done sync.WaitGroup
			done.Add(total)
			for i := range total {
				w.Schedule(func() {
					defer done.Done()
					storeMax(&peak, running.Add(1))
					<-release
					ran[i].Add(1)
					running.Add(-1)
				})
			}
			// Every call returned although the workers are all blocked.
			if got := w.overflowed.Load(); got == 0 {
				t.Fatalf("%d functions scheduled on %d workers with a queue of %d: none overflowed", total, w.n, workerQueue)
			}
			close(release)
			waitGroup(t, &done)
			if p := peak.Load(); p > int64(w.n) {
				t.Fatalf("%d functions ran at once, the workers are %d: Schedule started goroutines", p, w.n)
			}
			for i := range ran {
				if n := ran[i].Load(); n != 1 {
					t.Fatalf("function %d ran %d times, want 1", i, n)
				}
			}
			if n := w.waiting.Load(); n != 0 {
				t.Fatalf("%d functions still counted as waiting", n)
			}
		})
	}
}

// After stop, a mailbox that wakes up runs on its sender's goroutine.
func TestWorkersRunInPlaceAfterStop(t *testing.T) {
	w := newWorkers()
	w.stop()
	ran := false
	w.Schedule(func() { ran = true })
	if !ran {
		t.Fatal("a function scheduled after stop did not run before Schedule returned")
	}
}

func waitGroup(t *testing.T, wg *sync.WaitGroup) {
	t.Helper()
	ch := make(chan struct{})
	go func() {
		wg.Wait()
		close(ch)
	}()
	select {
	case <-ch:
	case <-time.After(waitFor):
		t.Fatal("scheduled functions never all ran")
	}
}

// storeMax raises m to v if v is larger.
func storeMax(m *atomic.Int64, v int64) {
	for {
		old := m.Load()
		if v <= old || m.CompareAndSwap(old, v) {
			return
		}
	}
}
