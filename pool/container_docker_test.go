package pool

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/internal/enginetest"
	"github.com/stemcell-io/stemcell/internal/protocol"
)

// ctSpyFactory wraps the real factory so the test sees when the actor's
// off-goroutine Suspend, Resume and Destroy have returned.
type ctSpyFactory struct {
	factory.ContainerFactory
	events chan string
}

func (f *ctSpyFactory) CreateContainer(ctx context.Context, spec factory.ContainerSpec) (factory.Container, error) {
	c, err := f.ContainerFactory.CreateContainer(ctx, spec)
	if err != nil {
		return nil, err
	}
	return &ctSpyContainer{Container: c, events: f.events}, nil
}

type ctSpyContainer struct {
	factory.Container
	events chan string
}

func (c *ctSpyContainer) Suspend(ctx context.Context) error {
	err := c.Container.Suspend(ctx)
	c.events <- "suspend"
	return err
}

func (c *ctSpyContainer) Resume(ctx context.Context) error {
	err := c.Container.Resume(ctx)
	c.events <- "resume"
	return err
}

func (c *ctSpyContainer) Destroy(ctx context.Context) error {
	err := c.Container.Destroy(ctx)
	c.events <- "destroy"
	return err
}

// On the real engine: a JavaScript action's container is paused in the
// engine after the pause grace, answers again on the next call (resumed),
// and is removed from the engine after the idle timeout. Timers run on the
// fake clock; the container I/O is real.
func TestContainerDockerPauseResumeIdleRemoval(t *testing.T) {
	cli := enginetest.Require(t)
	cfg, img, f := dockerFactory(t, "ctpause")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := f.Init(ctx); err != nil {
		t.Fatalf("factory init: %v", err)
	}

	e := newCtEnv(t)
	e.cfg = cfg
	spy := &ctSpyFactory{ContainerFactory: f, events: make(chan string, 16)}
	mem := 128 * config.MB
	act := actors.Action{
		Namespace: "guest", Name: "hello", Version: "0.0.1", Digest: "js1", Kind: "js:goja", Image: img, Main: "main",
		Code:   `function main(params) { console.log("hi " + params.name); return {greeting: "hello " + params.name}; }`,
		Limits: actors.ActionLimits{Memory: mem, Timeout: 30 * time.Second, MaxConcurrency: 1, Logs: config.MB},
	}
	pid := e.coldWith(spy, factory.ContainerSpec{
		Name:  factory.ContainerNamePrefix(cfg.Invoker.Name) + "_1_guest_hello",
		Image: img, Kind: "js:goja", Memory: mem, CPUShares: cfg.ContainerPool.CPUShare(mem),
		Action: &factory.ActionRef{Namespace: "guest", Name: "hello", Version: "0.0.1"},
	})
	engineWait := 2 * time.Minute
	next := func() any {
		t.Helper()
		select {
		case m := <-e.msgs:
			return m
		case <-time.After(engineWait):
			t.Fatal("no message from the container actor within the deadline")
			return nil
		}
	}
	call := func(id string) actors.Result {
		t.Helper()
		j := protocol.Job{
			Activation: actors.Activation{ID: id, TransactionID: "tx", InvocationNamespace: "guest", Action: act,
				Params: json.RawMessage(`{"name":"js"}`), Arrived: e.clock.Now()},
			ReplyTo: e.pool, StartKind: actors.StartCold,
		}
		e.sys.Root.Send(pid, &j)
		for {
			switch m := next().(type) {
			case *protocol.ContainerReady:
			case *protocol.JobDone:
				rr, ok := next().(*actors.RunResult)
				if !ok {
					t.Fatal("JobDone without RunResult")
				}
				r := rr.Result
				if r.Status != factory.StatusSuccess || string(r.Response) != `{"greeting":"hello js"}` {
					t.Fatalf("%s: status %d response %s logs %v", id, r.Status, r.Response, r.Logs)
				}
				if !strings.Contains(strings.Join(r.Logs, "\n"), "hi js") {
					t.Fatalf("%s: logs %q lack the action's line", id, r.Logs)
				}
				return r
			default:
				t.Fatalf("unexpected %T %+v", m, m)
			}
		}
	}
	state := func(id string) (paused bool, found bool) {
		t.Helper()
		ictx, icancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer icancel()
		info, err := cli.ContainerInspect(ictx, id)
		if cerrdefs.IsNotFound(err) {
			return false, false
		}
		if err != nil {
			t.Fatalf("inspect %s: %v", id, err)
		}
		return info.State.Paused, true
	}

	start := time.Now()
	step := func(what string) { t.Logf("%6.1fs %s", time.Since(start).Seconds(), what) }
	r := call("a1")
	step("first call answered (cold create, init, run)")
	id := r.ContainerID
	if paused, found := state(id); !found || paused {
		t.Fatalf("after the first call: found %v paused %v", found, paused)
	}

	e.sync(pid)
	e.clock.Advance(cfg.ContainerProxy.Timeouts.PauseGrace)
	waitOn(t, spy.events, "suspend", engineWait)
	e.suspended(pid)
	step("paused after the grace")
	if paused, found := state(id); !found || !paused {
		t.Fatalf("after the pause grace: found %v paused %v, want paused", found, paused)
	}

	r = call("a2")
	if r.ContainerID != id || r.InitTime != 0 {
		t.Fatalf("second call ran on %s (init %v), want the paused container %s reused", r.ContainerID, r.InitTime, id)
	}
	step("second call answered")
	waitOn(t, spy.events, "resume", time.Second) // already reported before the run
	if paused, found := state(id); !found || paused {
		t.Fatalf("after the second call: found %v paused %v", found, paused)
	}

	e.sync(pid)
	e.clock.Advance(cfg.ContainerProxy.Timeouts.PauseGrace)
	waitOn(t, spy.events, "suspend", engineWait)
	e.suspended(pid)
	e.clock.Advance(cfg.ContainerProxy.Timeouts.IdleContainer)
	step("idle timeout")
	if _, ok := next().(*protocol.ContainerRemoving); !ok {
		t.Fatal("no ContainerRemoving after the idle timeout")
	}
	if m, ok := next().(*protocol.ContainerRemoved); !ok || m.Replace {
		t.Fatalf("got %+v, want ContainerRemoved without replace", m)
	}
	step("removed")
	waitOn(t, spy.events, "destroy", time.Second)
	if _, found := state(id); found {
		t.Fatalf("container %s still in the engine after the idle timeout", id)
	}
}
