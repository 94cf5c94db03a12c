package pool

import (
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/internal/protocol"
)

// The pause timer is armed once per idle period, not per job: a container
// that worked during the grace still pauses exactly pause-grace after it
// last went Ready.
func TestContainerPauseGraceCountsFromLastJob(t *testing.T) {
	e := newCtEnv(t)
	c := newCtFake("c1", e.clock)
	pid, finished := e.spawnHearingJobs(c)
	done := func() {
		t.Helper()
		select {
		case <-finished:
		case <-time.After(ctWait):
			t.Fatal("the container did not hear its job finish")
		}
		e.sync(pid)
	}
	act := ctAction(1)
	grace := e.cfg.ContainerProxy.Timeouts.PauseGrace
	e.job(pid, "a1", act, actors.StartPrewarmed)
	ctNext[*protocol.ContainerReady](e)
	e.result(pid)
	done() // Ready at T0; pause check due at T0+grace

	e.clock.Advance(grace / 2)
	e.job(pid, "a2", act, actors.StartWarm)
	e.result(pid)
	done() // Ready again at T0+grace/2
	if n := e.clock.Pending(); n != 1 {
		t.Fatalf("%d timers pending after the second job, want the one pause check", n)
	}

	e.clock.Advance(grace / 2) // the first check fires and re-arms
	e.sync(pid)
	if c.count("suspend") != 0 {
		t.Fatal("paused grace/2 after the last job")
	}
	e.clock.Advance(grace/2 - time.Nanosecond)
	e.sync(pid)
	if c.count("suspend") != 0 {
		t.Fatal("paused before pause-grace after the last job")
	}
	e.clock.Advance(time.Nanosecond)
	e.suspended(pid)
	if c.count("suspend") != 1 {
		t.Fatalf("%d suspends, want 1", c.count("suspend"))
	}
}

// spawnHearingJobs spawns a container actor on stem cell c and returns a
// channel that gets a value each time the actor hears a job is done: a
// warm job's result comes from its worker before the actor hears that.
func (e *ctEnv) spawnHearingJobs(c *ctFake) (*actor.PID, <-chan struct{}) {
	finished := make(chan struct{}, 8)
	p := e.params()
	hook := p.testHook
	p.testHook = func(m any) {
		hook(m)
		if _, ok := m.(*containerJob); ok {
			finished <- struct{}{}
		}
	}
	p.StemCell = c
	return e.spawn(p), finished
}
