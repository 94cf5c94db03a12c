package docker

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/stemcell-io/stemcell/config"
)

// gatedPullEngine holds every pull until release closes.
type gatedPullEngine struct {
	engine
	calls   atomic.Int32
	started chan struct{} // receives once per pull that began
	release chan struct{}
	err     error
}

func (e *gatedPullEngine) ImagePull(ctx context.Context, ref, auth string, _ func(pullProgress)) error {
	e.calls.Add(1)
	e.started <- struct{}{}
	select {
	case <-e.release:
		return e.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func TestPullsOfOneImageShareOneCall(t *testing.T) {
	eng := &gatedPullEngine{started: make(chan struct{}, 4), release: make(chan struct{}), err: errors.New("pull failed")}
	f := &Factory{eng: eng}
	first := make(chan error, 1)
	go func() { first <- f.pull(context.Background(), "img", config.RegistryConfig{}) }()
	<-eng.started
	// joinPull does not block: these callers have joined the running call
	// before it is released.
	joined := []<-chan error{first}
	for range 2 {
		ch := f.joinPull("img", "")
		errc := make(chan error, 1)
		go func() { errc <- (<-ch).Err }()
		joined = append(joined, errc)
	}
	// A caller that gives up stops waiting; the shared call goes on.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.pull(ctx, "img", config.RegistryConfig{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller: err = %v, want context.Canceled", err)
	}
	close(eng.release)
	for i, errc := range joined {
		if err := <-errc; err == nil || err.Error() != "pull failed" {
			t.Errorf("caller %d: err = %v, want the shared failure", i, err)
		}
	}
	if n := eng.calls.Load(); n != 1 {
		t.Fatalf("engine pulls = %d, want 1 shared call", n)
	}
	// The failed call is forgotten: the next caller pulls again.
	eng.err = nil
	if err := f.pull(context.Background(), "img", config.RegistryConfig{}); err != nil {
		t.Fatal(err)
	}
	if n := eng.calls.Load(); n != 2 {
		t.Errorf("engine pulls = %d, want a fresh call after the failure", n)
	}
}
