package pool

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/internal/protocol"
)

// blockingRun makes every /run wait for release or for its context.
func blockingRun(release <-chan struct{}) func(context.Context, factory.RunRequest) (factory.Outcome, error) {
	return func(ctx context.Context, req factory.RunRequest) (factory.Outcome, error) {
		select {
		case <-release:
			return factory.Outcome{Status: factory.StatusSuccess, Result: json.RawMessage(`{}`)}, nil
		case <-ctx.Done():
			return factory.Outcome{}, ctx.Err()
		}
	}
}

// A crash restarts the actor (same PID): the old instance answers its
// running job and bounces its buffered one; the new one removes the
// container, whose state it cannot trust, and reports the memory once.
func TestContainerCrashWhileRunning(t *testing.T) {
	e := newCtEnv(t)
	c := newCtFake("c1", e.clock)
	release := make(chan struct{})
	c.runFn = blockingRun(release)
	pid := e.stemCell(c)
	act := ctAction(1)
	e.job(pid, "a1", act, actors.StartPrewarmed)
	e.job(pid, "a2", act, actors.StartWarm)
	ctNext[*protocol.ContainerReady](e)
	waitEvent(t, c, "run")
	e.sys.Root.Send(pid, &ctCrash{})

	r := e.result(pid)
	if r.ActivationID != "a1" || r.Status != factory.StatusInternalError || string(r.Response) != `{"error":"`+msgActorFailed+`"}` {
		t.Fatalf("running job got %+v", r)
	}
	if m := ctNext[*protocol.Reschedule](e); m.Job.Activation.ID != "a2" {
		t.Fatalf("rescheduled %s, want a2", m.Job.Activation.ID)
	}
	ctNext[*protocol.ContainerRemoving](e)
	e.removed(pid, true)
	close(release)
	if c.count("destroy") != 1 {
		t.Fatalf("%d destroys", c.count("destroy"))
	}
}

// The Job whose handling panics is not redelivered by protoactor; it must
// still reach the pool again.
func TestContainerCrashOnJobBouncesIt(t *testing.T) {
	e := newCtEnv(t)
	c := newCtFake("c1", e.clock)
	p := e.params()
	p.StemCell = c
	hook := p.testHook
	p.testHook = func(m any) {
		if j, ok := m.(*protocol.Job); ok && j.Activation.ID == "boom" {
			panic("crash on a job")
		}
		hook(m)
	}
	pid := e.spawn(p)
	e.job(pid, "boom", ctAction(1), actors.StartPrewarmed)
	if m := ctNext[*protocol.Reschedule](e); m.Job.Activation.ID != "boom" {
		t.Fatalf("rescheduled %s", m.Job.Activation.ID)
	}
	ctNext[*protocol.ContainerRemoving](e)
	e.removed(pid, true)
	if c.count("destroy") != 1 || c.count("init") != 0 {
		t.Fatalf("calls %v", c.calls)
	}
}

// A crash while paused: the new instance resumes before it destroys.
func TestContainerCrashWhilePaused(t *testing.T) {
	e := newCtEnv(t)
	c := newCtFake("c1", e.clock)
	pid := e.stemCell(c)
	e.job(pid, "a1", ctAction(1), actors.StartPrewarmed)
	ctNext[*protocol.ContainerReady](e)
	e.result(pid)
	e.sync(pid)
	e.clock.Advance(e.cfg.ContainerProxy.Timeouts.PauseGrace)
	e.suspended(pid)
	e.sys.Root.Send(pid, &ctCrash{})
	ctNext[*protocol.ContainerRemoving](e)
	e.removed(pid, true)
	if c.count("resume") != 1 || c.count("destroy") != 1 || indexOf(c, "resume") > indexOf(c, "destroy") {
		t.Fatalf("calls %v: want one resume, then one destroy", c.calls)
	}
	if e.clock.Pending() != 0 {
		t.Fatalf("%d timers survive the crash", e.clock.Pending())
	}
}

// Stopped from outside (its pool stops): the running job is answered, the
// container destroyed once and the memory reported.
func TestContainerStoppedFromOutside(t *testing.T) {
	e := newCtEnv(t)
	c := newCtFake("c1", e.clock)
	release := make(chan struct{})
	defer close(release)
	c.runFn = blockingRun(release)
	pid := e.stemCell(c)
	e.job(pid, "a1", ctAction(1), actors.StartPrewarmed)
	ctNext[*protocol.ContainerReady](e)
	waitEvent(t, c, "run")
	e.sys.Root.Stop(pid)
	r := e.result(pid)
	if r.Status != factory.StatusInternalError || string(r.Response) != `{"error":"`+msgShutdown+`"}` {
		t.Fatalf("result %+v", r)
	}
	e.removed(pid, false)
	waitEvent(t, c, "destroy")
	if c.count("destroy") != 1 {
		t.Fatalf("%d destroys", c.count("destroy"))
	}
}

// Stopped while the factory creates its container: the creation's
// goroutine finds the actor gone, destroys the container and reports.
func TestContainerStoppedDuringCreate(t *testing.T) {
	e := newCtEnv(t)
	c := newCtFake("c1", e.clock)
	gate := make(chan struct{})
	pid := e.cold(&ctFactory{gate: gate, results: []ctCreate{{c: c}}})
	e.sync(pid)
	e.sys.Root.Stop(pid)
	e.terminated(pid)
	close(gate)
	r := ctNext[*protocol.ContainerRemoved](e)
	if !r.Container.Equal(pid) || !r.Replace {
		t.Fatalf("ContainerRemoved %+v", r)
	}
	waitEvent(t, c, "destroy")
	e.quiet()
	if c.count("destroy") != 1 {
		t.Fatalf("%d destroys", c.count("destroy"))
	}
}
