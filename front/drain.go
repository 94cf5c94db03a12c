package front

import "sync"

// gate counts the invokes being forwarded, so that Shutdown can wait for
// them; once closed it admits no more. A sync.WaitGroup would not do: an
// invoke admitted just before the stop may Add while Shutdown Waits.
type gate struct {
	mu       sync.Mutex
	closed   bool
	inFlight int
	idle     chan struct{} // closed when inFlight reaches 0 after close
}

// enter admits one forward, unless the gate is closed.
func (g *gate) enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.inFlight++
	return true
}

func (g *gate) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.inFlight--
	if g.inFlight == 0 && g.idle != nil {
		close(g.idle)
		g.idle = nil
	}
}

// close admits nothing more and returns a channel closed once every
// admitted forward has left.
func (g *gate) close() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = true
	done := make(chan struct{})
	if g.inFlight == 0 {
		close(done)
		return done
	}
	if g.idle == nil {
		g.idle = done
	}
	return g.idle
}

// count is the number of forwards running.
func (g *gate) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.inFlight
}
