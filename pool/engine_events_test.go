package pool

import (
	"context"
	"testing"
	"time"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/factory/fake"
)

// These tests change fake containers behind the pool's back, as an
// operator's docker rm -f, kill or pause would, and check that the pool
// follows the engine: what was lost is replaced or answered at once, and
// memory returns only once the factory no longer holds the container.

// stemCellConfig is steadyConfig with n 256 MB js:goja stem cells.
func stemCellConfig(userMB int64, n int) *config.Config {
	cfg := steadyConfig(userMB)
	cfg.ContainerPool.PrewarmMaxRetryLimit = 5
	cfg.RuntimesManifest.Manifest.Runtimes = map[string][]config.RuntimeKind{"nodejs": {{
		Kind:      "js:goja",
		Image:     config.ImageName{Name: "node"},
		StemCells: []config.StemCell{{InitialCount: n, Memory: 256 * config.MB}},
	}}}
	return cfg
}

// eventually polls cond until it holds or 5 s pass: the pool's reaction
// goes through several actors, and its end is seen only from outside.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 5 s: %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func liveIDs(f *fake.Factory) map[string]bool {
	ids := map[string]bool{}
	for _, c := range f.Live() {
		ids[c.ID()] = true
	}
	return ids
}

// checkLedgerFollowsFactory fails when the pool books less memory than the
// fake holds: that would be memory given back before the engine let go.
func checkLedgerFollowsFactory(t *testing.T, p *Pool, f *fake.Factory) {
	t.Helper()
	s := snapshotOf(t, p)
	if booked := int64(s.Total - s.Free); booked < f.LiveMemory() {
		t.Fatalf("pool books %d B, the factory holds %d B: memory returned before the container went", booked, f.LiveMemory())
	}
}

func snapshotOf(t *testing.T, p *Pool) actors.MemorySnapshot {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := p.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A stem cell removed or killed outside the pool leaves the prewarmed
// count and is replaced by a new one; the lost container is not given to
// an activation.
func TestStemCellLostOutsideIsReplaced(t *testing.T) {
	for _, tc := range []struct {
		name string
		lose func(f *fake.Factory, id string) error
	}{
		{"removed", (*fake.Factory).RemoveOutside},
		{"killed", (*fake.Factory).KillOutside},
		{"paused", (*fake.Factory).PauseOutside},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := fake.New(fake.Options{})
			p, _ := startPool(t, Options{Config: stemCellConfig(1024, 2), Factory: f}, hooks{})
			eventually(t, "2 stem cells ready", func() bool { return snapshotOf(t, p).Prewarmed.Count == 2 })
			lost := f.Live()[0]
			if err := tc.lose(f, lost.ID()); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the lost stem cell replaced", func() bool {
				checkLedgerFollowsFactory(t, p, f)
				ids := liveIDs(f)
				return !ids[lost.ID()] && len(ids) == 2 && snapshotOf(t, p).Prewarmed.Count == 2
			})
			if !lost.Destroyed() && tc.name != "removed" {
				t.Errorf("lost stem cell %s was not destroyed", lost.ID())
			}
			// The activations take the new cells, never the lost one.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			for _, id := range []string{"a1", "a2"} {
				res, err := p.Invoke(ctx, act(id, "ns", id, 256))
				if err != nil {
					t.Fatal(err)
				}
				if res.Status != factory.StatusSuccess || res.ContainerID == lost.ID() {
					t.Fatalf("%s: status %d in container %s (lost: %s); want success in another", id, res.Status, res.ContainerID, lost.ID())
				}
			}
			if v := f.Violations(); len(v) > 0 {
				t.Fatalf("factory misuse: %v", v)
			}
		})
	}
}

// An idle warm container paused outside the pool is resumed before it
// takes the next activation (a run on a paused fake is a violation: the
// engine would hold it until its time limit).
func TestWarmContainerPausedOutsideServesNextRun(t *testing.T) {
	f := fake.New(fake.Options{})
	p, _ := startPool(t, Options{Config: steadyConfig(512), Factory: f}, hooks{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	first, err := p.Invoke(ctx, act("a1", "ns", "warm", 256))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.PauseOutside(first.ContainerID); err != nil {
		t.Fatal(err)
	}
	c := f.Live()[0]
	eventually(t, "the container resumed", func() bool { return !c.Paused() })
	res, err := p.Invoke(ctx, act("a2", "ns", "warm", 256))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != factory.StatusSuccess || res.ContainerID != first.ContainerID || res.StartKind != actors.StartWarm {
		t.Fatalf("second run: status %d in %s (%s); want a warm success in %s", res.Status, res.ContainerID, res.StartKind, first.ContainerID)
	}
	if v := f.Violations(); len(v) > 0 {
		t.Fatalf("factory misuse: %v", v)
	}
}

// A run whose container is removed or killed outside, and whose I/O does
// not notice (held at the fake's gate), is answered within about a
// second with an internal error, not at its time limit; the container's
// memory returns only after it is gone from the factory.
func TestRunInLostContainerIsAnsweredAtOnce(t *testing.T) {
	for _, tc := range []struct {
		name string
		lose func(f *fake.Factory, id string) error
	}{
		{"removed", (*fake.Factory).RemoveOutside},
		{"killed", (*fake.Factory).KillOutside},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := fake.New(fake.Options{})
			p, _ := startPool(t, Options{Config: steadyConfig(512), Factory: f}, hooks{})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if _, err := p.Invoke(ctx, act("a1", "ns", "lost", 256)); err != nil {
				t.Fatal(err)
			}
			gate := f.Gate(fake.OpRun)
			done := make(chan actors.Result, 1)
			go func() {
				res, err := p.Invoke(ctx, act("a2", "ns", "lost", 256))
				if err != nil {
					t.Error(err)
				}
				done <- res
			}()
			call := <-gate.Arrived()
			lostAt := time.Now()
			if err := tc.lose(f, call.Container.ID()); err != nil {
				t.Fatal(err)
			}
			res := <-done
			if took := time.Since(lostAt); took > 2*time.Second {
				t.Errorf("answered %v after the container was lost, want within 2 s", took)
			}
			if res.Status != factory.StatusInternalError {
				t.Errorf("status %d (%s), want %d (internal error)", res.Status, res.Response, factory.StatusInternalError)
			}
			eventually(t, "the lost container's memory back", func() bool {
				checkLedgerFollowsFactory(t, p, f)
				s := snapshotOf(t, p)
				return s.Free == s.Total && f.LiveMemory() == 0
			})
			f.Ungate(fake.OpRun)
			again, err := p.Invoke(ctx, act("a3", "ns", "lost", 256))
			if err != nil || again.Status != factory.StatusSuccess || again.ContainerID == call.Container.ID() {
				t.Fatalf("next run: %+v, %v; want a success in a new container", again, err)
			}
		})
	}
}
