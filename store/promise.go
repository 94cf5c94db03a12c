package store

import (
	"sync"
	"time"
)

// Promise stands for the final record of an activation whose caller was
// answered before the record was whole: a blocking invoke gets its result
// as soon as the action answered, while the logs are still being
// collected. Every read waits for the promises made before it, so a client
// that was answered finds the record, logs included, on its next request.
// Keep or Break must follow, and soon: reads wait for them, up to
// Options.PromiseWait.
type Promise struct {
	s    *Store
	done chan struct{}
	once sync.Once
}

// Promise registers a record to come.
func (s *Store) Promise() *Promise {
	p := &Promise{s: s, done: make(chan struct{})}
	s.promMu.Lock()
	s.promises[p] = struct{}{}
	s.promMu.Unlock()
	return p
}

// Keep queues the record as Complete does, then releases the readers that
// wait for it; they find it queued, so they see it.
func (p *Promise) Keep(rec *Activation) <-chan error {
	done := p.s.Complete(rec)
	p.end()
	return done
}

// Break releases the readers without a record.
func (p *Promise) Break() { p.end() }

func (p *Promise) end() {
	p.once.Do(func() {
		p.s.promMu.Lock()
		delete(p.s.promises, p)
		p.s.promMu.Unlock()
		close(p.done)
	})
}

// awaitPromises waits for every promise made before the call, for at most
// Options.PromiseWait in all.
func (s *Store) awaitPromises() {
	s.promMu.Lock()
	if len(s.promises) == 0 {
		s.promMu.Unlock()
		return
	}
	waits := make([]chan struct{}, 0, len(s.promises))
	for p := range s.promises {
		waits = append(waits, p.done)
	}
	s.promMu.Unlock()
	timeout := time.NewTimer(s.opts.PromiseWait)
	defer timeout.Stop()
	for _, w := range waits {
		select {
		case <-w:
		case <-timeout.C:
			s.log.Warn().Int("promises", len(waits)).Dur("waited", s.opts.PromiseWait).
				Msg("read goes on without activation records still waiting for their logs")
			return
		}
	}
}
