package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/bench/workload"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory/docker"
)

// benchImageTag is the tag of the runtime image the docker target builds
// from the invoker binary. It differs from the daemon's "dev" so that a
// benchmark and a daemon built from other sources do not rebuild each
// other's image; the factory rebuilds it only when the binary changes.
const benchImageTag = "bench"

// dockerFlags configure the docker target.
type dockerFlags struct {
	Binary   string `json:"invoker_binary"`
	ImageTag string `json:"runtime_image_tag"`
}

// invokerBinary returns the static invoker binary the runtime image is
// built from: the given one, or one built now into dir.
func invokerBinary(ctx context.Context, given, dir string) (string, error) {
	if given != "" {
		return given, nil
	}
	out := filepath.Join(dir, "invoker")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "github.com/stemcell-io/stemcell/cmd/invoker")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the invoker binary for the runtime image (CGO_ENABLED=0 go build ./cmd/invoker; or pass --invoker-binary): %w\n%s", err, b)
	}
	return out, nil
}

// withBenchImage points every manifest image built from the invoker binary
// at the bench's tag.
func withBenchImage(m config.Manifest, tag string) config.Manifest {
	out := m
	out.Runtimes = make(map[string][]config.RuntimeKind, len(m.Runtimes))
	for fam, kinds := range m.Runtimes {
		cp := append([]config.RuntimeKind(nil), kinds...)
		for i := range cp {
			if isRuntimeImage(cp[i].Image) {
				cp[i].Image.Tag = tag
			}
		}
		out.Runtimes[fam] = cp
	}
	out.Blackboxes = append([]config.ImageName(nil), m.Blackboxes...)
	for i := range out.Blackboxes {
		if isRuntimeImage(out.Blackboxes[i]) {
			out.Blackboxes[i].Tag = tag
		}
	}
	return out
}

func isRuntimeImage(img config.ImageName) bool {
	repo := img.Name
	if img.Prefix != "" {
		repo = img.Prefix + "/" + img.Name
	}
	return repo == docker.RuntimeImageName
}

// newDockerTarget runs the pool in-process on the Docker factory, with an
// invoker name of its own so that its cleanup touches only its containers.
func newDockerTarget(cfg *config.Config, rc *runConfig, f dockerFlags, kind string, w *workload.Workload,
	timeout time.Duration, log zerolog.Logger, name string) (*poolTarget, error) {
	c := *cfg
	c.Invoker.Name = strings.ToLower(name) + "-" + randomHex(4)
	rc.Invoker = c.Invoker.Name
	tag := f.ImageTag
	if tag == "" {
		tag = benchImageTag
	}
	c.RuntimesManifest.Manifest = withBenchImage(cfg.RuntimesManifest.Manifest, tag)
	binary := f.Binary
	fac, err := docker.NewWithOptions(&c, log, docker.Options{BinaryPath: binary})
	if err != nil {
		return nil, fmt.Errorf("docker target: %w", err)
	}
	return newPoolTarget(&c, fac, fac.Close, kind, w, timeout, log, name)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
