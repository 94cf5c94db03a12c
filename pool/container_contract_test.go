package pool

import (
	"fmt"
	"testing"
	"time"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/factory/fake"
	"github.com/stemcell-io/stemcell/internal/protocol"
)

// TestContainerContract checks the container actor's contract with the
// pool (newContainerProps) across the paths that end a container's life:
// every job ends in exactly one outcome (a RunResult, its JobDone before
// it, or a Reschedule), ContainerRemoved comes exactly once, as the last
// report, and only once the engine (the fake factory) no longer holds the
// container, which it destroyed exactly once.
func TestContainerContract(t *testing.T) {
	tests := []struct {
		name    string
		faults  fake.Injector
		maxConc int
		abort   bool // Remove{Abort: true} instead of a drain
		gateRun bool // runs wait at a gate until after the Remove
	}{
		{name: "all succeed, then drained", maxConc: 1},
		{name: "all succeed concurrently, then drained", maxConc: 3},
		{name: "developer error on the second run", maxConc: 1, faults: fake.Nth(fake.OpRun, 2, fake.FaultDeveloperError)},
		{name: "health error on the second run", maxConc: 1, faults: fake.Nth(fake.OpRun, 2, fake.FaultHealth)},
		{name: "crash on the third run", maxConc: 2, faults: fake.Nth(fake.OpRun, 3, fake.FaultCrash)},
		{name: "init fails", maxConc: 2, faults: fake.Always(fake.OpInit, fake.FaultDeveloperError)},
		{name: "create fails", maxConc: 1, faults: fake.Always(fake.OpCreate, fake.FaultError)},
		{name: "logs fail", maxConc: 1, faults: fake.Nth(fake.OpLogs, 2, fake.FaultError)},
		{name: "aborted while running", maxConc: 2, abort: true, gateRun: true},
		{name: "drained while running", maxConc: 2, gateRun: true},
	}
	const jobs = 5
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newCtEnv(t)
			f := fake.New(fake.Options{Faults: tt.faults})
			// The creation waits until every job is in the actor's hands:
			// a container that ended before a job reached it would have
			// stopped, and the job would be a dead letter (the pool keeps
			// its container actors from stopping themselves; this stand-in
			// does not).
			create := f.Gate(fake.OpCreate)
			var gate *fake.Gate
			if tt.gateRun {
				gate = f.Gate(fake.OpRun)
			}
			pid := e.coldWith(f, factory.ContainerSpec{Name: "t_contract", Kind: "js:goja", Memory: 256 * config.MB})
			act := ctAction(tt.maxConc)
			act.Limits.Logs = 10 * config.KB
			for i := range jobs {
				e.job(pid, fmt.Sprintf("a%d", i), act, actors.StartCold)
			}
			if gate == nil {
				e.sys.Root.Send(pid, &protocol.Remove{Abort: tt.abort})
			}
			e.sync(pid)
			create.Open()
			if gate != nil {
				// Removed while a run holds the container: it cannot end
				// before the Remove arrives.
				select {
				case <-gate.Arrived():
				case <-time.After(ctWait):
					t.Fatal("no run reached the gate")
				}
				e.sys.Root.Send(pid, &protocol.Remove{Abort: tt.abort})
				e.sync(pid)
				gate.Open()
			}

			outcomes := map[string]int{}
			done, results := 0, 0
			for removed := false; !removed; {
				switch m := e.next().(type) {
				case *protocol.JobDone:
					done++
				case *actors.RunResult:
					results++
					if results > done {
						t.Fatalf("RunResult of %s before its JobDone", m.Result.ActivationID)
					}
					outcomes[m.Result.ActivationID]++
				case *protocol.Reschedule:
					outcomes[m.Job.Activation.ID]++
				case *protocol.ContainerRemoved:
					removed = true
					if live := f.LiveMemory(); live != 0 {
						t.Errorf("ContainerRemoved while the factory still holds %d bytes", live)
					}
				case *protocol.ContainerReady, *protocol.ContainerRemoving:
				default:
					t.Fatalf("unexpected %T %+v", m, m)
				}
			}
			e.terminated(pid)
			e.quiet() // nothing after ContainerRemoved: no second one, no late outcome
			if done != results {
				t.Errorf("%d JobDone for %d RunResult", done, results)
			}
			for i := range jobs {
				if id := fmt.Sprintf("a%d", i); outcomes[id] != 1 {
					t.Errorf("job %s got %d outcomes, want exactly one", id, outcomes[id])
				}
			}
			for _, c := range f.Created() {
				if c.Destroys() != 1 {
					t.Errorf("container %s destroyed %d times, want once", c.ID(), c.Destroys())
				}
			}
			if v := f.Violations(); len(v) != 0 {
				t.Errorf("fake factory violations: %v", v)
			}
		})
	}
}
