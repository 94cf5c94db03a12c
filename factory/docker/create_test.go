package docker

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
)

func TestCreateContainerSettings(t *testing.T) {
	needEngine(t)
	cpus := 1.0
	cfg := testConfig(t)
	cfg.ContainerPool.UserCPUs = &cpus
	args := &cfg.ContainerFactory.ContainerArgs
	args.DNSServers = []string{"10.11.12.13"}
	args.DNSSearch = []string{"stemcell.test"}
	args.DNSOptions = []string{"ndots:2"}
	args.ExtraEnvVars = []string{"FOO=bar", "EMPTY"}
	args.ExtraArgs = map[string][]string{"label": {"team=blue"}}
	f := newTestFactory(t, cfg)

	tests := []struct {
		name   string
		action *factory.ActionRef
		role   string
	}{
		{name: "prewarm", role: "prewarm"},
		{name: "action", action: &factory.ActionRef{Namespace: "guest", Name: "pkg/hello", Version: "0.0.1"}, role: "action"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := specFor(f, testEnv.runtimeImage, false, tt.action)
			spec.Action = tt.action
			limit, _ := cfg.ContainerPool.CPULimit(spec.Memory)
			spec.CPULimit = limit
			c := create(t, f, spec)
			defer c.Destroy(context.Background())
			info, err := testEnv.eng.Inspect(testCtx(t), c.ID())
			if err != nil {
				t.Fatal(err)
			}
			mib128 := int64(128 << 20)
			if info.Memory != mib128 || info.MemorySwap != mib128 {
				t.Errorf("memory/swap = %d/%d, want %d/%d", info.Memory, info.MemorySwap, mib128, mib128)
			}
			if want := int64(cfg.ContainerPool.CPUShare(128 * config.MB)); info.CPUShares != want || want != 128 {
				t.Errorf("cpu shares = %d, want %d (= 1024 / (1024 MB / 128 MB))", info.CPUShares, want)
			}
			if info.NanoCPUs != int64(limit*1e9) || limit != 0.125 {
				t.Errorf("nano cpus = %d, want %v CPUs", info.NanoCPUs, limit)
			}
			// The strict profile's network (this process's, made by
			// TestMain; joined by name since Init did not run).
			if nw := testEnv.network; info.Network != nw || info.IPs[nw] == "" || c.Addr() != info.IPs[nw]+":8080" {
				t.Errorf("network = %q, IPs %v, addr %q, want the address on %s", info.Network, info.IPs, c.Addr(), nw)
			}
			if !slices.Equal(info.DNS, args.DNSServers) || !slices.Equal(info.DNSSearch, args.DNSSearch) || !slices.Equal(info.DNSOptions, args.DNSOptions) {
				t.Errorf("dns = %v %v %v", info.DNS, info.DNSSearch, info.DNSOptions)
			}
			for _, kv := range []string{"__OW_API_HOST=https://api.stemcell.test", "FOO=bar", "EMPTY="} {
				if !slices.Contains(info.Env, kv) {
					t.Errorf("env %v lacks %q", info.Env, kv)
				}
			}
			wantLabels := map[string]string{LabelInvoker: cfg.Invoker.Name, LabelKind: "js:goja", LabelRole: tt.role, LabelManaged: "true", "team": "blue"}
			if tt.action != nil {
				wantLabels[LabelNamespace], wantLabels[LabelAction] = "guest", "pkg/hello"
			}
			for k, v := range wantLabels {
				if info.Labels[k] != v {
					t.Errorf("label %s = %q, want %q", k, info.Labels[k], v)
				}
			}
			if tt.action == nil && info.Labels[LabelAction] != "" {
				t.Errorf("prewarm carries an action label %q", info.Labels[LabelAction])
			}
			prefix := factory.ContainerNamePrefix(cfg.Invoker.Name) + "_"
			if info.Name != spec.Name || !strings.HasPrefix(info.Name, prefix) {
				t.Errorf("name = %q, want %q with prefix %q", info.Name, spec.Name, prefix)
			}
			// The strict profile for the runtime image (TestProfileSettings
			// has the rest).
			if !slices.Equal(info.CapDrop, []string{"ALL"}) || len(info.CapAdd) != 0 || info.PidsLimit != 1024 || info.LogDriver != "json-file" {
				t.Errorf("hardening: capdrop %v capadd %v pids %d log %q", info.CapDrop, info.CapAdd, info.PidsLimit, info.LogDriver)
			}
			if !slices.Equal(info.Ulimits, []ulimit{{Name: "nofile", Soft: 1024, Hard: 1024}}) {
				t.Errorf("ulimits = %v", info.Ulimits)
			}
		})
	}
}

func TestDestroyRemovesAndIsIdempotent(t *testing.T) {
	needEngine(t)
	f := newTestFactory(t, testConfig(t))
	c := create(t, f, specFor(f, testEnv.fakeImage, false, nil))
	if err := c.Suspend(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := c.Destroy(testCtx(t)); err != nil {
			t.Fatalf("destroy #%d: %v", i+1, err)
		}
	}
	if _, err := testEnv.eng.Inspect(testCtx(t), c.ID()); !cerrdefs.IsNotFound(err) {
		t.Fatalf("inspect after destroy: %v, want not found", err)
	}
}

func TestUnknownExtraArgIsAConfigError(t *testing.T) {
	cfg := config.Default()
	cfg.ContainerFactory.ContainerArgs.ExtraArgs = map[string][]string{"privileged": {"true"}}
	_, err := New(cfg, zerolog.Nop())
	if err == nil || !strings.Contains(err.Error(), "container-factory.container-args.extra-args.privileged") {
		t.Fatalf("err = %v, want it to name container-factory.container-args.extra-args.privileged", err)
	}
}

func TestProviderRegistered(t *testing.T) {
	if !slices.Contains(factory.Providers(), ProviderName) {
		t.Fatalf("providers %v lack %q", factory.Providers(), ProviderName)
	}
}

func TestPullPolicy(t *testing.T) {
	needEngine(t)
	missing := "stemcell-test/does-not-exist-" + randomSuffix()
	tests := []struct {
		name      string
		image     string
		user      bool
		policy    string // docker.pull-policy.runtimes; "" keeps the default
		wantPulls int
		wantErr   string // a prefix of the error; "" means the container starts
		wantUser  bool
	}{
		{name: "user image latest cannot be pulled", image: missing + ":latest", user: true, wantPulls: 1,
			wantErr: "Failed to pull container image '" + missing + ":latest'.", wantUser: true},
		{name: "user image without tag cannot be pulled", image: missing, user: true, wantPulls: 1,
			wantErr: "Failed to pull container image '" + missing + "'.", wantUser: true},
		{name: "user image pinned tag pull fails but image is local", image: testEnv.fakeImage, user: true, wantPulls: 1},
		{name: "user image pinned tag neither pullable nor local", image: missing + ":v1", user: true, wantPulls: 1,
			wantErr: "Failed to pull container image '" + missing + ":v1'.", wantUser: true},
		{name: "native blackbox is not pulled", image: testEnv.runtimeImage, user: true, wantPulls: 0},
		{name: "runtime image is never pulled", image: testEnv.fakeImage, user: false, wantPulls: 0},
		{name: "missing runtime image is pulled, and its failure is the developer's", image: missing + ":v1", user: false, wantPulls: 1,
			wantErr: "Failed to pull container image '" + missing + ":v1'. ", wantUser: true},
		{name: "runtime image missing under pull policy never", image: missing + ":v1", user: false, policy: config.PullNever, wantPulls: 0,
			wantErr: "Failed to pull container image '" + missing + ":v1'. The image is not on the invoker's host, and its pull policy is never (docker.pull-policy).", wantUser: true},
		{name: "runtime image pulled under pull policy always, pinned tag falls back to local", image: testEnv.fakeImage, user: false, policy: config.PullAlways, wantPulls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t)
			if tt.policy != "" {
				cfg.Docker.PullPolicy.Runtimes = tt.policy
			}
			f := newTestFactory(t, cfg)
			ce := &countingEngine{engine: f.eng}
			f.eng = ce
			c, err := f.CreateContainer(testCtx(t), specFor(f, tt.image, tt.user, nil))
			if ce.pulls != tt.wantPulls {
				t.Errorf("pulls = %d, want %d", ce.pulls, tt.wantPulls)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("CreateContainer: %v", err)
				}
				_ = c.Destroy(testCtx(t))
				return
			}
			var se *factory.StartupError
			if !errors.As(err, &se) || !strings.HasPrefix(se.Msg, tt.wantErr) || se.UserError != tt.wantUser {
				t.Fatalf("err = %#v, want StartupError{Msg: %q, UserError: %v}", err, tt.wantErr, tt.wantUser)
			}
			left, lerr := testEnv.eng.List(testCtx(t), map[string]string{LabelInvoker: f.invoker}, "")
			if lerr != nil || len(left) != 0 {
				t.Fatalf("containers left behind: %v %v", left, lerr)
			}
		})
	}
}

// countingEngine counts pulls.
type countingEngine struct {
	engine
	pulls, builds int
}

func (e *countingEngine) ImageBuild(ctx context.Context, tarContext io.Reader, tag string, labels map[string]string) error {
	e.builds++
	return e.engine.ImageBuild(ctx, tarContext, tag, labels)
}

func (e *countingEngine) ImagePull(ctx context.Context, ref, auth string, progress func(pullProgress)) error {
	e.pulls++
	return e.engine.ImagePull(ctx, ref, auth, progress)
}
