package pool

import (
	"testing"

	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory/docker"
	"github.com/stemcell-io/stemcell/internal/enginetest"
)

// dockerFactory is the real Docker factory for a unique invoker named
// after what, whose js:goja kind runs this process's runtime image (its
// Init builds the image once). The invoker's containers are removed when
// t ends. Call enginetest.Require first.
func dockerFactory(t *testing.T, what string) (*config.Config, config.ImageName, *docker.Factory) {
	t.Helper()
	cfg := config.Default()
	cfg.Invoker.Name = enginetest.UniqueName(what)
	img := enginetest.ImageName(enginetest.RuntimeImageRef())
	cfg.RuntimesManifest.Manifest = config.Manifest{
		Runtimes: map[string][]config.RuntimeKind{"nodejs": {{Kind: "js:goja", Default: true, Image: img}}},
	}
	f, err := docker.NewWithOptions(cfg, zerolog.Nop(), docker.Options{BinaryPath: enginetest.InvokerBinary(t)})
	if err != nil {
		t.Fatal(err)
	}
	enginetest.CleanupFactory(t, f)
	return cfg, img, f
}
