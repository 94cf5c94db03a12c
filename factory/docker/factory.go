package docker

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sync/singleflight"

	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
)

// ProviderName is the name this factory registers under
// (container-factory.provider).
const ProviderName = "docker"

// RuntimeImageName is the repository of the image built from the invoker
// binary itself; manifest images with this repository are built by Init,
// all others are expected to exist or be pullable.
const RuntimeImageName = "stemcell/action-runtime"

// Labels put on every container the factory creates.
const (
	LabelInvoker   = "io.stemcell.invoker"
	LabelKind      = "io.stemcell.kind"
	LabelRole      = "io.stemcell.role" // "prewarm" or "action"
	LabelNamespace = "io.stemcell.namespace"
	LabelAction    = "io.stemcell.action"
	LabelManaged   = "io.stemcell.managed"
	// LabelRuntimeSHA256 on the runtime image holds the hash of the binary
	// it was built from, so Init rebuilds it when the binary changes.
	LabelRuntimeSHA256 = "io.stemcell.runtime.sha256"
)

// runtimePort is where every runtime listens inside its container.
const runtimePort = "8080"

func init() {
	factory.Register(ProviderName, func(cfg *config.Config, log zerolog.Logger) (factory.ContainerFactory, error) {
		return New(cfg, log)
	})
}

// Options are the factory's settings that do not come from the
// configuration file.
type Options struct {
	// BinaryPath is the static invoker binary the runtime image is built
	// from. Empty: the running executable.
	BinaryPath string
	// RuntimeImages are the images Init builds from BinaryPath. Nil: every
	// image of the runtimes manifest whose repository is RuntimeImageName.
	RuntimeImages []string
	// ActionNetwork names the invoker-owned network that the strict
	// profile puts action containers on when
	// container-factory.container-args.network is empty. Empty:
	// DefaultActionNetwork. Tests use it to keep their network their own.
	ActionNetwork string
}

// Factory creates containers on a Docker Engine.
type Factory struct {
	cfg        *config.Config
	log        zerolog.Logger
	eng        engine
	closer     func() error
	opts       Options
	invoker    string
	namePrefix string     // "<prefix>_", what every container name starts with
	base       createSpec // the part of every container's spec that comes from configuration
	present    sync.Map   // image ref -> true: found on the engine or pulled (docker.pull-policy missing)
	timeouts   config.DockerClientTimeouts
	starts     *factory.StartQueue // docker.parallel-runs, granted in reservation order
	pulls      singleflight.Group  // in-flight image pulls, by reference
	detached   detachedCalls       // creates that outlive their caller
	owned      ownedContainers
	// watchEvery and orphanGrace pace the watcher (watch.go); tests
	// shorten them.
	watchEvery, orphanGrace time.Duration
	noTap                   bool // tests: read logs from the engine only
	runtimeTag              []string

	// Hardening (hardening.go, network.go). builtinBase is base for the
	// images built from the invoker binary (runtimeTag), which the strict
	// profile confines further; ownedNetwork is the network Init creates
	// when missing, "" when the configuration names one.
	builtinBase  createSpec
	ownedNetwork string
	actionNet    actionNetwork // what Init settled on; ActionNetwork reports it
}

// New makes a factory from the configuration with default options.
func New(cfg *config.Config, log zerolog.Logger) (*Factory, error) {
	return NewWithOptions(cfg, log, Options{})
}

// NewWithOptions makes a factory. It checks the container arguments (an
// unknown extra-args flag is an error) but does not contact the engine;
// Init does.
func NewWithOptions(cfg *config.Config, log zerolog.Logger, opts Options) (*Factory, error) {
	if cfg == nil {
		return nil, fmt.Errorf("docker factory: configuration is nil")
	}
	eng, err := newSDKEngine(cfg.Docker.Host)
	if err != nil {
		return nil, err
	}
	f, err := newFactory(cfg, log, eng, opts)
	if err != nil {
		_ = eng.Close()
		return nil, err
	}
	f.closer = eng.Close
	return f, nil
}

func newFactory(cfg *config.Config, log zerolog.Logger, eng engine, opts Options) (*Factory, error) {
	if cfg.Invoker.Name == "" {
		return nil, fmt.Errorf("invoker.name: empty is invalid: the docker factory names and labels containers with it")
	}
	netName, owned := networkFor(cfg, opts)
	base, err := baseSpec(cfg, netName, false)
	if err != nil {
		return nil, err
	}
	builtinBase, err := baseSpec(cfg, netName, true)
	if err != nil {
		return nil, err
	}
	f := &Factory{
		cfg:         cfg,
		log:         log.With().Str("component", "docker-factory").Logger(),
		eng:         eng,
		opts:        opts,
		invoker:     cfg.Invoker.Name,
		namePrefix:  factory.ContainerNamePrefix(cfg.Invoker.Name) + "_",
		base:        base,
		builtinBase: builtinBase,
		timeouts:    cfg.Docker.Timeouts,
		starts:      factory.NewStartQueue(cfg.Docker.ParallelRuns),
		watchEvery:  defaultWatchEvery,
		orphanGrace: defaultOrphanGrace,
	}
	if owned {
		f.ownedNetwork = netName
	}
	f.runtimeTag = opts.RuntimeImages
	if f.runtimeTag == nil {
		f.runtimeTag = manifestRuntimeImages(cfg)
	}
	return f, nil
}

// manifestRuntimeImages lists the manifest's images that are built from the
// invoker binary, resolved against their registries.
func manifestRuntimeImages(cfg *config.Config) []string {
	reg := cfg.ContainerFactory
	seen := map[string]bool{}
	isOurs := func(img config.ImageName) bool {
		return path.Join(strings.Trim(img.Prefix, "/"), img.Name) == RuntimeImageName
	}
	for _, kinds := range cfg.RuntimesManifest.Manifest.Runtimes {
		for _, k := range kinds {
			if isOurs(k.Image) {
				seen[factory.ImageRef(reg.RuntimesRegistry, k.Image)] = true
			}
		}
	}
	for _, img := range cfg.RuntimesManifest.Manifest.Blackboxes {
		if isOurs(img) {
			seen[factory.ImageRef(reg.UserImagesRegistry, img)] = true
		}
	}
	out := make([]string, 0, len(seen))
	for ref := range seen {
		out = append(out, ref)
	}
	sort.Strings(out)
	return out
}

// baseSpec is the configuration's share of every container: network, DNS,
// environment, limits, the hardening profile (for the invoker's own
// runtime image when builtin) and the extra arguments on top.
func baseSpec(cfg *config.Config, network string, builtin bool) (createSpec, error) {
	args := cfg.ContainerFactory.ContainerArgs
	s := createSpec{
		Network:    network,
		DNS:        args.DNSServers,
		DNSSearch:  args.DNSSearch,
		DNSOptions: args.DNSOptions,
		Env:        []string{"__OW_API_HOST=" + cfg.Invoker.APIHost},
		Labels:     map[string]string{},
		PidsLimit:  1024,
		Ulimits:    []ulimit{{Name: "nofile", Soft: 1024, Hard: 1024}},
		LogDriver:  "json-file",
	}
	applyProfile(&s, cfg.Docker.Hardening, builtin)
	env := args.EnvMap()
	for _, k := range slices.Sorted(maps.Keys(env)) {
		s.Env = append(s.Env, k+"="+env[k])
	}
	if err := applyExtraArgs(&s, args.ExtraArgs); err != nil {
		return createSpec{}, err
	}
	finishCaps(&s)
	return s, nil
}

// Close releases the engine client.
func (f *Factory) Close() error {
	if f.closer != nil {
		return f.closer()
	}
	return nil
}

// withTimeout bounds one engine operation; a zero timeout means none.
func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

// binaryPath is the invoker binary the runtime image is built from.
func (f *Factory) binaryPath() (string, error) {
	if f.opts.BinaryPath != "" {
		return f.opts.BinaryPath, nil
	}
	p, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("locating the invoker binary for the runtime image: %w", err)
	}
	return p, nil
}
