package docker

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/registry"

	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
)

// authEngine records what pulls were asked for.
type authEngine struct {
	engine
	refs, auths []string
}

func (e *authEngine) ImagePull(ctx context.Context, ref, auth string, progress func(pullProgress)) error {
	e.refs, e.auths = append(e.refs, ref), append(e.auths, auth)
	return e.engine.ImagePull(ctx, ref, auth, progress)
}

func TestPullSendsRegistryCredentials(t *testing.T) {
	needEngine(t)
	cfg := testConfig(t)
	cfg.ContainerFactory.UserImagesRegistry = config.RegistryConfig{URL: "https://registry.invalid:5000/", User: "alice", Password: "s3cret"}
	cfg.ContainerFactory.RuntimesRegistry = config.RegistryConfig{URL: "runtimes.invalid", User: "bob", Password: "other"}
	f := newTestFactory(t, cfg)
	ae := &authEngine{engine: f.eng}
	f.eng = ae
	_, err := f.CreateContainer(testCtx(t), specFor(f, "acme/tool:latest", true, nil))
	var se *factory.StartupError
	if !errors.As(err, &se) || !se.UserError || !strings.HasPrefix(se.Msg, "Failed to pull container image 'registry.invalid:5000/acme/tool:latest'. ") {
		t.Fatalf("err = %v, want the user's pull error naming the resolved image", err)
	}
	if !slices.Equal(ae.refs, []string{"registry.invalid:5000/acme/tool:latest"}) {
		t.Fatalf("pulled %v", ae.refs)
	}
	got, err := registry.DecodeAuthConfig(ae.auths[0])
	if err != nil {
		t.Fatal(err)
	}
	if got.Username != "alice" || got.Password != "s3cret" || got.ServerAddress != "https://registry.invalid:5000/" {
		t.Fatalf("auth = %+v, want the user-images registry's credentials", got)
	}
}

func TestManifestRuntimeImages(t *testing.T) {
	ours := config.ImageName{Prefix: "stemcell", Name: "action-runtime", Tag: "dev"}
	tests := []struct {
		name     string
		manifest config.Manifest
		registry string
		want     []string
	}{
		{name: "default manifest", manifest: config.DefaultManifest(), want: []string{"stemcell/action-runtime:dev"}},
		{name: "other images are not ours to build",
			manifest: config.Manifest{Runtimes: map[string][]config.RuntimeKind{"python": {{Kind: "python:3", Image: config.ImageName{Prefix: "openwhisk", Name: "python3action", Tag: "nightly"}}}}},
			want:     []string{}},
		{name: "registry prefix applies", manifest: config.Manifest{Runtimes: map[string][]config.RuntimeKind{"nodejs": {{Kind: "js:goja", Image: ours}}}},
			registry: "reg.local", want: []string{"reg.local/stemcell/action-runtime:dev"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.RuntimesManifest.Manifest = tt.manifest
			cfg.ContainerFactory.RuntimesRegistry.URL = tt.registry
			if got := manifestRuntimeImages(cfg); !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}
