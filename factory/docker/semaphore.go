package docker

import (
	"container/list"
	"context"
	"sync"
)

// fairSemaphore bounds concurrent container starts and admits waiters in
// arrival order, so a burst of creations cannot starve an earlier one.
// A limit <= 0 means unlimited.
type fairSemaphore struct {
	limit   int
	mu      sync.Mutex
	held    int
	waiters list.List // of chan struct{}
	// queued, when set (tests), receives once per waiter that joined the queue.
	queued chan<- struct{}
}

func newFairSemaphore(limit int) *fairSemaphore { return &fairSemaphore{limit: limit} }

// Acquire blocks until a slot is free or ctx ends.
func (s *fairSemaphore) Acquire(ctx context.Context) error {
	if s.limit <= 0 {
		return ctx.Err()
	}
	s.mu.Lock()
	if s.held < s.limit && s.waiters.Len() == 0 {
		s.held++
		s.mu.Unlock()
		return nil
	}
	ready := make(chan struct{})
	elem := s.waiters.PushBack(ready)
	queued := s.queued
	s.mu.Unlock()
	if queued != nil {
		queued <- struct{}{}
	}

	select {
	case <-ready:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		select {
		case <-ready:
			// Granted while we were giving up: pass the slot on.
			s.mu.Unlock()
			s.Release()
		default:
			s.waiters.Remove(elem)
			s.mu.Unlock()
		}
		return ctx.Err()
	}
}

// Release frees a slot, handing it to the oldest waiter if there is one.
func (s *fairSemaphore) Release() {
	if s.limit <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if front := s.waiters.Front(); front != nil {
		s.waiters.Remove(front)
		close(front.Value.(chan struct{}))
		return
	}
	s.held--
}
