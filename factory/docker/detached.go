package docker

import (
	"context"
	"sync"
)

// detachedCalls counts engine calls that run on after their caller gave
// up, so that Cleanup can wait for them before it lists what to remove.
// (sync.WaitGroup forbids an Add from zero while a Wait runs, which is
// exactly what a creation starting during a cleanup would do.)
type detachedCalls struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed while n == 0; nil means closed
}

func (d *detachedCalls) add() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.n == 0 {
		d.idle = make(chan struct{})
	}
	d.n++
}

func (d *detachedCalls) done() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.n--
	if d.n == 0 {
		close(d.idle)
	}
}

// wait returns when no call is running or ctx ends.
func (d *detachedCalls) wait(ctx context.Context) error {
	d.mu.Lock()
	idle := d.idle
	d.mu.Unlock()
	if idle == nil {
		return nil
	}
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
