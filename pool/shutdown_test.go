package pool

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/factory/fake"
)

// A shutdown while stem cells are being created waits for those creations
// (cancelled) before the factory's cleanup: when ShutdownDone comes, the
// factory holds no container and no creation, and opening the gate later
// creates nothing. Before StopCreating, the cleanup ran while the gated
// creations still held their memory in the fake.
func TestShutdownWhileStemCellsAreCreatedLeavesNoContainer(t *testing.T) {
	const stemCells = 3
	for _, created := range []int{0, 1, stemCells - 1} {
		t.Run(fmt.Sprintf("%d of %d created", created, stemCells), func(t *testing.T) {
			f := fake.New(fake.Options{})
			gate := f.Gate(fake.OpCreate)
			// Not startPool: the test shuts the pool down itself.
			sys := actors.NewSystem(zerolog.Nop())
			t.Cleanup(sys.Shutdown)
			p, err := spawn(sys.Root, Options{Config: stemCellConfig(1024, stemCells), Factory: f, Log: zerolog.Nop()}, hooks{})
			if err != nil {
				t.Fatal(err)
			}
			for i := range stemCells {
				select {
				case <-gate.Arrived():
				case <-time.After(waitFor):
					t.Fatalf("%d of %d stem-cell creations reached the factory", i, stemCells)
				}
			}
			gate.Release(created)
			eventually(t, fmt.Sprintf("%d stem cells prewarmed", created), func() bool {
				return snapshotOf(t, p).Prewarmed.Count == created
			})

			res, err := sys.Root.RequestFuture(p.PID(), &actors.Shutdown{}, waitFor).Result()
			if err != nil {
				t.Fatalf("no ShutdownDone: %v", err)
			}
			if d, ok := res.(*actors.ShutdownDone); !ok || d.Err != nil {
				t.Fatalf("shutdown answered %T %+v, want ShutdownDone without error", res, res)
			}
			if n, mem := len(f.Live()), f.LiveMemory(); n != 0 || mem != 0 {
				t.Fatalf("after ShutdownDone the factory holds %d containers, %d B (created or being created)", n, mem)
			}
			if got := f.CleanupCalls(); got != 1 {
				t.Fatalf("factory cleanups %d, want 1", got)
			}

			gate.Open()
			ctx, cancel := context.WithTimeout(context.Background(), waitFor)
			defer cancel()
			if err := p.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			if got := len(f.Created()); got != created {
				t.Fatalf("the factory created %d containers, want the %d released before the shutdown", got, created)
			}
			if err := f.Verify(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// The shutdown's wait for the factory's creations is bounded: a factory
// actor that never answers StopCreating holds the cleanup back exactly
// docker.timeouts.rm + creationsStopMargin; one that answers, not at all.
func TestShutdownWaitForTheFactoryIsBounded(t *testing.T) {
	const rm = 5 * time.Second
	for _, answers := range []bool{true, false} {
		t.Run(fmt.Sprintf("factory answers %v", answers), func(t *testing.T) {
			cfg := testConfig(256)
			cfg.Docker.Timeouts.Rm = rm
			asked := make(chan struct{}, 2)
			h := newHarnessHooks(t, cfg, nil, func(hk *hooks) {
				hk.factory = func() *actor.Props {
					return actor.PropsFromFunc(func(c actor.Context) {
						if _, ok := c.Message().(*actors.StopCreating); ok {
							asked <- struct{}{}
							if answers {
								c.Respond(&actors.CreatingStopped{})
							}
						}
					})
				}
			})
			done := make(chan any, 1)
			go func() {
				res, err := h.sys.Root.RequestFuture(h.pool.PID(), &actors.Shutdown{}, waitFor).Result()
				if err != nil {
					res = err
				}
				done <- res
			}()
			select {
			case <-asked:
			case <-time.After(waitFor):
				t.Fatal("the shutdown never asked the factory actor to stop creating")
			}
			if !answers {
				h.snapshot() // the pool has armed the bound
				h.clock.Advance(rm + creationsStopMargin - time.Millisecond)
				h.snapshot() // and handled whatever fell due
				select {
				case res := <-done:
					t.Fatalf("shutdown answered %v before the bound passed", res)
				default:
				}
				h.clock.Advance(time.Millisecond)
			}
			select {
			case res := <-done:
				if d, ok := res.(*actors.ShutdownDone); !ok || d.Err != nil {
					t.Fatalf("shutdown answered %T %v, want ShutdownDone", res, res)
				}
			case <-time.After(waitFor):
				t.Fatal("no ShutdownDone")
			}
		})
	}
}
