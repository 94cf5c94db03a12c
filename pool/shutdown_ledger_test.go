package pool

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory/fake"
)

// A shutdown that starts while stem-cell creations are held in the factory
// keeps their reservations booked until those creations have ended and the
// factory's cleanup ran: at no instant does the engine (the fake's live and
// in-creation memory) hold more than the ledger books. Before, the shutdown
// released every reservation at its start, so the held creations, and a
// container one of them made after the scheduler stopped, were unbooked.
//
// The shutdown is held on the removal of the one prewarmed stem cell, so
// the creations are still in flight while it runs, and then on the
// cleanup, after the factory actor confirmed the creations ended. Either one of them then
// completes (its container answers the stopped scheduler and lives until
// the cleanup) or none does (StopCreating cancels them all).
func TestShutdownKeepsReservationsUntilCreationsEnd(t *testing.T) {
	const (
		stemCells = 3
		cellMem   = 256 * config.MB
	)
	for _, tc := range []struct {
		name           string
		completeDuring int // held creations let through while the shutdown is held
	}{
		{"held creations cancelled by StopCreating", 0},
		{"a held creation completes after the scheduler stopped", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := fake.New(fake.Options{})
			creates, destroys := f.Gate(fake.OpCreate), f.Gate(fake.OpDestroy)
			sys := actors.NewSystem(zerolog.Nop())
			t.Cleanup(sys.Shutdown)
			// The cleanup is held too, so the test sees the instant between
			// the end of the creations and the removal of what they made.
			cleanupStarted, letCleanup := make(chan struct{}), make(chan struct{})
			cleanup := func() error {
				close(cleanupStarted)
				<-letCleanup
				return f.Cleanup(context.Background())
			}
			p, err := spawn(sys.Root, Options{Config: stemCellConfig(1024, stemCells), Factory: f, Log: zerolog.Nop()}, hooks{cleanup: cleanup})
			if err != nil {
				t.Fatal(err)
			}
			// bookedCoversEngine reads the ledger first: memory enters the
			// engine only after the ledger booked it and leaves the ledger
			// only after the engine let it go, so a later engine reading
			// can only be lower than what the ledger booked.
			bookedCoversEngine := func(step string) actors.MemorySnapshot {
				t.Helper()
				s := snapshotOf(t, p)
				booked, live := s.Total-s.Free, f.LiveMemory()
				if live > int64(booked) {
					t.Fatalf("%s: the engine holds %d MB, the ledger books %d MB (%+v)", step, live>>20, booked.MBs(), s)
				}
				return s
			}

			for i := range stemCells {
				select {
				case <-creates.Arrived():
				case <-time.After(waitFor):
					t.Fatalf("%d of %d stem-cell creations reached the factory", i, stemCells)
				}
			}
			creates.Release(1)
			eventually(t, "one stem cell prewarmed", func() bool { return snapshotOf(t, p).Prewarmed.Count == 1 })
			bookedCoversEngine("before the shutdown")

			done := make(chan any, 1)
			go func() {
				res, err := sys.Root.RequestFuture(p.PID(), &actors.Shutdown{}, waitFor).Result()
				if err != nil {
					res = err
				}
				done <- res
			}()
			select {
			case <-destroys.Arrived():
			case <-time.After(waitFor):
				t.Fatal("the shutdown never removed the prewarmed stem cell")
			}
			held := stemCells - 1
			s := bookedCoversEngine("shutdown started, creations held")
			if want := config.ByteSize(held) * cellMem; s.Starting.Memory != want {
				t.Fatalf("shutdown started with %d creations held: %d MB starting, want %d MB", held, s.Starting.Memory.MBs(), want.MBs())
			}

			creates.Release(tc.completeDuring)
			eventually(t, fmt.Sprintf("%d containers created", 1+tc.completeDuring), func() bool {
				return len(f.Created()) == 1+tc.completeDuring
			})
			s = bookedCoversEngine("held creations let through")
			if want := config.ByteSize(held) * cellMem; s.Starting.Memory != want {
				t.Fatalf("after %d held creations completed into the stopped scheduler: %d MB starting, want %d MB",
					tc.completeDuring, s.Starting.Memory.MBs(), want.MBs())
			}

			destroys.Open()
			select {
			case <-cleanupStarted:
			case <-time.After(waitFor):
				t.Fatal("the shutdown never reached the factory's cleanup")
			}
			bookedCoversEngine("creations stopped, cleanup held")
			if want := int64(tc.completeDuring) * int64(cellMem); f.LiveMemory() != want {
				t.Fatalf("before the cleanup ran the engine holds %d B, want %d B (the containers made after the scheduler stopped)", f.LiveMemory(), want)
			}
			close(letCleanup)
			var res any
			for res == nil {
				select {
				case res = <-done:
				default:
					bookedCoversEngine("shutdown ending")
				}
			}
			if d, ok := res.(*actors.ShutdownDone); !ok || d.Err != nil {
				t.Fatalf("shutdown answered %T %v, want ShutdownDone without error", res, res)
			}
			s = bookedCoversEngine("after ShutdownDone")
			if s.Free != s.Total || f.LiveMemory() != 0 {
				t.Fatalf("after ShutdownDone the ledger books %d MB, the engine holds %d B; want both empty",
					(s.Total - s.Free).MBs(), f.LiveMemory())
			}
			creates.Open()
			ctx, cancel := context.WithTimeout(context.Background(), waitFor)
			defer cancel()
			if err := p.Shutdown(ctx); err != nil { // stops the pool actor
				t.Fatal(err)
			}
			if err := f.Verify(); err != nil {
				t.Fatal(err)
			}
		})
	}
}
