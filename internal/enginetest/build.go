package enginetest

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sync"
	"testing"
)

// Module is the import path of this repository's module.
const Module = "github.com/stemcell-io/stemcell"

// binaries are the programs built so far, by import path.
var binaries struct {
	mu    sync.Mutex
	built map[string]*binary
}

type binary struct {
	once sync.Once
	path string
	err  error
}

// Binary builds the main package pkg (an import path) as a static
// executable, once per process, and returns its path. Static, because
// the images it goes into are FROM scratch: there is no dynamic loader.
func Binary(pkg string) (string, error) {
	if err := checkMain(); err != nil {
		return "", fmt.Errorf("building %s: %w", pkg, err)
	}
	binaries.mu.Lock()
	if binaries.built == nil {
		binaries.built = map[string]*binary{}
	}
	b := binaries.built[pkg]
	if b == nil {
		b = &binary{}
		binaries.built[pkg] = b
	}
	binaries.mu.Unlock()
	b.once.Do(func() { b.path, b.err = build(pkg) })
	return b.path, b.err
}

// InvokerBinary is Binary of cmd/invoker, failing tb when it does not build.
func InvokerBinary(tb testing.TB) string {
	tb.Helper()
	bin, err := Binary(Module + "/cmd/invoker")
	if err != nil {
		tb.Fatal(err)
	}
	return bin
}

func build(pkg string) (string, error) {
	dir, err := buildDir()
	if err != nil {
		return "", err
	}
	// A directory per program: two packages may share a base name.
	sub, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return "", fmt.Errorf("building %s: %w", pkg, err)
	}
	out := filepath.Join(sub, path.Base(pkg))
	// An import path builds the same from any directory of the module,
	// which is where go test runs a test binary.
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("CGO_ENABLED=0 go build %s: %w\n%s", pkg, err, b)
	}
	return out, nil
}

// buildDir is the process's directory for binaries, removed when Main ends.
func buildDir() (string, error) {
	process.mu.Lock()
	defer process.mu.Unlock()
	if process.dir == "" {
		dir, err := os.MkdirTemp("", "stemcell-enginetest-")
		if err != nil {
			return "", fmt.Errorf("a directory for test binaries: %w", err)
		}
		process.dir = dir
	}
	return process.dir, nil
}
