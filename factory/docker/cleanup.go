package docker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// cleanupTimeout bounds the removal of leftovers at startup and shutdown.
const cleanupTimeout = 30 * time.Second

// Init checks the engine, removes this invoker's leftover containers,
// settles the network of action containers (creating the strict profile's
// when missing, network.go) and builds the runtime image when it is
// missing or was built from another binary.
func (f *Factory) Init(ctx context.Context) error {
	pctx, cancel := withTimeout(ctx, f.timeouts.Version)
	err := f.eng.Ping(pctx)
	cancel()
	if err != nil {
		return fmt.Errorf("docker.host %q: the engine does not answer: %w", f.cfg.Docker.Host, err)
	}
	if err := f.removeOwn(ctx); err != nil {
		return fmt.Errorf("removing leftover containers of invoker %q: %w", f.invoker, err)
	}
	if err := f.initNetwork(ctx); err != nil {
		return err
	}
	if len(f.runtimeTag) == 0 {
		return nil
	}
	bin, err := f.binaryPath()
	if err != nil {
		return err
	}
	for _, tag := range f.runtimeTag {
		if err := f.ensureRuntimeImage(ctx, bin, tag); err != nil {
			return err
		}
	}
	return nil
}

// Cleanup removes this invoker's containers at shutdown, within 30 s. The
// strict profile's network stays: another invoker of the host may be
// between its Init and its next creation, and the engine cannot tell (a
// container holds its place on a network only once started). An unused
// network costs an address range and a few firewall rules.
func (f *Factory) Cleanup(ctx context.Context) error {
	// A create whose caller gave up may still be running in the engine:
	// the list below would miss what it makes.
	wctx, cancel := context.WithTimeout(ctx, cleanupTimeout)
	err := f.detached.wait(wctx)
	cancel()
	if err != nil {
		f.log.Warn().Err(err).Msg("cleanup: creations abandoned by their callers are still running; removing what exists now")
	}
	if err := f.removeOwn(ctx); err != nil {
		return fmt.Errorf("removing the containers of invoker %q at shutdown: %w", f.invoker, err)
	}
	return nil
}

// removeOwn force-removes every container that carries both this invoker's
// label and its name prefix, unpausing paused ones first. Containers with
// only one of the two marks are someone else's and stay.
func (f *Factory) removeOwn(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, cleanupTimeout)
	defer cancel()
	lctx, lcancel := withTimeout(ctx, f.timeouts.Ps)
	list, err := f.eng.List(lctx, map[string]string{LabelInvoker: f.invoker}, f.namePrefix)
	lcancel()
	if err != nil {
		return fmt.Errorf("listing containers: %w", err)
	}
	var errs []error
	for _, c := range list {
		if c.Labels[LabelInvoker] != f.invoker || !strings.HasPrefix(c.Name, f.namePrefix) {
			continue
		}
		if c.State == "paused" {
			uctx, ucancel := withTimeout(ctx, f.timeouts.Unpause)
			if err := f.eng.Unpause(uctx, c.ID); err != nil {
				f.log.Warn().Err(err).Str("container", c.Name).Msg("unpause before remove failed")
			}
			ucancel()
		}
		rctx, rcancel := withTimeout(ctx, f.timeouts.Rm)
		if err := f.eng.Remove(rctx, c.ID); err != nil {
			errs = append(errs, fmt.Errorf("container %s: %w", c.Name, err))
		} else {
			f.owned.remove(c.ID)
			f.log.Info().Str("container", c.Name).Msg("removed leftover container")
		}
		rcancel()
	}
	return errors.Join(errs...)
}
