package docker

import (
	"context"

	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
)

// pullPolicy is what docker.pull-policy asks for spec's image, read on the
// caller's goroutine without engine calls: PullNever also for Stemcell's
// own images and for images already found under PullMissing.
func (f *Factory) pullPolicy(spec factory.ContainerSpec, ref string) string {
	if f.isBuiltin(ref) {
		return config.PullNever
	}
	policy := f.cfg.Docker.PullPolicy.Runtimes
	if spec.UserProvided {
		policy = f.cfg.Docker.PullPolicy.UserImages
	}
	if _, ok := f.present.Load(ref); ok && policy == config.PullMissing {
		return config.PullNever
	}
	return policy
}

// ensureImageInLine is ensureImage for a creation holding ticket: when
// the image must be pulled, the ticket goes back before the pull and a new
// place is taken after it, so the pull holds back no other creation.
func (f *Factory) ensureImageInLine(ctx context.Context, ref string, reg config.RegistryConfig, ticket *factory.StartTicket) (*factory.StartTicket, error) {
	found, err := f.imagePresent(ctx, ref)
	if err != nil || found {
		if err != nil {
			ticket.Cancel()
		}
		return ticket, err
	}
	ticket.Cancel()
	if err := f.pull(ctx, ref, reg); err != nil {
		return nil, err
	}
	return f.starts.Reserve(), nil
}

// pullError is the error of a creation whose image could not be had.
func (f *Factory) pullError(ctx context.Context, ref string, err error) error {
	if ctx.Err() != nil {
		// The caller gave up; the image is not at fault.
		return &factory.StartupError{Msg: msgProvision, Err: err}
	}
	return &factory.StartupError{UserError: true, Msg: pullFailure(ref, err), Err: err}
}
