package docker

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/stemcell-io/stemcell/factory"
)

// watchEvents runs f.Watch until the test ends and returns its events.
func watchEvents(t *testing.T, f *Factory) <-chan factory.EngineEvent {
	t.Helper()
	ch := make(chan factory.EngineEvent, 64)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.Watch(ctx, func(ev factory.EngineEvent) { ch <- ev })
	}()
	t.Cleanup(func() { cancel(); <-done })
	return ch
}

// waitEvent waits up to 2 s for an event of kind about id, skipping others.
func waitEvent(t *testing.T, ch <-chan factory.EngineEvent, id string, kind factory.EngineEventKind) {
	t.Helper()
	deadline := time.After(2 * time.Second)
	for {
		select {
		case ev := <-ch:
			if ev.ID == id && ev.Kind == kind {
				return
			}
		case <-deadline:
			t.Fatalf("no %s event for %s within 2 s", kind, id)
		}
	}
}

// What an operator does to a container behind the factory's back is
// reported within 2 s, by the event stream or the periodic list.
func TestWatchReportsChangesOutside(t *testing.T) {
	needEngine(t)
	cli := testEnv.eng.cli
	for _, tc := range []struct {
		name string
		do   func(ctx context.Context, id string) error
		want []factory.EngineEventKind
	}{
		{"rm -f", func(ctx context.Context, id string) error {
			return cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true})
		}, []factory.EngineEventKind{factory.EventGone}},
		{"kill", func(ctx context.Context, id string) error {
			return cli.ContainerKill(ctx, id, "KILL")
		}, []factory.EngineEventKind{factory.EventDied}},
		{"pause and unpause", func(ctx context.Context, id string) error {
			if err := cli.ContainerPause(ctx, id); err != nil {
				return err
			}
			return cli.ContainerUnpause(ctx, id)
		}, []factory.EngineEventKind{factory.EventPaused, factory.EventUnpaused}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newTestFactory(t, testConfig(t))
			evs := watchEvents(t, f)
			c := create(t, f, specFor(f, testEnv.fakeImage, false, nil))
			if err := tc.do(testCtx(t), c.ID()); err != nil {
				t.Fatal(err)
			}
			for _, k := range tc.want {
				waitEvent(t, evs, c.ID(), k)
			}
			if err := c.Destroy(testCtx(t)); err != nil {
				t.Fatalf("destroy after %s: %v", tc.name, err)
			}
		})
	}
}

// A change missed by the event stream is found by the list: the watcher
// is started only after the container was removed.
func TestWatchListFindsRemovedContainer(t *testing.T) {
	needEngine(t)
	f := newTestFactory(t, testConfig(t))
	f.watchEvery = 100 * time.Millisecond
	c := create(t, f, specFor(f, testEnv.fakeImage, false, nil))
	if err := testEnv.eng.Remove(testCtx(t), c.ID()); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, watchEvents(t, f), c.ID(), factory.EventGone)
}

// A container with this invoker's label and name prefix that the factory
// did not create is removed once older than the grace; one within the
// grace, and the factory's own, stay.
func TestWatchRemovesOrphans(t *testing.T) {
	needEngine(t)
	f := newTestFactory(t, testConfig(t))
	f.watchEvery = 100 * time.Millisecond
	f.orphanGrace = time.Second // the engine's creation time has whole seconds
	own := create(t, f, specFor(f, testEnv.fakeImage, false, nil))
	ctx := testCtx(t)
	cs := f.containerSpec(specFor(f, testEnv.fakeImage, false, nil), testEnv.fakeImage)
	orphan, err := testEnv.eng.Create(ctx, cs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = testEnv.eng.Remove(context.Background(), orphan) })
	watchEvents(t, f)
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := testEnv.eng.Inspect(ctx, orphan)
		if err != nil && strings.Contains(strings.ToLower(err.Error()), "no such container") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("orphan %s (%s) still in the engine after 10 s (inspect: %v)", orphan, cs.Name, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := testEnv.eng.Inspect(ctx, own.ID()); err != nil {
		t.Fatalf("the factory's own container was touched: %v", err)
	}
}
