package docker

import (
	"context"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"

	"github.com/stemcell-io/stemcell/factory"
)

func TestInitRemovesOnlyThisInvokersLeftovers(t *testing.T) {
	needEngine(t)
	cfg := testConfig(t)
	old := newTestFactory(t, cfg)
	running := create(t, old, specFor(old, testEnv.fakeImage, false, nil))
	paused := create(t, old, specFor(old, testEnv.fakeImage, false, nil))
	if err := paused.Suspend(testCtx(t)); err != nil {
		t.Fatal(err)
	}

	// Containers that are not this invoker's: another invoker's label and
	// name, our name prefix with another invoker's label, and our label
	// with another name.
	prefix := factory.ContainerNamePrefix(cfg.Invoker.Name)
	foreign := []createSpec{
		{Name: "t-foreign-" + randomSuffix(), Labels: map[string]string{LabelInvoker: "someone-else"}},
		{Name: prefix + "_99_not_ours", Labels: map[string]string{LabelInvoker: cfg.Invoker.Name + "-other"}},
		{Name: "t-foreign-" + randomSuffix(), Labels: map[string]string{LabelInvoker: cfg.Invoker.Name}},
	}
	var foreignIDs []string
	for _, s := range foreign {
		s.Image, s.Network = testEnv.fakeImage, "bridge"
		id, err := testEnv.eng.Create(testCtx(t), s)
		if err != nil {
			t.Fatal(err)
		}
		foreignIDs = append(foreignIDs, id)
		t.Cleanup(func() { _ = testEnv.eng.Remove(context.Background(), id) })
		if err := testEnv.eng.Start(testCtx(t), id); err != nil {
			t.Fatal(err)
		}
	}

	// A new factory of the same invoker starts: the old one crashed.
	restarted := newTestFactory(t, cfg)
	if err := restarted.Init(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*Container{running, paused} {
		if _, err := testEnv.eng.Inspect(testCtx(t), c.ID()); !cerrdefs.IsNotFound(err) {
			t.Errorf("leftover %s: inspect err = %v, want not found", c.Name(), err)
		}
	}
	for i, id := range foreignIDs {
		info, err := testEnv.eng.Inspect(testCtx(t), id)
		if err != nil || !info.Running {
			t.Errorf("foreign container %s: running %v, err %v; it must be left alone", foreign[i].Name, info.Running, err)
		}
	}
}

func TestInitBuildsRuntimeImageOnlyWhenStale(t *testing.T) {
	needEngine(t)
	cfg := testConfig(t)
	f := newTestFactory(t, cfg)
	tag := "stemcell/action-runtime:t-init-" + randomSuffix()
	f.runtimeTag = []string{tag}
	ce := &countingEngine{engine: f.eng}
	f.eng = ce
	t.Cleanup(func() { removeImage(tag) })
	// An image of that tag built from another binary is stale.
	if err := f.BuildRuntimeImage(testCtx(t), testEnv.fakeBinary, tag); err != nil {
		t.Fatal(err)
	}
	stale, found, err := testEnv.eng.ImageInspect(testCtx(t), tag)
	if err != nil || !found {
		t.Fatalf("stale image %s: found %v, err %v", tag, found, err)
	}
	ce.builds = 0
	for i, wantBuilds := range []int{1, 1} { // rebuilt once, then up to date
		if err := f.Init(testCtx(t)); err != nil {
			t.Fatal(err)
		}
		if ce.builds != wantBuilds {
			t.Fatalf("Init #%d: %d builds, want %d", i+1, ce.builds, wantBuilds)
		}
	}
	info, found, err := testEnv.eng.ImageInspect(testCtx(t), tag)
	if err != nil || !found {
		t.Fatalf("image %s: found %v, err %v", tag, found, err)
	}
	want, _ := fileSHA256(testEnv.binary)
	if info.Labels[LabelRuntimeSHA256] != want {
		t.Fatalf("label %s = %q, want %q", LabelRuntimeSHA256, info.Labels[LabelRuntimeSHA256], want)
	}
	// The replaced build is gone, not left dangling.
	if _, found, err := testEnv.eng.ImageInspect(testCtx(t), stale.ID); err != nil || found {
		t.Fatalf("replaced image %s: still there %v, err %v", stale.ID, found, err)
	}
}

func TestDynamicBinaryIsRejected(t *testing.T) {
	// /bin/sh on Debian is dynamically linked; the test binary may not be.
	err := checkStatic("/bin/sh")
	if err == nil || !strings.Contains(err.Error(), "CGO_ENABLED=0") {
		t.Fatalf("checkStatic(/bin/sh) = %v, want the CGO_ENABLED=0 advice", err)
	}
	if needEngineOK() {
		if err := checkStatic(testEnv.binary); err != nil {
			t.Fatalf("checkStatic(static invoker) = %v", err)
		}
	}
}

func needEngineOK() bool { return testEnv.skip == "" && testEnv.binary != "" }

func TestLogsWithoutSentinelsReportMissingData(t *testing.T) {
	needEngine(t)
	f := newTestFactory(t, testConfig(t))
	c := create(t, f, specFor(f, testEnv.image503, false, nil))
	defer c.Destroy(context.Background())
	start := time.Now()
	lines, err := c.Logs(testCtx(t), factory.LogRequest{Limit: 1 << 20, WaitForSentinel: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 1 || !strings.HasSuffix(lines[0], "stderr: There was an issue while collecting your logs. Data might be missing.") {
		t.Fatalf("lines = %q, want only the missing-data line", lines)
	}
	if d := time.Since(start); d < logIdleTimeout || d > logIdleTimeout+5*time.Second {
		t.Errorf("gave up after %v, want about the %v idle timeout", d, logIdleTimeout)
	}
}
