package pool

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/internal/enginetest"
)

// What an operator does to the pool's containers with the docker CLI, on
// the real engine: the pool follows within about a second instead of
// handing out a container that is gone or paused.
func TestPoolFollowsEngineChanges(t *testing.T) {
	if testing.Short() {
		t.Skip("engine integration test skipped in -short mode")
	}
	cli := enginetest.Require(t)
	cfg, img, f := dockerFactory(t, "poolfollow")
	cfg.ContainerPool.UserMemory = 1024 * config.MB
	cfg.RuntimesManifest.Manifest.Runtimes["nodejs"][0].StemCells = []config.StemCell{{InitialCount: 1, Memory: 256 * config.MB}}

	sys := actors.NewSystem(zerolog.Nop())
	defer sys.Shutdown()
	p, err := Spawn(sys.Root, Options{Config: cfg, Factory: f, Log: zerolog.Nop(), Name: "pool-" + enginetest.Suffix()})
	if err != nil {
		t.Fatalf("spawn: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	defer func() { _ = p.Shutdown(ctx) }()

	snap := func() actors.MemorySnapshot {
		t.Helper()
		s, err := p.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	within := func(d time.Duration, what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(d)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("not within %v: %s", d, what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	ours := func(role string) []string {
		return enginetest.Containers(t, "io.stemcell.invoker="+cfg.Invoker.Name, "io.stemcell.role="+role)
	}

	// docker rm -f of the stem cell: gone from the pool within 2 s, and
	// replaced.
	within(time.Minute, "a stem cell ready", func() bool { return snap().Prewarmed.Count == 1 && len(ours("prewarm")) == 1 })
	cell := ours("prewarm")[0]
	if err := cli.ContainerRemove(ctx, cell, container.RemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	within(2*time.Second, "the removed stem cell gone from the pool", func() bool {
		s := snap()
		return s.Prewarmed.Count == 0 || (len(ours("prewarm")) == 1 && ours("prewarm")[0] != cell)
	})
	within(time.Minute, "the stem cell replaced", func() bool {
		l := ours("prewarm")
		return snap().Prewarmed.Count == 1 && len(l) == 1 && l[0] != cell
	})

	action := func(name, code string, timeout time.Duration) actors.Action {
		return actors.Action{
			Namespace: "guest", Name: name, Version: "0.0.1", Digest: "js-" + name, Kind: "js:goja", Image: img, Main: "main",
			Code:   code,
			Limits: actors.ActionLimits{Memory: 128 * config.MB, Timeout: timeout, MaxConcurrency: 1},
		}
	}
	n := 0
	invoke := func(a actors.Action) (actors.Result, time.Duration) {
		t.Helper()
		n++
		start := time.Now()
		r, err := p.Invoke(ctx, Activation{ID: fmt.Sprintf("act%d", n), InvocationNamespace: "guest", Action: a})
		if err != nil {
			t.Fatalf("invoke %s: %v", a.Name, err)
		}
		return r, time.Since(start)
	}

	// docker pause of an idle warm container: the next invoke is served in
	// normal time, not after the action's 30 s limit.
	quick := action("quick", `function main() { return {ok: true}; }`, 30*time.Second)
	first, _ := invoke(quick)
	if first.Status != factory.StatusSuccess {
		t.Fatalf("first run: status %d %s", first.Status, first.Response)
	}
	within(5*time.Second, "the first run's container idle", func() bool { return snap().Idle.Count == 1 })
	if err := cli.ContainerPause(ctx, first.ContainerID); err != nil {
		t.Fatal(err)
	}
	res, took := invoke(quick)
	if res.Status != factory.StatusSuccess || took > 5*time.Second {
		t.Fatalf("run after an outside pause: status %d %s after %v; want a success within 5 s", res.Status, res.Response, took)
	}

	// docker kill during a run: answered within 2 s, not at its 60 s limit.
	slow := action("slow", `function main() { console.log("slow run started"); return new Promise(r => setTimeout(() => r({done: true}), 50000)); }`, time.Minute)
	done := make(chan actors.Result, 1)
	go func() {
		r, _ := invoke(slow)
		done <- r
	}()
	var victim string
	within(time.Minute, "the slow run busy", func() bool {
		if snap().Busy.Count != 1 {
			return false
		}
		for _, id := range ours("action") {
			if info, err := cli.ContainerInspect(ctx, id); err == nil && info.Config.Labels["io.stemcell.action"] == "slow" {
				victim = id
			}
		}
		return victim != ""
	})
	// Busy is counted from placement: wait for the action's own word that
	// its /run started.
	within(time.Minute, "the slow run started", func() bool {
		rc, err := cli.ContainerLogs(ctx, victim, container.LogsOptions{ShowStdout: true, ShowStderr: true})
		if err != nil {
			return false
		}
		defer rc.Close()
		b, _ := io.ReadAll(rc)
		return strings.Contains(string(b), "slow run started")
	})
	killed := time.Now()
	if err := cli.ContainerKill(ctx, victim, "KILL"); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if took := time.Since(killed); took > 2*time.Second {
			t.Errorf("killed run answered after %v, want within 2 s", took)
		}
		if r.Status == factory.StatusSuccess {
			t.Errorf("killed run succeeded: %s", r.Response)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("killed run not answered within 10 s")
	}
	within(5*time.Second, "the killed container removed", func() bool {
		_, err := cli.ContainerInspect(ctx, victim)
		return err != nil
	})
}
