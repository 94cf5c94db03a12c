package enginetest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/image"
)

// TestingM is what Main needs of *testing.M; goleak.VerifyTestMain takes
// the same.
type TestingM interface{ Run() int }

// process is everything this test process made through the package.
var process struct {
	mu     sync.Mutex
	inMain bool
	images []string // removed by cleanUp, newest first
	dir    string   // holds the binaries
}

// errNoMain names the mistake that would leak images and connections.
var errNoMain = errors.New("the package's TestMain must run its tests through enginetest.Main or enginetest.Wrap, which remove what was built")

// Main runs m's tests, then removes the images built or tracked and closes
// the engine client. It returns m's exit code.
func Main(m TestingM) int { return Wrap(m).Run() }

// Wrap returns m whose Run also cleans up after the tests, for
// goleak.VerifyTestMain(enginetest.Wrap(m)): the client's idle connections
// are closed before goleak looks for leftover goroutines.
func Wrap(m TestingM) TestingM { return wrapped{m} }

type wrapped struct{ m TestingM }

func (w wrapped) Run() int {
	process.mu.Lock()
	process.inMain = true
	process.mu.Unlock()
	defer cleanUp()
	return w.m.Run()
}

// checkMain refuses to make what nobody would remove.
func checkMain() error {
	process.mu.Lock()
	defer process.mu.Unlock()
	if !process.inMain {
		return errNoMain
	}
	return nil
}

// TrackImage marks ref, an image this process builds, for removal when
// Main ends.
func TrackImage(ref string) {
	process.mu.Lock()
	defer process.mu.Unlock()
	process.images = append(process.images, ref)
}

func cleanUp() {
	process.mu.Lock()
	images, dir := process.images, process.dir
	process.images, process.dir = nil, ""
	process.mu.Unlock()
	if len(images) > 0 {
		removeImages(images)
	}
	closeEngine()
	if dir != "" {
		if err := os.RemoveAll(dir); err != nil {
			fmt.Fprintf(os.Stderr, "enginetest: removing %s: %v\n", dir, err)
		}
	}
}

func removeImages(refs []string) {
	cli, err := Engine()
	if err != nil {
		fmt.Fprintf(os.Stderr, "enginetest: cannot remove the test images %v: %v\n", refs, err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i := len(refs) - 1; i >= 0; i-- {
		_, err := cli.ImageRemove(ctx, refs[i], image.RemoveOptions{Force: true, PruneChildren: true})
		// A tracked image may never have been built (the test that would
		// have built it skipped or failed first).
		if err != nil && !cerrdefs.IsNotFound(err) {
			fmt.Fprintf(os.Stderr, "enginetest: removing test image %s: %v\n", refs[i], err)
		}
	}
}
