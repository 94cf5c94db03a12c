package pool

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// workers is the dispatcher of the pool and its children: mailboxes run on
// a few long-lived goroutines instead of a new goroutine each time a
// mailbox wakes up (protoactor's default). A fresh goroutine starts with a
// small stack and grows it on every activation's deep call chain; measured
// on the warm-hit benchmark, stack growth and copying took about half the
// CPU. Long-lived workers keep their grown stacks.
//
// The number of goroutines is fixed: Schedule never starts one. It must not
// block either (its caller is often another actor's goroutine), so what
// does not fit in jobs waits in overflow, which has no bound but is
// counted. It stays short: protoactor schedules a mailbox at most once
// until that turn has run, so at most one function per mailbox on this
// dispatcher (the pool, its factory actor and its prewarm scheduler) waits
// at any time.
type workers struct {
	jobs    chan func()
	n       int
	stopped atomic.Bool

	mu       sync.Mutex
	overflow []func() // FIFO of what found jobs full
	waiting  atomic.Int64
	// overflowed counts every function that went through overflow.
	overflowed atomic.Uint64
	// wake is runOverflow as a func value, built once: a method value
	// would allocate on every use.
	wake func()
}

const (
	workerQueue      = 4096
	workerThroughput = 300 // messages per mailbox turn, protoactor's default
)

func newWorkers() *workers {
	w := &workers{jobs: make(chan func(), workerQueue), n: max(8, 4*runtime.GOMAXPROCS(0))}
	w.wake = w.runOverflow
	for range w.n {
		go w.loop()
	}
	return w
}

func (w *workers) loop() {
	for fn := range w.jobs {
		if fn == nil {
			w.runOverflow()
			return
		}
		fn()
		w.runOverflow()
	}
}

// runOverflow runs what waits in overflow; with nothing there it costs an
// atomic load.
func (w *workers) runOverflow() {
	for w.waiting.Load() > 0 {
		w.mu.Lock()
		if len(w.overflow) == 0 {
			w.mu.Unlock()
			return
		}
		fn := w.overflow[0]
		w.overflow[0] = nil
		w.overflow = w.overflow[1:]
		w.waiting.Add(-1)
		w.mu.Unlock()
		fn()
	}
}

// Schedule runs fn on a worker and never blocks: when jobs is full, fn
// waits in overflow. Once the workers are gone (after the pool's Stopped,
// when every actor on this dispatcher has stopped and a mailbox turn only
// drops what reached it), fn runs on the caller's goroutine.
func (w *workers) Schedule(fn func()) {
	if w.stopped.Load() {
		fn()
		return
	}
	select {
	case w.jobs <- fn:
		return
	default:
	}
	w.mu.Lock()
	w.overflow = append(w.overflow, fn)
	w.waiting.Add(1)
	w.mu.Unlock()
	w.overflowed.Add(1)
	// Every worker may have looked at overflow before fn was added and gone
	// back to waiting on jobs. Either jobs has room for a wake-up, or it is
	// full and a worker looks at overflow again after each function in it.
	select {
	case w.jobs <- w.wake:
	default:
	}
}

func (w *workers) Throughput() int { return workerThroughput }

// stop ends the workers once the work queued before it is done. Mailboxes
// that wake up later run on their sender's goroutine.
func (w *workers) stop() {
	if w.stopped.Swap(true) {
		return
	}
	for range w.n {
		select {
		case w.jobs <- nil:
		default:
			go func() { w.jobs <- nil }()
		}
	}
}

// inline runs a container actor's mailbox on the goroutine that posted to
// it: the pool actor placing a job, a job's worker reporting back, a
// timer. A container actor only ever decides and hands I/O to goroutines
// of its own, so running it in place is short and never blocks; it spares
// the hop to a dispatcher goroutine on the way of every activation.
type inline struct{}

func (inline) Schedule(fn func()) { fn() }
func (inline) Throughput() int    { return workerThroughput }
