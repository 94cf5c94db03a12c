package pool

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/factory/docker"
)

// TestPoolOnDockerEngine runs the pool on the real engine with JavaScript
// actions: the second call reuses the container, a different action evicts
// the idle one when memory is short, and after Shutdown the engine holds
// none of this invoker's containers.
func TestPoolOnDockerEngine(t *testing.T) {
	if testing.Short() {
		t.Skip("engine integration test skipped in -short mode")
	}
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err == nil {
		pctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err = cli.Ping(pctx)
		cancel()
	}
	if err != nil {
		if cli != nil {
			_ = cli.Close()
		}
		if os.Getenv("CI") == "true" {
			t.Fatalf("the pool's engine integration test needs a Docker Engine (CI=true): %v", err)
		}
		t.Skipf("\n*** SKIPPING %s: no Docker Engine: %v ***", t.Name(), err)
	}

	suffix := fmt.Sprintf("%08x", uint32(time.Now().UnixNano()))
	bin := filepath.Join(t.TempDir(), "invoker")
	build := exec.Command("go", "build", "-o", bin, "github.com/stemcell-io/stemcell/cmd/invoker")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build cmd/invoker: %v\n%s", err, out)
	}

	cfg := config.Default()
	cfg.Invoker.Name = "t-pooleng-" + suffix
	cfg.ContainerPool.UserMemory = 256 * config.MB // two 128 MB containers
	img := config.ImageName{Prefix: "stemcell", Name: "action-runtime", Tag: "t-pooleng-" + suffix}
	cfg.RuntimesManifest.Manifest = config.Manifest{
		Runtimes: map[string][]config.RuntimeKind{"nodejs": {{Kind: "nodejs:20", Default: true, Image: img}}},
	}
	f, err := docker.NewWithOptions(cfg, zerolog.Nop(), docker.Options{BinaryPath: bin})
	if err != nil {
		t.Fatal(err)
	}
	prefix := factory.ContainerNamePrefix(cfg.Invoker.Name)
	ours := func() []string {
		t.Helper()
		lctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		list, err := cli.ContainerList(lctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("name", prefix+"_"))})
		if err != nil {
			t.Fatalf("list containers: %v", err)
		}
		var ids []string
		for _, c := range list {
			ids = append(ids, c.ID)
		}
		return ids
	}
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = f.Cleanup(cctx)
		_ = f.Close()
		if _, err := cli.ImageRemove(cctx, img.String(), image.RemoveOptions{Force: true, PruneChildren: true}); err != nil && !cerrdefs.IsNotFound(err) {
			t.Errorf("removing test image %s: %v", img, err)
		}
		_ = cli.Close()
	})

	sys := actors.NewSystem(zerolog.Nop())
	defer sys.Shutdown()
	p, err := Spawn(sys.Root, Options{Config: cfg, Factory: f, Log: zerolog.Nop(), Name: "pool-" + suffix})
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
			Namespace: "guest", Name: name, Version: "0.0.1", Digest: "js-" + name, Kind: "nodejs:20", Image: img, Main: "main",
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
