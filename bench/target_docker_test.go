package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"

	"github.com/stemcell-io/stemcell/factory/docker"
)

// engineClient returns a client of the local engine, or skips the test
// loudly when there is none (and fails it under CI=true).
func engineClient(t *testing.T) *client.Client {
	t.Helper()
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err = cli.Ping(ctx)
		cancel()
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the docker target test needs a Docker Engine (CI=true): %v", err)
		}
		t.Skipf("*** SKIPPING the docker target test: no Docker Engine: %v ***", err)
	}
	t.Cleanup(func() { _ = cli.Close() })
	return cli
}

// TestDockerTarget runs JavaScript actions in real containers: a few
// seconds of a constant workload, with a runtime image of its own that it
// removes afterwards.
func TestDockerTarget(t *testing.T) {
	cli := engineClient(t)
	tag := "t-bench-" + randomHex(4)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := cli.ImageRemove(ctx, docker.RuntimeImageName+":"+tag, image.RemoveOptions{Force: true, PruneChildren: true}); err != nil {
			t.Logf("removing the test image %s: %v", tag, err)
		}
	})
	out := t.TempDir()
	var stdout, stderr strings.Builder
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	args := []string{"--target", "docker", "--runtime-image-tag", tag, "--workload", "constant", "--functions", "2",
		"--rate", "4", "--duration", "3s", "--exec", "20ms", "--user-memory", "1g", "--out", out, "--log-level", "error"}
	if err := execute(ctx, args, &stdout, &stderr, false); err != nil {
		t.Fatalf("bench: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	b, err := os.ReadFile(filepath.Join(out, "bench.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f resultFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	r := f.Runs[0]
	s := r.Summary
	if s.Activations != f.Workload.Arrivals || s.Activations != 12 || len(s.ErrorsByStatus) != 0 {
		t.Fatalf("%d activations of %d arrivals, errors %v\n%s", s.Activations, f.Workload.Arrivals, s.ErrorsByStatus, stdout.String())
	}
	if s.ByStartKind["warm"].Count == 0 || s.ByStartKind["cold"].Count+s.ByStartKind["prewarmed"].Count < 2 {
		t.Errorf("start kinds %+v: want a first start per function and warm ones after", s.ByStartKind)
	}
	// The action waits exec_ms on a JavaScript timer.
	if s.ByStartKind["warm"].P50 < 20*time.Millisecond {
		t.Errorf("warm latency p50 %s below the action's 20 ms timer", s.ByStartKind["warm"].P50)
	}
	if r.Config.Invoker == "" {
		t.Fatal("the run does not record its invoker name")
	}
	list, err := cli.ContainerList(ctx, container.ListOptions{All: true,
		Filters: filters.NewArgs(filters.Arg("label", docker.LabelInvoker+"="+r.Config.Invoker))})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 0 {
		t.Errorf("%d containers of invoker %s left after the run", len(list), r.Config.Invoker)
	}
}
