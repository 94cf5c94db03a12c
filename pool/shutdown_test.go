package pool

import (
	"context"
	"fmt"
	"testing"
	"time"

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
