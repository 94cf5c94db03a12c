package fake

import (
	"context"
	"slices"
	"sync"
)

// Gate holds the calls of one operation until the test lets them through,
// so a test can build an exact interleaving ("the create is in flight while
// the run arrives"). A call announces itself on Arrived and in Pending, then
// waits until Release, ReleaseCall or Open lets it through, or its context
// ends.
//
// Release lets calls through in the order they reached the gate, which is
// the order their goroutines were scheduled in; a test that must replay
// from a seed picks calls from Pending by their Key and lets each through
// with ReleaseCall.
type Gate struct {
	arrived chan Call
	once    sync.Once
	open    chan struct{}

	mu      sync.Mutex
	held    []*heldCall // in arrival order
	credits int         // releases not yet spent: future calls pass at once
}

// heldCall is one call waiting at a gate; through is closed to let it through.
type heldCall struct {
	call    Call
	through chan struct{}
}

// gateBacklog bounds unreceived arrivals.
const gateBacklog = 4096

func newGate() *Gate {
	return &Gate{
		arrived: make(chan Call, gateBacklog),
		open:    make(chan struct{}),
	}
}

// Arrived delivers each call that reached the gate, in arrival order.
func (g *Gate) Arrived() <-chan Call { return g.arrived }

// Release lets n calls through: the longest-waiting ones, then (for what is
// left of n) calls that arrive later, one each.
func (g *Gate) Release(n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for ; n > 0 && len(g.held) > 0; n-- {
		close(g.held[0].through)
		g.held = g.held[1:]
	}
	g.credits += max(n, 0)
}

// Pending returns the calls waiting at the gate, ordered by Key, so the
// order does not depend on which goroutine reached the gate first.
func (g *Gate) Pending() []Call {
	g.mu.Lock()
	out := make([]Call, len(g.held))
	for i, h := range g.held {
		out[i] = h.call
	}
	g.mu.Unlock()
	slices.SortFunc(out, compareCalls)
	return out
}

// ReleaseCall lets the waiting call c (as Pending or Arrived gave it)
// through; false when it is not waiting (let through before, or given up
// when its context ended).
func (g *Gate) ReleaseCall(c Call) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, h := range g.held {
		if h.call.Op == c.Op && h.call.Seq == c.Seq {
			close(h.through)
			g.held = slices.Delete(g.held, i, i+1)
			return true
		}
	}
	return false
}

// Open lets every waiting and future call through.
func (g *Gate) Open() { g.once.Do(func() { close(g.open) }) }

func (g *Gate) pass(ctx context.Context, c Call) error {
	g.mu.Lock()
	if g.credits > 0 {
		g.credits--
		g.mu.Unlock()
		g.announce(c)
		return nil
	}
	h := &heldCall{call: c, through: make(chan struct{})}
	g.held = append(g.held, h)
	g.mu.Unlock()
	// Announced after it is held: a test that saw the arrival finds the
	// call in Pending.
	g.announce(c)
	select {
	case <-h.through:
		return nil
	case <-g.open:
		g.drop(h)
		return nil
	case <-ctx.Done():
		if !g.drop(h) {
			return nil // let through as the context ended: the release wins
		}
		return ctx.Err()
	}
}

func (g *Gate) announce(c Call) {
	select {
	case g.arrived <- c:
	default:
		// Nobody is reading arrivals; the call still waits for release.
	}
}

// drop removes h from the waiting calls; false when it was let through.
func (g *Gate) drop(h *heldCall) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, x := range g.held {
		if x == h {
			g.held = slices.Delete(g.held, i, i+1)
			return true
		}
	}
	return false
}
