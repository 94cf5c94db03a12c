package docker

import (
	"context"
	"fmt"
	"time"

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
		pl := newPullLog(f.log, ref, pullLogEvery)
		err := f.eng.ImagePull(pctx, ref, auth, pl.update)
		pl.done(err)
		if err == nil {
			f.present.Store(ref, true)
		}
		return nil, err
	})
}

// ensureImage pulls ref unless the engine has it (docker.pull-policy
// missing). What it found is remembered, so only the first container of
// an image asks the engine.
func (f *Factory) ensureImage(ctx context.Context, ref string, reg config.RegistryConfig) error {
	ictx, cancel := withTimeout(ctx, f.timeouts.Inspect)
	_, found, err := f.eng.ImageInspect(ictx, ref)
	cancel()
	if err != nil {
		return fmt.Errorf("inspecting image %s: %w", ref, err)
	}
	if found {
		f.present.Store(ref, true)
		return nil
	}
	return f.pull(ctx, ref, reg)
}

// pullLogEvery spaces the progress lines of a long pull: often enough to
// show that it moves, rarely enough not to flood the log with a line per
// layer per chunk as the engine's stream has.
const pullLogEvery = 5 * time.Second
