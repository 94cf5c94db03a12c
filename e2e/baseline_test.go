package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/docker/docker/api/types/image"
)

// baselineEnv names a git revision (a commit, a branch, HEAD~1) whose
// daemon BenchmarkWarmInvoke runs beside this tree's, in the same loop, so
// that a change is measured against what it changes on the same machine
// at the same moment:
//
//	STEMCELL_BENCH_BASELINE=HEAD go test -run '^$' -bench WarmInvoke -benchtime 1000x ./e2e/
const baselineEnv = "STEMCELL_BENCH_BASELINE"

// newBaselineDaemon builds the daemon of the revision in baselineEnv and
// prepares it as newDaemon does; nil when baselineEnv is unset. Its
// runtime image has a tag of its own, removed at cleanup: the two builds
// differ, and each daemon replaces an image of its tag built from another
// binary.
func newBaselineDaemon(b *testing.B, args ...string) *daemon {
	rev := os.Getenv(baselineEnv)
	if rev == "" {
		return nil
	}
	dir := b.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.Mkdir(src, 0o755); err != nil {
		b.Fatal(err)
	}
	// git archive: the revision's committed tree, whatever the work tree holds.
	extract := exec.Command("sh", "-c", `git archive --format=tar "$1" | tar -x -C "$2"`, "sh", rev, src)
	extract.Dir = ".."
	if out, err := extract.CombinedOutput(); err != nil {
		b.Fatalf("%s=%s: extracting the revision: %v\n%s", baselineEnv, rev, err, out)
	}
	bin := filepath.Join(dir, "invoker")
	build := exec.Command("go", "build", "-o", bin, "./cmd/invoker")
	build.Dir = src
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("%s=%s: building its daemon: %v\n%s", baselineEnv, rev, err, out)
	}
	m, err := os.ReadFile(filepath.Join(src, "config", "runtimes.json"))
	if err != nil {
		b.Fatal(err)
	}
	tag := runtimeTag + "-base"
	mf := filepath.Join(dir, "runtimes.json")
	m = bytes.ReplaceAll(m, []byte(`"tag": "dev"`), []byte(`"tag": "`+tag+`"`))
	if err := os.WriteFile(mf, m, 0o644); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, _ = engine.ImageRemove(ctx, "stemcell/action-runtime:"+tag, image.RemoveOptions{Force: true, PruneChildren: true})
	})
	d := newDaemon(b, args...)
	d.bin, d.manifest = bin, mf
	return d
}
