package docker

import (
	"context"
	"fmt"

	"github.com/docker/docker/api/types/registry"

	"github.com/stemcell-io/stemcell/config"
)

// pull fetches ref, sharing one engine call among concurrent pulls of the
// same image. Credentials, when configured, go as the engine's
// X-Registry-Auth header.
func (f *Factory) pull(ctx context.Context, ref string, reg config.RegistryConfig) error {
	auth := ""
	if reg.User != "" || reg.Password != "" {
		enc, err := registry.EncodeAuthConfig(registry.AuthConfig{Username: reg.User, Password: reg.Password, ServerAddress: reg.URL})
		if err != nil {
			return fmt.Errorf("encoding credentials for registry %q: %w", reg.URL, err)
		}
		auth = enc
	}
	return f.pulls.Do(ctx, ref, func() error {
		// The shared call must not die with the first caller's context.
		pctx, cancel := withTimeout(context.Background(), f.timeouts.Pull)
		defer cancel()
		return f.eng.ImagePull(pctx, ref, auth)
	})
}
