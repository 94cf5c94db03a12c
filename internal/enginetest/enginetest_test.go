package enginetest

import (
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/rs/zerolog"
	"go.uber.org/goleak"

	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory/docker"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(Wrap(m))
}

func TestUniqueName(t *testing.T) {
	valid := regexp.MustCompile(`^t-([a-z0-9]+(-[a-z0-9]+)*-)?[0-9a-f]{8}$`)
	for _, tc := range []struct {
		what, wantPart string
	}{
		{"ctpause", "ctpause"},
		{"TestEngine/Sub_Test", "testengine-sub-test"},
		{"--/__", ""},
		{"", ""},
		{"TestAVeryLongTestNameThatGoesOnAndOn/with_a_subtest", "testaverylongtestnamethatgoeso"},
		{"abcdefghijklmnopqrstuvwxyz012/x", "abcdefghijklmnopqrstuvwxyz012"}, // no "-" left at the cut
	} {
		got := UniqueName(tc.what)
		if !valid.MatchString(got) {
			t.Errorf("UniqueName(%q) = %q: not t-<part>-<8 hex digits>", tc.what, got)
		}
		wantPrefix := "t-"
		if tc.wantPart != "" {
			wantPrefix += tc.wantPart + "-"
		}
		if !strings.HasPrefix(got, wantPrefix) || len(got) != len(wantPrefix)+8 {
			t.Errorf("UniqueName(%q) = %q, want %s<8 hex digits>", tc.what, got, wantPrefix)
		}
		if again := UniqueName(tc.what); again == got {
			t.Errorf("UniqueName(%q) twice gave %q both times", tc.what, got)
		}
	}
}

func TestImageName(t *testing.T) {
	for _, tc := range []struct {
		ref  string
		want config.ImageName
	}{
		{"stemcell/action-runtime:t-pool-0a1b2c3d", config.ImageName{Prefix: "stemcell", Name: "action-runtime", Tag: "t-pool-0a1b2c3d"}},
		{"stemcell/factory-test-fake:ok-1", config.ImageName{Prefix: "stemcell", Name: "factory-test-fake", Tag: "ok-1"}},
	} {
		if got := ImageName(tc.ref); got != tc.want {
			t.Errorf("ImageName(%q) = %+v, want %+v", tc.ref, got, tc.want)
		}
		if got := ImageName(tc.ref).String(); got != tc.ref {
			t.Errorf("ImageName(%q).String() = %q, want it back", tc.ref, got)
		}
	}
}

// The runtime image must be one the Docker factory builds from its binary
// when it is missing (its repository decides that).
func TestRuntimeImageRefIsTheFactorysRepository(t *testing.T) {
	if RuntimeRepository != docker.RuntimeImageName {
		t.Fatalf("RuntimeRepository %q, factory/docker's RuntimeImageName %q", RuntimeRepository, docker.RuntimeImageName)
	}
	ref := RuntimeImageRef()
	if !regexp.MustCompile(`^stemcell/action-runtime:t-enginetest-[0-9a-f]{8}$`).MatchString(ref) {
		t.Fatalf("RuntimeImageRef() = %q, want stemcell/action-runtime:t-enginetest-<8 hex digits>", ref)
	}
	if again := RuntimeImageRef(); again != ref {
		t.Fatalf("RuntimeImageRef() changed from %q to %q within one process", ref, again)
	}
}

func TestInvokerBinaryIsStaticAndBuiltOnce(t *testing.T) {
	Require(t)
	bin := InvokerBinary(t)
	ef, err := elf.Open(bin)
	if err != nil {
		t.Fatalf("%s: %v", bin, err)
	}
	defer ef.Close()
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatalf("%s names a program interpreter: it is dynamically linked", bin)
		}
	}
	before, err := os.Stat(bin)
	if err != nil {
		t.Fatal(err)
	}
	if again := InvokerBinary(t); again != bin {
		t.Fatalf("InvokerBinary gave %s, then %s", bin, again)
	}
	if after, err := os.Stat(bin); err != nil || !after.ModTime().Equal(before.ModTime()) {
		t.Fatalf("the binary was built again (stat %v, %v)", after, err)
	}
}

// countingBuilder is the Docker factory's image build, counted.
type countingBuilder struct {
	f     *docker.Factory
	calls atomic.Int32
}

func (b *countingBuilder) BuildRuntimeImage(ctx context.Context, bin, tag string) error {
	b.calls.Add(1)
	return b.f.BuildRuntimeImage(ctx, bin, tag)
}

func newFactory(t *testing.T) *docker.Factory {
	t.Helper()
	cfg := config.Default()
	cfg.Invoker.Name = UniqueName(t.Name())
	f, err := docker.NewWithOptions(cfg, zerolog.Nop(), docker.Options{BinaryPath: InvokerBinary(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f
}

func TestRuntimeImageBuiltOnceAndContainersByLabel(t *testing.T) {
	cli := Require(t)
	b := &countingBuilder{f: newFactory(t)}
	ref := RuntimeImage(t, b)
	if again := RuntimeImage(t, b); again != ref || b.calls.Load() != 1 {
		t.Fatalf("RuntimeImage gave %s then %s after %d builds, want one build of one image", ref, again, b.calls.Load())
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := cli.ImageInspect(ctx, ref); err != nil {
		t.Fatalf("inspecting %s: %v", ref, err)
	}

	// Two containers, created and never started, one of them also with
	// a second label; a third of another owner must stay out of the lists.
	owner, other := UniqueName(t.Name()), UniqueName(t.Name())
	mk := func(labels map[string]string) string {
		t.Helper()
		c, err := cli.ContainerCreate(ctx, &container.Config{Image: ref, Labels: labels}, nil, nil, nil, "")
		if err != nil {
			t.Fatalf("creating a container of %s: %v", ref, err)
		}
		t.Cleanup(func() {
			rctx, rcancel := context.WithTimeout(context.Background(), time.Minute)
			defer rcancel()
			_ = cli.ContainerRemove(rctx, c.ID, container.RemoveOptions{Force: true})
		})
		return c.ID
	}
	const key, role = "io.stemcell.enginetest.owner", "io.stemcell.enginetest.role"
	plain := mk(map[string]string{key: owner})
	tagged := mk(map[string]string{key: owner, role: "prewarm"})
	foreign := mk(map[string]string{key: other})
	for _, tc := range []struct {
		labels []string
		want   []string
	}{
		{[]string{key + "=" + owner}, sorted(plain, tagged)},
		{[]string{key + "=" + owner, role + "=prewarm"}, []string{tagged}},
		{[]string{key + "=" + other}, []string{foreign}},
		{[]string{key + "=" + UniqueName("nobody")}, []string{}},
	} {
		if got := Containers(t, tc.labels...); strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("Containers(%v) = %v, want %v", tc.labels, got, tc.want)
		}
	}
	if _, err := containers(nil); err == nil {
		t.Error("listing with no label: no error, want a refusal to list the whole engine")
	}

	RemoveContainers(key + "=" + owner)
	if left := Containers(t, key+"="+owner); len(left) != 0 {
		t.Fatalf("after RemoveContainers: %v left", left)
	}
	if got := Containers(t, key+"="+other); len(got) != 1 || got[0] != foreign {
		t.Fatalf("RemoveContainers of %s took another owner's container: %v left, want [%s]", owner, got, foreign)
	}
}

func sorted(a, b string) []string {
	if a > b {
		a, b = b, a
	}
	return []string{a, b}
}

// What Main removes at the end: a tracked image, built or not.
func TestRemoveImages(t *testing.T) {
	cli := Require(t)
	f := newFactory(t)
	built := docker.RuntimeImageName + ":" + UniqueName(t.Name())
	never := docker.RuntimeImageName + ":" + UniqueName(t.Name())
	TrackImage(built) // in case the test fails before its own removal
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := f.BuildRuntimeImage(ctx, InvokerBinary(t), built); err != nil {
		t.Fatal(err)
	}
	removeImages([]string{built, never})
	if _, err := cli.ImageInspect(ctx, built); !cerrdefs.IsNotFound(err) {
		t.Fatalf("%s after removal: inspect says %v, want not found", built, err)
	}
}

// recordingTB keeps what a helper registers and reports, so a failure can
// be checked instead of failing the test.
type recordingTB struct {
	testing.TB
	cleanups []func()
	errs     []string
}

func (r *recordingTB) Helper()                   {}
func (r *recordingTB) Cleanup(f func())          { r.cleanups = append(r.cleanups, f) }
func (r *recordingTB) Errorf(f string, a ...any) { r.errs = append(r.errs, fmt.Sprintf(f, a...)) }

type stubFactory struct {
	cleanupErr error
	calls      []string
}

func (f *stubFactory) Cleanup(context.Context) error {
	f.calls = append(f.calls, "cleanup")
	return f.cleanupErr
}
func (f *stubFactory) Close() error { f.calls = append(f.calls, "close"); return nil }

func TestCleanupFactory(t *testing.T) {
	for _, tc := range []struct {
		name       string
		cleanupErr error
		wantErrs   int
	}{
		{"removed", nil, 0},
		{"removal fails", errors.New("engine gone"), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tb := &recordingTB{TB: t}
			f := &stubFactory{cleanupErr: tc.cleanupErr}
			CleanupFactory(tb, f)
			if len(f.calls) != 0 || len(tb.cleanups) != 1 {
				t.Fatalf("before the end: calls %v, %d cleanups registered; want none, 1", f.calls, len(tb.cleanups))
			}
			tb.cleanups[0]()
			if strings.Join(f.calls, ",") != "cleanup,close" {
				t.Errorf("at the end: calls %v, want cleanup then close", f.calls)
			}
			if len(tb.errs) != tc.wantErrs {
				t.Errorf("reported %q, want %d errors", tb.errs, tc.wantErrs)
			}
		})
	}
}
