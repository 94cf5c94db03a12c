package docker

import (
	"context"
	"fmt"

	"github.com/docker/docker/api/types/registry"
	"golang.org/x/sync/singleflight"

	"github.com/stemcell-io/stemcell/config"
)

// pull fetches ref, sharing one engine call among concurrent pulls of the
// same image. Credentials, when configured, go as the engine's
// X-Registry-Auth header. A caller whose ctx ends stops waiting; the shared
// call goes on for the others. The call is forgotten when it completes,
// whether it succeeded or failed, so a later caller tries again.
func (f *Factory) pull(ctx context.Context, ref string, reg config.RegistryConfig) error {
	auth := ""
	if reg.User != "" || reg.Password != "" {
		enc, err := registry.EncodeAuthConfig(registry.AuthConfig{Username: reg.User, Password: reg.Password, ServerAddress: reg.URL})
		if err != nil {
			return fmt.Errorf("encoding credentials for registry %q: %w", reg.URL, err)
		}
		auth = enc
	}
	select {
	case r := <-f.joinPull(ref, auth):
		return r.Err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// joinPull starts the pull of ref, or joins the one running, without
// waiting for it. The channel is buffered: a caller may abandon it.
func (f *Factory) joinPull(ref, auth string) <-chan singleflight.Result {
	return f.pulls.DoChan(ref, func() (any, error) {
		// The shared call must not die with the first caller's context.
		pctx, cancel := withTimeout(context.Background(), f.timeouts.Pull)
		defer cancel()
		return nil, f.eng.ImagePull(pctx, ref, auth)
	})
}
