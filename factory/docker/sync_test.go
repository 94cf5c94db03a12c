package docker

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
)

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
