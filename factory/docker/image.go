package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"
)

// runtimeDockerfile runs the invoker binary as the action runtime.
const runtimeDockerfile = "FROM scratch\nCOPY invoker /invoker\nENTRYPOINT [\"/invoker\",\"runtime\"]\n"

// ensureRuntimeImage builds tag from bin unless an image of that tag was
// already built from the same binary.
func (f *Factory) ensureRuntimeImage(ctx context.Context, bin, tag string) error {
	sum, err := fileSHA256(bin)
	if err != nil {
		return err
	}
	ictx, cancel := withTimeout(ctx, f.timeouts.Inspect)
	info, found, err := f.eng.ImageInspect(ictx, tag)
	cancel()
	if err != nil {
		return fmt.Errorf("inspecting runtime image %s: %w", tag, err)
	}
	if found && info.Labels[LabelRuntimeSHA256] == sum {
		return nil
	}
	f.log.Info().Str("image", tag).Str("binary", bin).Bool("replacing", found).Msg("building the runtime image")
	if err := f.BuildRuntimeImage(ctx, bin, tag); err != nil {
		return err
	}
	if found && info.Labels[LabelManaged] == "true" {
		// The old build lost its tag to the new one: it is ours and nothing
		// refers to it any more, so every upgrade would leave one behind.
		rctx, cancel := withTimeout(ctx, f.timeouts.Rm)
		err := f.eng.ImageRemove(rctx, info.ID)
		cancel()
		if err != nil {
			f.log.Warn().Err(err).Str("image", info.ID).Msg("the replaced runtime image stays: removing it failed")
		}
	}
	return nil
}

// BuildRuntimeImage builds tag FROM scratch holding the static binary at
// binaryPath as /invoker, labelled with the binary's SHA-256.
func (f *Factory) BuildRuntimeImage(ctx context.Context, binaryPath, tag string) error {
	if err := checkStatic(binaryPath); err != nil {
		return err
	}
	bin, err := os.ReadFile(binaryPath)
	if err != nil {
		return fmt.Errorf("runtime image %s: reading binary: %w", tag, err)
	}
	sum := sha256.Sum256(bin)
	tarball, err := buildContext(map[string]tarFile{
		"Dockerfile": {data: []byte(runtimeDockerfile), mode: 0o644},
		"invoker":    {data: bin, mode: 0o755},
	})
	if err != nil {
		return fmt.Errorf("runtime image %s: %w", tag, err)
	}
	bctx, cancel := withTimeout(ctx, f.timeouts.Pull)
	defer cancel()
	labels := map[string]string{LabelRuntimeSHA256: hex.EncodeToString(sum[:]), LabelManaged: "true"}
	if err := f.eng.ImageBuild(bctx, tarball, tag, labels); err != nil {
		return fmt.Errorf("building runtime image %s from %s: %w", tag, binaryPath, err)
	}
	return nil
}

type tarFile struct {
	data []byte
	mode int64
}

// buildContext makes an in-memory tar build context.
func buildContext(files map[string]tarFile) (*bytes.Buffer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	now := time.Now()
	for _, name := range []string{"Dockerfile"} {
		if _, ok := files[name]; !ok {
			return nil, fmt.Errorf("build context has no %s", name)
		}
	}
	for name, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: f.mode, Size: int64(len(f.data)), ModTime: now}); err != nil {
			return nil, fmt.Errorf("writing %s into the build context: %w", name, err)
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, fmt.Errorf("writing %s into the build context: %w", name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("closing the build context: %w", err)
	}
	return &buf, nil
}

// ErrDynamicBinary means the binary needs a dynamic loader, which a FROM
// scratch image does not have.
var ErrDynamicBinary = errors.New("binary is dynamically linked: a FROM scratch image cannot run it; build it with CGO_ENABLED=0")

// checkStatic rejects an ELF binary that names a program interpreter
// (PT_INTERP), i.e. a dynamically linked one.
func checkStatic(path string) error {
	ef, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("runtime binary %s: not a readable ELF executable: %w", path, err)
	}
	defer ef.Close()
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("runtime binary %s: %w", path, ErrDynamicBinary)
		}
	}
	return nil
}

func fileSHA256(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("runtime binary %s: %w", path, err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}
