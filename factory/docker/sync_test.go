package docker

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestFairSemaphoreAdmitsInArrivalOrder(t *testing.T) {
	queued := make(chan struct{})
	s := newFairSemaphore(1)
	s.queued = queued
	ctx := context.Background()
	if err := s.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	order := make(chan int, 5)
	for i := range 5 {
		go func() {
			if err := s.Acquire(ctx); err != nil {
				t.Error(err)
				return
			}
			order <- i
			s.Release()
		}()
		<-queued // waiter i is queued before i+1 starts
	}
	s.Release()
	for want := range 5 {
		select {
		case got := <-order:
			if got != want {
				t.Fatalf("admitted %d, want %d", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("waiter never admitted")
		}
	}
}

func TestFairSemaphoreCancelledWaiterLeavesQueue(t *testing.T) {
	queued := make(chan struct{})
	s := newFairSemaphore(1)
	s.queued = queued
	if err := s.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.Acquire(ctx) }()
	<-queued
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want Canceled", err)
	}
	s.Release()
	// The slot is free again: a new acquire must not block.
	actx, acancel := context.WithTimeout(context.Background(), time.Second)
	defer acancel()
	if err := s.Acquire(actx); err != nil {
		t.Fatalf("slot leaked: %v", err)
	}
}

func TestFairSemaphoreUnlimited(t *testing.T) {
	s := newFairSemaphore(0)
	for range 100 {
		if err := s.Acquire(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestInflightSharesOneCall(t *testing.T) {
	joined := make(chan struct{})
	g := inflight{joined: joined}
	var calls atomic.Int32
	release := make(chan struct{})
	started := make(chan struct{})
	errs := make(chan error, 3)
	go func() {
		errs <- g.Do(context.Background(), "img", func() error {
			calls.Add(1)
			close(started)
			<-release
			return errors.New("pull failed")
		})
	}()
	<-started
	for range 2 {
		go func() { errs <- g.Do(context.Background(), "img", func() error { calls.Add(1); return nil }) }()
		<-joined
	}
	close(release)
	for range 3 {
		if err := <-errs; err == nil || err.Error() != "pull failed" {
			t.Errorf("err = %v, want the shared failure", err)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("calls = %d, want 1 shared call", n)
	}
	// The failed call is forgotten: the next caller runs again.
	if err := g.Do(context.Background(), "img", func() error { calls.Add(1); return nil }); err != nil {
		t.Fatal(err)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("calls = %d, want a fresh call after the failure", n)
	}
}
