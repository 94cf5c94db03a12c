package docker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/image"
	"github.com/rs/zerolog"
	"go.uber.org/goleak"

	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/internal/enginetest"
)

// testEnv is what TestMain prepares once for the integration tests: the
// invoker binary, the images built from it and from the test programs, and
// the native test action. enginetest removes the images and closes the
// engine client after the last test.
var testEnv struct {
	skip         string // why the engine tests skip; "" when they run
	eng          *sdkEngine
	binary       string // static invoker binary
	fakeBinary   string // static fakeruntime binary
	runtimeImage string // built from binary, unique to this run
	fakeImage    string // fakeruntime ok
	image503     string // fakeruntime 503
	imageExit    string // fakeruntime exit
	imageNoExec  string // an entry point that does not exist
	imageMute    string // fakeruntime mute: runs, never listens
	imageDevErr  string // fakeruntime deverr: logs, sentinels, then 502
	native       []byte // the native action executable
	// network is this process's own action network (the strict
	// profile's, under another name), removed after the last test.
	network string
}

func TestMain(m *testing.M) {
	code := enginetest.Main(suite{m})
	if code == 0 {
		// The engine client's idle connections are closed by then; anything
		// left is ours.
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// suite sets the engine up before m's tests run, within enginetest.Main.
type suite struct{ m *testing.M }

func (s suite) Run() int {
	if err := setUp(); err != nil {
		if os.Getenv("CI") == "true" {
			fmt.Fprintln(os.Stderr, "factory/docker: the integration tests need a Docker Engine (CI=true):", err)
			return 1
		}
		testEnv.skip = err.Error()
		fmt.Fprintln(os.Stderr, "\n*** factory/docker: SKIPPING the Docker Engine integration tests:", err, "***")
	}
	code := s.m.Run()
	if testEnv.network != "" {
		// Every test removed its containers by now; a network that is
		// still in use says one did not, and stays.
		if err := removeNetworks(testEnv.network); err != nil {
			fmt.Fprintln(os.Stderr, "factory/docker: removing the test network:", err)
			code = max(code, 1)
		}
	}
	return code
}

func randomSuffix() string { return enginetest.Suffix() }

func setUp() error {
	cli, err := enginetest.Engine()
	if err != nil {
		return err
	}
	eng := &sdkEngine{cli: cli}
	testEnv.eng = eng
	const mod = enginetest.Module + "/"
	if testEnv.binary, err = enginetest.Binary(mod + "cmd/invoker"); err != nil {
		return err
	}
	if testEnv.fakeBinary, err = enginetest.Binary(mod + "factory/docker/testdata/fakeruntime"); err != nil {
		return err
	}
	nativePath, err := enginetest.Binary(mod + "factory/docker/testdata/nativeaction")
	if err != nil {
		return err
	}
	if testEnv.native, err = os.ReadFile(nativePath); err != nil {
		return err
	}

	// One network for the whole process, made before any test, as the
	// strict profile makes its own: the tests need not call Init to have
	// it, and do not use up the engine's address pools.
	testEnv.network = "stemcell-actions-t-" + randomSuffix()
	nctx, ncancel := context.WithTimeout(context.Background(), time.Minute)
	_, err = eng.NetworkCreate(nctx, testEnv.network, map[string]string{iccOption: "false"}, map[string]string{LabelManaged: "true"})
	ncancel()
	if err != nil {
		testEnv.network = ""
		return fmt.Errorf("creating the test network: %w", err)
	}

	testEnv.runtimeImage = enginetest.RuntimeImageRef()
	if err := enginetest.EnsureRuntimeImage(&Factory{eng: eng, log: zerolog.Nop()}); err != nil {
		return err
	}
	suffix := randomSuffix()
	testEnv.fakeImage = "stemcell/factory-test-fake:ok-" + suffix
	testEnv.image503 = "stemcell/factory-test-fake:503-" + suffix
	testEnv.imageExit = "stemcell/factory-test-fake:exit-" + suffix
	testEnv.imageNoExec = "stemcell/factory-test-fake:noexec-" + suffix
	testEnv.imageMute = "stemcell/factory-test-fake:mute-" + suffix
	testEnv.imageDevErr = "stemcell/factory-test-fake:deverr-" + suffix
	for _, img := range []string{testEnv.fakeImage, testEnv.image503, testEnv.imageExit, testEnv.imageNoExec, testEnv.imageMute, testEnv.imageDevErr} {
		enginetest.TrackImage(img)
	}
	bctx, bcancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer bcancel()
	fakeBin, err := os.ReadFile(testEnv.fakeBinary)
	if err != nil {
		return err
	}
	noExec, err := buildContext(map[string]tarFile{
		"Dockerfile": {data: []byte("FROM scratch\nLABEL " + LabelManaged + "=true\nENTRYPOINT [\"/nope\"]\n"), mode: 0o644},
	})
	if err != nil {
		return err
	}
	if err := eng.ImageBuild(bctx, noExec, testEnv.imageNoExec, nil); err != nil {
		return fmt.Errorf("building %s: %w", testEnv.imageNoExec, err)
	}
	for tag, mode := range map[string]string{testEnv.fakeImage: "ok", testEnv.image503: "503", testEnv.imageExit: "exit", testEnv.imageMute: "mute", testEnv.imageDevErr: "deverr"} {
		tarball, err := buildContext(map[string]tarFile{
			"Dockerfile": {data: []byte(fmt.Sprintf("FROM scratch\nCOPY fake /fake\nENTRYPOINT [\"/fake\",%q]\n", mode)), mode: 0o644},
			"fake":       {data: fakeBin, mode: 0o755},
		})
		if err != nil {
			return err
		}
		if err := eng.ImageBuild(bctx, tarball, tag, map[string]string{LabelManaged: "true"}); err != nil {
			return fmt.Errorf("building %s: %w", tag, err)
		}
	}
	return nil
}

// removeImage removes an image a test built.
func removeImage(ref string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := testEnv.eng.cli.ImageRemove(ctx, ref, image.RemoveOptions{Force: true, PruneChildren: true}); err != nil && !cerrdefs.IsNotFound(err) {
		fmt.Fprintln(os.Stderr, "removing test image:", err)
	}
}

// removeNetworks removes every network named name (the engine lets
// several share a name).
func removeNetworks(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	nets, err := testEnv.eng.NetworkList(ctx, name)
	if err != nil {
		return err
	}
	var errs []error
	for _, n := range nets {
		if err := testEnv.eng.NetworkRemove(ctx, n.ID); err != nil && !cerrdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("network %s (%s): %w", name, n.ID, err))
		}
	}
	return errors.Join(errs...)
}

// needEngine skips a test that needs the engine when TestMain found none.
func needEngine(t *testing.T) {
	t.Helper()
	if testEnv.skip != "" {
		t.Skip("no Docker Engine: " + testEnv.skip)
	}
}

// testConfig is the default configuration with a unique invoker name and
// the manifest pointing at this run's runtime image.
func testConfig(t testing.TB) *config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.Invoker.Name = enginetest.UniqueName(t.Name())
	cfg.Invoker.APIHost = "https://api.stemcell.test"
	img := enginetest.ImageName(testEnv.runtimeImage)
	cfg.RuntimesManifest.Manifest = config.Manifest{
		Runtimes:   map[string][]config.RuntimeKind{"nodejs": {{Kind: "js:goja", Default: true, Image: img}}},
		Blackboxes: []config.ImageName{img},
	}
	return cfg
}

// newTestFactory makes a factory on cfg and removes its containers when
// the test ends, whatever happened.
func newTestFactory(t *testing.T, cfg *config.Config) *Factory {
	t.Helper()
	f, err := NewWithOptions(cfg, zerolog.Nop(), Options{BinaryPath: testEnv.binary, RuntimeImages: []string{testEnv.runtimeImage}, ActionNetwork: testEnv.network})
	if err != nil {
		t.Fatal(err)
	}
	enginetest.CleanupFactory(t, f)
	return f
}

// containerSeq numbers containers within one test process.
var containerSeq atomic.Uint64

func specFor(f *Factory, img string, userProvided bool, action *factory.ActionRef) factory.ContainerSpec {
	kind := "js:goja"
	if userProvided {
		kind = "blackbox"
	}
	role, who := "prewarm", "jsgoja"
	if action != nil {
		role, who = action.Namespace, action.Name
	}
	return factory.ContainerSpec{
		TransactionID: "tid-" + randomSuffix(),
		Name:          factory.ContainerName(strings.TrimSuffix(f.namePrefix, "_"), containerSeq.Add(1), role, who),
		Image:         enginetest.ImageName(img),
		UserProvided:  userProvided,
		Kind:          kind,
		Memory:        128 * config.MB,
		CPUShares:     f.cfg.ContainerPool.CPUShare(128 * config.MB),
	}
}

func create(t *testing.T, f *Factory, spec factory.ContainerSpec) *Container {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := f.CreateContainer(ctx, spec)
	if err != nil {
		t.Fatalf("CreateContainer(%s): %v", spec.Name, err)
	}
	return c.(*Container)
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}
