package fake

import (
	"context"
	"sync"
)

// Gate holds the calls of one operation until the test lets them through,
// so a test can build an exact interleaving ("the create is in flight while
// the run arrives"). A call announces itself on Arrived, then waits for a
// Release token, Open, or the end of its context.
type Gate struct {
	arrived chan Call
	release chan struct{}
	once    sync.Once
	open    chan struct{}
}

// gateBacklog bounds unreceived arrivals and unspent release tokens.
const gateBacklog = 4096

func newGate() *Gate {
	return &Gate{
		arrived: make(chan Call, gateBacklog),
		release: make(chan struct{}, gateBacklog),
		open:    make(chan struct{}),
	}
}

// Arrived delivers each call that reached the gate, in arrival order.
func (g *Gate) Arrived() <-chan Call { return g.arrived }

// Release lets n waiting or future calls through, one each.
func (g *Gate) Release(n int) {
	for range n {
		g.release <- struct{}{}
	}
}

// Open lets every waiting and future call through.
func (g *Gate) Open() { g.once.Do(func() { close(g.open) }) }

func (g *Gate) pass(ctx context.Context, c Call) error {
	select {
	case g.arrived <- c:
	default:
		// Nobody is reading arrivals; the call still waits for release.
	}
	select {
	case <-g.release:
		return nil
	case <-g.open:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
