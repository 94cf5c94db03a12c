package pool

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/factory/docker"
	"github.com/stemcell-io/stemcell/internal/enginetest"
)

// TestPoolOnDockerEngine runs the pool on the real engine with JavaScript
// actions: the second call reuses the container, a different action evicts
// the idle one when memory is short, and after Shutdown the engine holds
// none of this invoker's containers.
func TestPoolOnDockerEngine(t *testing.T) {
	if testing.Short() {
		t.Skip("engine integration test skipped in -short mode")
	}
	cli := enginetest.Require(t)
	cfg, img, f := dockerFactory(t, "pooleng")
	cfg.ContainerPool.UserMemory = 256 * config.MB // two 128 MB containers
	ours := func() []string {
		t.Helper()
		return enginetest.Containers(t, docker.LabelInvoker+"="+cfg.Invoker.Name)
	}

	sys := actors.NewSystem(zerolog.Nop())
	defer sys.Shutdown()
	p, err := Spawn(sys.Root, Options{Config: cfg, Factory: f, Log: zerolog.Nop(), Name: "pool-" + enginetest.Suffix()})
	if err != nil {
		t.Fatalf("spawn: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	shut := false
	defer func() {
		if !shut {
			_ = p.Shutdown(ctx)
		}
	}()

	jsAction := func(name string) actors.Action {
		return actors.Action{
			Namespace: "guest", Name: name, Version: "0.0.1", Digest: "js-" + name, Kind: "js:goja", Image: img, Main: "main",
			Code:   fmt.Sprintf(`function main(p) { return {greeting: "%s " + p.name}; }`, name),
			Limits: actors.ActionLimits{Memory: 128 * config.MB, Timeout: 30 * time.Second, MaxConcurrency: 1},
		}
	}
	n := 0
	invoke := func(a actors.Action, want actors.StartKind) actors.Result {
		t.Helper()
		n++
		r, err := p.Invoke(ctx, Activation{ID: fmt.Sprintf("act%d", n), InvocationNamespace: "guest", Action: a, Params: json.RawMessage(`{"name":"js"}`)})
		if err != nil {
			t.Fatalf("invoke %s: %v", a.Name, err)
		}
		if r.Status != factory.StatusSuccess || string(r.Response) != fmt.Sprintf(`{"greeting":"%s js"}`, a.Name) {
			t.Fatalf("invoke %s: status %d response %s", a.Name, r.Status, r.Response)
		}
		if r.StartKind != want {
			t.Fatalf("invoke %s started %s, want %s", a.Name, r.StartKind, want)
		}
		return r
	}
	// waitIdle lets the container's JobDone reach the pool before the next
	// call, so "warm" does not depend on who wins that race.
	waitIdle := func(idle int) {
		t.Helper()
		for {
			s, err := p.Snapshot(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if s.Idle.Count == idle && s.Busy.Count == 0 && s.Starting.Count == 0 {
				return
			}
			select {
			case <-ctx.Done():
				t.Fatalf("pool never settled with %d idle: %+v", idle, s)
			case <-time.After(10 * time.Millisecond):
			}
		}
	}

	hello, bye, third := jsAction("hello"), jsAction("bye"), jsAction("third")
	first := invoke(hello, actors.StartCold)
	waitIdle(1)
	if second := invoke(hello, actors.StartWarm); second.ContainerID != first.ContainerID {
		t.Fatalf("second call ran on %s, want the first call's container %s", second.ContainerID, first.ContainerID)
	}
	waitIdle(1)
	invoke(bye, actors.StartCold) // 256 MB now held by two idle containers
	waitIdle(2)
	invoke(third, actors.StartRecreated) // evicts hello, the least recently used
	if _, err := cli.ContainerInspect(ctx, first.ContainerID); !cerrdefs.IsNotFound(err) {
		t.Fatalf("evicted container %s still in the engine (inspect: %v)", first.ContainerID, err)
	}
	if got := len(ours()); got != 2 {
		t.Fatalf("%d containers of ours in the engine, want 2 (bye and third)", got)
	}

	shut = true
	if err := p.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if left := ours(); len(left) != 0 {
		t.Fatalf("after Shutdown the engine still holds our containers %v", left)
	}
}
