package runtime

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// memWatch applies Memory's rules while activations (and /init) run: one
// goroutine samples every interval and cancels every watched context with
// errMemoryExhausted once a rule fires. A nil *memWatch watches nothing.
type memWatch struct {
	m *Memory
	// onExhausted is told each abort and why, while the aborted
	// operations still run.
	onExhausted func(reason string)

	mu      sync.Mutex
	seq     uint64
	active  map[uint64]context.CancelCauseFunc
	stop    chan struct{} // closed to end the running sampler; nil when none runs
	closed  bool          // no sampler starts any more
	loops   sync.WaitGroup
	tickers func(time.Duration) (<-chan time.Time, func()) // tests drive the samples
	// kills is the cgroup's count of kernel kills for its limit as last
	// read; a failed operation that finds it higher claims the kill. It is
	// read at failures only, not before every /run: the file read would
	// cost every warm invoke.
	kills      int64
	killsKnown bool
}

func newMemWatch(m *Memory, onExhausted func(reason string)) *memWatch {
	if m == nil {
		return nil
	}
	w := &memWatch{m: m, onExhausted: onExhausted, active: map[uint64]context.CancelCauseFunc{}, tickers: realTicker}
	if k, err := m.cg.oomKills(); err == nil {
		w.kills, w.killsKnown = k, true
	}
	return w
}

// newKill reports whether the kernel killed a process for the limit since
// the last call that found one (or since the watch began).
func (w *memWatch) newKill() bool {
	k, err := w.m.cg.oomKills()
	if err != nil {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	killed := w.killsKnown && k > w.kills
	if !w.killsKnown || k > w.kills {
		w.kills, w.killsKnown = k, true
	}
	return killed
}

func realTicker(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTicker(d)
	return t.C, t.Stop
}

// watched is one watched operation and its context.
type watched struct {
	w      *memWatch
	id     uint64
	ctx    context.Context
	cancel context.CancelCauseFunc
}

// watch returns ctx's child, cancelled with errMemoryExhausted when memory
// runs out; end it with done.
func (w *memWatch) watch(ctx context.Context) *watched {
	wd := &watched{w: w, ctx: ctx}
	if w == nil {
		return wd
	}
	wd.ctx, wd.cancel = context.WithCancelCause(ctx)
	w.mu.Lock()
	w.seq++
	wd.id = w.seq
	w.active[wd.id] = wd.cancel
	if w.stop == nil && !w.closed {
		w.stop = make(chan struct{})
		w.loops.Add(1)
		go w.sample(w.stop)
	}
	w.mu.Unlock()
	return wd
}

// exhausted reports whether the operation failed for memory: aborted by a
// rule, or failed (err != nil) after the kernel killed a process for the
// limit while it ran.
func (wd *watched) exhausted(err error) bool {
	if wd.w == nil || err == nil {
		return false
	}
	if errors.Is(context.Cause(wd.ctx), errMemoryExhausted) {
		return true
	}
	// Not logged: the operation's output is already ended by its sentinel.
	return wd.w.newKill()
}

// done ends the watch; the sampler stops with the last one.
func (wd *watched) done() {
	w := wd.w
	if w == nil {
		return
	}
	w.mu.Lock()
	delete(w.active, wd.id)
	if len(w.active) == 0 && w.stop != nil {
		close(w.stop)
		w.stop = nil
	}
	w.mu.Unlock()
	wd.cancel(nil)
}

// close stops the sampler, also while operations still run (a JavaScript
// loop the shutdown cannot end), and waits for it.
func (w *memWatch) close() {
	if w == nil {
		return
	}
	w.mu.Lock()
	w.closed = true
	if w.stop != nil {
		close(w.stop)
		w.stop = nil
	}
	w.mu.Unlock()
	w.loops.Wait()
}

// sample runs while anything is watched. Samples that cannot be read are
// skipped: the cgroup rule then sees no thrashing, and the time limit
// still ends the activation.
func (w *memWatch) sample(stop <-chan struct{}) {
	defer w.loops.Done()
	tick, stopTicker := w.tickers(w.m.interval)
	defer stopTicker()
	thrash := thrashState{rule: w.m.thrash}
	hw := w.m.newHeapWatch()
	for {
		select {
		case <-stop:
			return
		case now := <-tick:
			if full, h := w.m.heapExhausted(&hw); full {
				w.abortAll(fmt.Sprintf("the live Go heap is %d bytes, the limit for it %d", h.live, w.m.heapAbort))
				continue
			}
			s, err := w.m.cg.sample()
			if err != nil {
				continue
			}
			if thrash.observe(now, s) {
				thrash.pinned = thrash.pinned[:0]
				w.abortAll(fmt.Sprintf("thrashing at the limit of %d bytes: usage %d, anonymous %d, %d major faults", w.m.limit, s.usage, s.anon, s.majFaults))
			}
		}
	}
}

// abortAll cancels everything watched now.
func (w *memWatch) abortAll(reason string) {
	w.mu.Lock()
	cancels := make([]context.CancelCauseFunc, 0, len(w.active))
	for _, c := range w.active {
		cancels = append(cancels, c)
	}
	w.mu.Unlock()
	if len(cancels) == 0 {
		return
	}
	w.onExhausted(reason)
	for _, c := range cancels {
		c(errMemoryExhausted)
	}
}
