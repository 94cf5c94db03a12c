package pool

import (
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/factory/fake"
	"github.com/stemcell-io/stemcell/internal/protocol"
)

// TestContainerCreateDeadlineHoldsMemoryUntilRemoved: a create that
// outlives the container actor's create deadline answers its caller at
// once with the provisioning error, but ContainerRemoved (with which the
// pool gives the memory back) waits for the factory's late answer and, if
// a container came, for its removal: the memory the factory holds is never
// more than what the ledger holds, and the late container is destroyed
// exactly once.
func TestContainerCreateDeadlineHoldsMemoryUntilRemoved(t *testing.T) {
	const mem = 256 * config.MB
	tests := []struct {
		name string
		// late ends the gated creation after the deadline; it may act on
		// the actor first (and then sees it stop).
		late          func(t *testing.T, e *ctEnv, f *fake.Factory, gate *fake.Gate, pid *actor.PID)
		wantContainer bool // the factory created a container (to be destroyed)
		stoppedFirst  bool // the actor stopped before ContainerRemoved
	}{
		{
			name:          "the container comes late",
			late:          func(_ *testing.T, _ *ctEnv, _ *fake.Factory, gate *fake.Gate, _ *actor.PID) { gate.Release(1) },
			wantContainer: true,
		},
		{
			name: "the creation fails late",
			late: func(_ *testing.T, _ *ctEnv, f *fake.Factory, gate *fake.Gate, _ *actor.PID) {
				f.SetFaults(fake.Always(fake.OpCreate, fake.FaultError))
				gate.Release(1)
			},
		},
		{
			// A restarted instance cannot trust what its predecessor held,
			// but knows from the cell that the creation is still pending.
			name: "the actor crashes while waiting",
			late: func(t *testing.T, e *ctEnv, f *fake.Factory, gate *fake.Gate, pid *actor.PID) {
				e.sys.Root.Send(pid, &ctCrash{})
				e.sync(pid) // handled by the restarted instance
				e.quiet()
				if got := f.LiveMemory(); got != int64(mem) {
					t.Errorf("factory holds %d bytes after the restart, want %d: the creation is still in flight", got, mem)
				}
				gate.Release(1)
			},
			wantContainer: true,
		},
		{
			// Stopped from outside while it waits: the creation's own
			// goroutine removes the late container and reports.
			name: "the actor stops while waiting",
			late: func(t *testing.T, e *ctEnv, f *fake.Factory, gate *fake.Gate, pid *actor.PID) {
				e.sys.Root.Stop(pid)
				e.terminated(pid)
				e.quiet()
				if got := f.LiveMemory(); got != int64(mem) {
					t.Errorf("factory holds %d bytes after the stop, want %d: the creation is still in flight", got, mem)
				}
				gate.Release(1)
			},
			wantContainer: true,
			stoppedFirst:  true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newCtEnv(t)
			f := fake.New(fake.Options{})
			gate := f.Gate(fake.OpCreate)
			pid := e.coldWith(f, factory.ContainerSpec{Name: "t_late", Kind: "js:goja", Memory: mem})
			e.job(pid, "a1", ctAction(1), actors.StartCold)
			select {
			case <-gate.Arrived():
			case <-time.After(ctWait):
				t.Fatal("the create did not reach the factory")
			}
			e.sync(pid) // the deadline is armed and the job buffered

			e.clock.Advance(createTimeout(e.cfg))
			ctNext[*protocol.ContainerRemoving](e)
			res := e.result(pid)
			if res.Status != factory.StatusInternalError || !strings.Contains(string(res.Response), msgProvisionError) {
				t.Fatalf("caller got status %v %s, want an internal error %q", res.Status, res.Response, msgProvisionError)
			}
			e.quiet() // no ContainerRemoved while the factory may still create
			if got := f.LiveMemory(); got != int64(mem) {
				t.Fatalf("factory holds %d bytes during the late create, want %d", got, mem)
			}

			tt.late(t, e, f, gate, pid)
			removed := ctNext[*protocol.ContainerRemoved](e)
			// Read at once: the memory returns to the pool with this message.
			live, created := f.LiveMemory(), f.Created()
			if !removed.Container.Equal(pid) || !removed.Replace {
				t.Errorf("ContainerRemoved %+v, want container %v with replace", removed, pid)
			}
			if live != 0 {
				t.Errorf("ContainerRemoved while the factory still holds %d bytes", live)
			}
			if tt.wantContainer != (len(created) == 1) || len(created) > 1 {
				t.Fatalf("factory created %d containers, want one: %v", len(created), tt.wantContainer)
			}
			if !tt.stoppedFirst {
				e.terminated(pid)
			}
			e.quiet()
			for _, c := range created {
				if c.Destroys() != 1 || !c.Destroyed() {
					t.Errorf("late container %s destroyed %d times (destroyed=%v), want exactly once", c.ID(), c.Destroys(), c.Destroyed())
				}
			}
			if v := f.Violations(); len(v) != 0 {
				t.Errorf("fake factory violations: %v", v)
			}
		})
	}
}
