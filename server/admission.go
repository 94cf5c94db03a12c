package server

import (
	"context"
	"sync"
	"time"
)

// admission bounds the activations in flight (accepted and not finished)
// beyond those the pool is running: DESIGN.md's use of
// concurrent-peek-factor in place of OpenWhisk's Kafka peek. The running
// count is asked of the pool only when the cheap check fails, so a daemon
// well below its limit never pays for a pool round trip.
type admission struct {
	limit   int
	running func(context.Context) (int, error)

	mu       sync.Mutex
	inFlight int
	idle     chan struct{} // closed when inFlight drops to 0; nil while 0
}

func newAdmission(limit int, running func(context.Context) (int, error)) *admission {
	return &admission{limit: limit, running: running}
}

// acquire admits one activation, or reports the in-flight count that
// exceeded the limit.
func (a *admission) acquire(ctx context.Context) (ok bool, count, allowed int) {
	a.mu.Lock()
	n := a.inFlight
	a.mu.Unlock()
	running := 0
	if n >= a.limit && a.running != nil {
		// Bound the pool round trip: admission must not hang on a busy pool.
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		r, err := a.running(rctx)
		cancel()
		if err == nil {
			running = r
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	allowed = a.limit + running
	if a.inFlight >= allowed {
		return false, a.inFlight, allowed
	}
	a.inFlight++
	if a.idle == nil {
		a.idle = make(chan struct{})
	}
	return true, a.inFlight, allowed
}

func (a *admission) release() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.inFlight--
	if a.inFlight == 0 && a.idle != nil {
		close(a.idle)
		a.idle = nil
	}
}

func (a *admission) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.inFlight
}

// wait returns nil once nothing is in flight, or ctx's error.
func (a *admission) wait(ctx context.Context) error {
	a.mu.Lock()
	ch := a.idle
	a.mu.Unlock()
	if ch == nil {
		return nil
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
