package docker

import (
	"context"
	"sync"
)

// inflight shares one running call per key among concurrent callers (the
// same image pulled by several creations at once). The call is forgotten
// when it completes, whether it succeeded or failed, so a later caller tries
// again.
type inflight struct {
	mu    sync.Mutex
	calls map[string]*inflightCall
	// joined, when set (tests), receives once per caller that joined a
	// running call instead of starting one.
	joined chan<- struct{}
}

type inflightCall struct {
	done chan struct{}
	err  error
}

// Do runs fn once per key at a time. A caller whose ctx ends stops waiting;
// the shared call goes on for the others.
func (g *inflight) Do(ctx context.Context, key string, fn func() error) error {
	g.mu.Lock()
	if g.calls == nil {
		g.calls = map[string]*inflightCall{}
	}
	c, ok := g.calls[key]
	joined := g.joined
	if !ok {
		c = &inflightCall{done: make(chan struct{})}
		g.calls[key] = c
		go func() {
			c.err = fn()
			g.mu.Lock()
			delete(g.calls, key)
			g.mu.Unlock()
			close(c.done)
		}()
	}
	g.mu.Unlock()
	if ok && joined != nil {
		joined <- struct{}{}
	}
	select {
	case <-c.done:
		return c.err
	case <-ctx.Done():
		return ctx.Err()
	}
}
