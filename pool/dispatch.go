package pool

import (
	"runtime"
	"sync/atomic"
)

// workers is the dispatcher of the pool and its children: mailboxes run on
// a few long-lived goroutines instead of a new goroutine each time a
// mailbox wakes up (protoactor's default). A fresh goroutine starts with a
// small stack and grows it on every activation's deep call chain; measured
// on the warm-hit benchmark, stack growth and copying took about half the
// CPU. Long-lived workers keep their grown stacks.
type workers struct {
	jobs    chan func()
	n       int
	stopped atomic.Bool
}

const (
	workerQueue      = 4096
	workerThroughput = 300 // messages per mailbox turn, protoactor's default
)

func newWorkers() *workers {
	w := &workers{jobs: make(chan func(), workerQueue), n: max(8, 4*runtime.GOMAXPROCS(0))}
	for range w.n {
		go w.loop()
	}
	return w
}

func (w *workers) loop() {
	for fn := range w.jobs {
		if fn == nil {
			return
		}
		fn()
	}
}

// Schedule runs fn on a worker, or on a goroutine of its own when the
// queue is full or the workers are gone, so a sender never blocks.
func (w *workers) Schedule(fn func()) {
	if !w.stopped.Load() {
		select {
		case w.jobs <- fn:
			return
		default:
		}
	}
	go fn()
}

func (w *workers) Throughput() int { return workerThroughput }

// stop ends the workers once the work queued before it is done. Mailboxes
// that wake up later get goroutines of their own.
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
