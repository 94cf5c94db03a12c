package enginetest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stemcell-io/stemcell/config"
)

// RuntimeRepository is factory/docker's RuntimeImageName, which this
// package cannot import; a test of the package keeps the two equal.
const RuntimeRepository = "stemcell/action-runtime"

// Builder builds the runtime image tag from the static invoker binary:
// factory/docker's (*Factory).BuildRuntimeImage.
type Builder interface {
	BuildRuntimeImage(ctx context.Context, binaryPath, tag string) error
}

// buildTimeout bounds one runtime image build on a busy engine.
const buildTimeout = 2 * time.Minute

var runtimeImage struct {
	refOnce   sync.Once
	ref       string
	buildOnce sync.Once
	err       error
}

// RuntimeImageRef is the runtime image of this test process,
// "stemcell/action-runtime:t-<test binary>-<suffix>", marked for removal
// when Main ends. Whoever builds it first (RuntimeImage, or a Docker
// factory's Init given InvokerBinary) builds it for the whole process;
// the tag is the process's own, so no other build can swap it.
func RuntimeImageRef() string {
	runtimeImage.refOnce.Do(func() {
		name := strings.TrimSuffix(filepath.Base(os.Args[0]), ".test")
		runtimeImage.ref = RuntimeRepository + ":" + UniqueName(name)
		TrackImage(runtimeImage.ref)
	})
	return runtimeImage.ref
}

// EnsureRuntimeImage builds RuntimeImageRef from InvokerBinary with b,
// once per process.
func EnsureRuntimeImage(b Builder) error {
	runtimeImage.buildOnce.Do(func() {
		bin, err := Binary(Module + "/cmd/invoker")
		if err != nil {
			runtimeImage.err = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
		defer cancel()
		ref := RuntimeImageRef()
		if err := b.BuildRuntimeImage(ctx, bin, ref); err != nil {
			runtimeImage.err = fmt.Errorf("the test runtime image %s: %w", ref, err)
		}
	})
	return runtimeImage.err
}

// RuntimeImage is EnsureRuntimeImage failing tb, and returns the image.
func RuntimeImage(tb testing.TB, b Builder) string {
	tb.Helper()
	if err := EnsureRuntimeImage(b); err != nil {
		tb.Fatal(err)
	}
	return RuntimeImageRef()
}

// ImageName splits "prefix/name:tag" into the manifest's form.
func ImageName(ref string) config.ImageName {
	repo, tag, _ := strings.Cut(ref, ":")
	prefix, name, _ := strings.Cut(repo, "/")
	return config.ImageName{Prefix: prefix, Name: name, Tag: tag}
}
