package pool

import (
	"testing"
	"time"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/internal/protocol"
)

// A plan from the pool replaces the container's own timers for the idle
// period: it pauses at the plan's time (before its pause grace), reports
// the pause, and is removed at the plan's time, not idle-container after
// the pause.
func TestContainerFollowsKeepAlivePlan(t *testing.T) {
	e := newCtEnv(t)
	c := newCtFake("c1", e.clock)
	p := e.params()
	p.StemCell = c
	p.ReportPause = true
	pid := e.spawn(p)
	e.job(pid, "a1", ctAction(1), actors.StartPrewarmed)
	ctNext[*protocol.ContainerReady](e)
	e.result(pid)
	t0 := e.clock.Now()
	pauseAt, removeAt := t0.Add(2*time.Second), t0.Add(time.Minute)
	e.sys.Root.Send(pid, &protocol.KeepAlive{PauseAt: pauseAt, RemoveAt: removeAt})
	e.sync(pid)

	e.clock.Advance(2 * time.Second)
	e.suspended(pid)
	if m := ctNext[*protocol.ContainerPaused](e); !m.Container.Equal(pid) || !m.At.Equal(pauseAt) {
		t.Fatalf("ContainerPaused %+v, want %v at %v", m, pid, pauseAt)
	}
	e.clock.Advance(removeAt.Sub(e.clock.Now()) - time.Nanosecond)
	e.sync(pid)
	e.quiet()
	e.clock.Advance(time.Nanosecond)
	ctNext[*protocol.ContainerRemoving](e)
	e.removed(pid, false)
	if n := c.count("suspend"); n != 1 {
		t.Fatalf("%d suspends, want 1", n)
	}
}

// A plan without a pause or a removal keeps the container Ready: neither
// the pause grace nor idle-container applies.
func TestContainerPlanNeverPausesNorRemoves(t *testing.T) {
	e := newCtEnv(t)
	c := newCtFake("c1", e.clock)
	pid, finished := e.spawnHearingJobs(c)
	e.job(pid, "a1", ctAction(1), actors.StartPrewarmed)
	ctNext[*protocol.ContainerReady](e)
	e.result(pid)
	e.sys.Root.Send(pid, &protocol.KeepAlive{})
	e.sync(pid)
	e.clock.Advance(time.Hour)
	e.sync(pid)
	e.quiet()
	if n := c.count("suspend"); n != 0 {
		t.Fatalf("%d suspends under a plan that never pauses", n)
	}
	// The plan ends with the next job: the container's own timers apply.
	e.job(pid, "a2", ctAction(1), actors.StartWarm)
	e.result(pid)
	for range 2 { // both jobs' ends heard: Ready again, pause armed
		select {
		case <-finished:
		case <-time.After(ctWait):
			t.Fatal("the container did not hear its job finish")
		}
	}
	e.sync(pid)
	e.clock.Advance(e.cfg.ContainerProxy.Timeouts.PauseGrace)
	e.suspended(pid)
	if n := c.count("suspend"); n != 1 {
		t.Fatalf("%d suspends after the plan ended, want 1", n)
	}
}
