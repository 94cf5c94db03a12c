package docker

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"

	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
)

// Messages of the startup errors, as OpenWhisk words them.
const (
	msgProvision = "Failed to provision resources to run the action."
	msgPullFmt   = "Failed to pull container image '%s'."
	msgExecFmt   = "executable file not found in image %s"
)

// CreateContainer pulls the image when the pull policy says so, creates and
// starts the container (at most docker.parallel-runs at once, in the order
// the creations were reserved), finds its address on the configured
// network and waits until the runtime accepts connections. Whatever fails
// after the engine created the container removes it again.
func (f *Factory) CreateContainer(ctx context.Context, spec factory.ContainerSpec) (factory.Container, error) {
	return f.ReserveCreate(spec)(ctx)
}

var _ factory.OrderedFactory = (*Factory)(nil)

// ReserveCreate takes spec's place among the docker.parallel-runs start
// slots at once; the returned function creates the container when its turn
// comes (see CreateContainer). A creation that must pull its image keeps
// its place without holding back the ones behind it while it pulls: the
// engine cannot create a container before its image is there, and holding
// a slot through a pull would stall every cold start behind it.
func (f *Factory) ReserveCreate(spec factory.ContainerSpec) func(context.Context) (factory.Container, error) {
	if !strings.HasPrefix(spec.Name, f.namePrefix) || len(spec.Name) == len(f.namePrefix) {
		// Cleanup finds containers by this prefix: one without it would leak.
		err := &factory.StartupError{Msg: msgProvision,
			Err: fmt.Errorf("container name %q: must start with %q, this invoker's prefix (see factory.ContainerName)", spec.Name, f.namePrefix)}
		return func(context.Context) (factory.Container, error) { return nil, err }
	}
	reg := factory.ResolveRegistryConfig(spec.UserProvided, f.cfg.ContainerFactory.RuntimesRegistry, f.cfg.ContainerFactory.UserImagesRegistry)
	ref := factory.ImageRef(reg, spec.Image)
	policy := f.pullPolicy(spec, ref)
	reserve := f.starts.Reserve
	if policy == config.PullAlways {
		reserve = f.starts.ReserveDeferred
	}
	ticket := reserve()
	return func(ctx context.Context) (factory.Container, error) {
		if policy == config.PullMissing {
			// Most images asked for are there: keep the place while
			// the engine says so (milliseconds), and give it up only
			// for a pull.
			var err error
			if ticket, err = f.ensureImageInLine(ctx, ref, reg, ticket); err != nil {
				return nil, f.pullError(ctx, ref, err)
			}
			policy = config.PullNever
		}
		defer ticket.Cancel() // gives the place up on an early return; no-op once waited on
		return f.createReserved(ctx, spec, reg, ref, policy, ticket)
	}
}

// createReserved is CreateContainer once the creation has its place in line.
func (f *Factory) createReserved(ctx context.Context, spec factory.ContainerSpec, reg config.RegistryConfig, ref, policy string, ticket *factory.StartTicket) (factory.Container, error) {
	log := f.log.With().Str("container", spec.Name).Str("transaction_id", spec.TransactionID).Logger()
	pullFailed := false
	if policy == config.PullAlways {
		if err := f.pull(ctx, ref, reg); err != nil {
			if tag := spec.Image.Tag; ctx.Err() != nil || tag == "" || tag == "latest" {
				return nil, f.pullError(ctx, ref, err)
			}
			// A pinned tag may exist locally: try it anyway.
			log.Warn().Err(err).Str("image", ref).Msg("pull failed; trying the local image")
			pullFailed = true
		}
	}

	cs := f.containerSpec(spec, ref)
	id, tap, err := f.createAndStart(ctx, cs, ticket)
	if err != nil {
		if id != "" {
			f.removeQuietly(id)
		}
		if tap != nil {
			tap.close()
		}
		return nil, f.classifyStartError(err, spec, ref, pullFailed)
	}

	c, err := f.awaitReady(ctx, id, spec.Name, tap)
	if err != nil {
		f.removeQuietly(id)
		if tap != nil {
			tap.close()
		}
		return nil, err
	}
	log.Debug().Str("id", id).Str("addr", c.addr).Msg("container ready")
	return c, nil
}

// containerSpec merges the configuration's base spec with this container's.
func (f *Factory) containerSpec(spec factory.ContainerSpec, ref string) createSpec {
	cs := f.baseFor(ref, int64(spec.Memory))
	cs.Name = spec.Name
	cs.Image = ref
	cs.Memory = int64(spec.Memory)
	cs.CPUShares = int64(spec.CPUShares)
	if spec.CPULimit > 0 {
		cs.NanoCPUs = int64(spec.CPULimit * 1e9)
	}
	cs.Env = slices.Clone(cs.Env)
	cs.Labels = maps.Clone(cs.Labels)
	cs.Labels[LabelInvoker] = f.invoker
	cs.Labels[LabelManaged] = "true"
	cs.Labels[LabelKind] = spec.Kind
	if spec.Action == nil {
		cs.Labels[LabelRole] = "prewarm"
	} else {
		cs.Labels[LabelRole] = "action"
		cs.Labels[LabelNamespace] = spec.Action.Namespace
		cs.Labels[LabelAction] = spec.Action.Name
	}
	return cs
}

// createAndStart holds a start slot for create+start, the expensive part;
// the slot is ticket's, granted in reservation order. It returns the container id as soon as the engine has one, also on error,
// so that the caller can remove it, and the tap on its output (nil when
// the attachment failed: the engine's log is read instead), which the
// caller closes on error.
func (f *Factory) createAndStart(ctx context.Context, cs createSpec, ticket *factory.StartTicket) (string, *logTap, error) {
	if err := ticket.Wait(ctx); err != nil {
		return "", nil, fmt.Errorf("waiting for a start slot (docker.parallel-runs %d): %w", f.cfg.Docker.ParallelRuns, err)
	}
	id, handedOff, err := f.create(ctx, cs, ticket.Release)
	if !handedOff {
		defer ticket.Release()
	}
	if err != nil {
		return id, nil, &engineError{op: "create", err: err}
	}
	runCtx, cancel := withTimeout(ctx, f.timeouts.Run)
	defer cancel()
	tap := f.attach(runCtx, id, cs.Name)
	if err := f.eng.Start(runCtx, id); err != nil {
		return id, tap, &engineError{op: "start", err: err}
	}
	return id, tap, nil
}

// attach taps the container's output before it starts, so that nothing it
// writes is missed. Without a tap the container still works: its logs are
// read from the engine.
func (f *Factory) attach(ctx context.Context, id, name string) *logTap {
	if f.noTap {
		return nil
	}
	rc, err := f.eng.Attach(ctx, id)
	if err != nil {
		f.log.Warn().Err(err).Str("container", name).Msg("attaching to the output failed; its logs are read from the engine")
		return nil
	}
	// Enough for the largest log limit, so that the limit, not the
	// bound, cuts a chatty activation.
	return newLogTap(rc, int64(f.cfg.Limits.Log.Max)+1<<20)
}

// create asks the engine for the container on a context that the caller's
// cancellation does not reach, bounded by docker.timeouts.run. An abandoned
// create request may still complete in the engine, and only the finished
// call says whether it did and under which id: removing by name at once
// can run before the engine has made the container. When the caller has
// gone, the call goes on in the background and removes what it made;
// Cleanup waits for such calls. The background call keeps the caller's
// start slot (handedOff) and releases it when done, so that abandoned
// creates count against docker.parallel-runs while the engine works on
// them. The caller learns when the background call has ended from the
// *factory.AbandonedError it gets.
func (f *Factory) create(ctx context.Context, cs createSpec, releaseSlot func()) (id string, handedOff bool, err error) {
	if err := ctx.Err(); err != nil {
		return "", false, err
	}
	type result struct {
		id  string
		err error
	}
	var (
		mu        sync.Mutex
		abandoned bool
		done      = make(chan result, 1)
		settled   = make(chan struct{})
	)
	f.detached.add()
	go func() {
		defer f.detached.done()
		defer close(settled)
		cctx, cancel := withTimeout(context.WithoutCancel(ctx), f.timeouts.Run)
		defer cancel()
		id, err := f.eng.Create(cctx, cs)
		if err == nil {
			f.owned.add(id)
		}
		mu.Lock()
		gone := abandoned
		if !gone {
			done <- result{id, err}
		}
		mu.Unlock()
		if !gone {
			return
		}
		if err == nil {
			f.log.Info().Str("container", cs.Name).Msg("removing a container whose creation was abandoned")
			f.removeQuietly(id)
		}
		releaseSlot()
	}()
	select {
	case r := <-done:
		return r.id, false, r.err
	case <-ctx.Done():
	}
	mu.Lock()
	abandoned = true
	mu.Unlock()
	select {
	case r := <-done:
		// The engine answered before the caller's end was noticed: the
		// caller removes by id.
		if r.err == nil {
			return r.id, false, ctx.Err()
		}
		return "", false, r.err
	default:
		return "", true, &factory.AbandonedError{Err: ctx.Err(), Settled: settled}
	}
}

// engineError says which engine call failed.
type engineError struct {
	op  string
	err error
}

func (e *engineError) Error() string { return "docker " + e.op + ": " + e.err.Error() }
func (e *engineError) Unwrap() error { return e.err }

// classifyStartError maps a create/start failure to whose fault it is. The
// user's: their image is missing after a failed pull, or it has no runnable
// entrypoint. Everything else is ours (an internal error).
func (f *Factory) classifyStartError(err error, spec factory.ContainerSpec, ref string, pullFailed bool) error {
	var ee *engineError
	if ee, ok := errors.AsType[*engineError](err); ok && ee.op == "create" && cerrdefs.IsNotFound(err) {
		// The image went away, or was never pulled (pull policy never):
		// look again next time.
		f.present.Delete(ref)
		if !spec.UserProvided && !pullFailed {
			return &factory.StartupError{UserError: true, Msg: missingImage(ref, f.cfg.Docker.PullPolicy.Runtimes), Err: err}
		}
	}
	if spec.UserProvided && errors.As(err, &ee) {
		msg := err.Error()
		switch {
		case ee.op == "create" && pullFailed:
			return &factory.StartupError{UserError: true, Msg: fmt.Sprintf(msgPullFmt, ref), Err: err}
		case ee.op == "create" && cerrdefs.IsNotFound(err):
			return &factory.StartupError{UserError: true, Msg: missingImage(ref, f.cfg.Docker.PullPolicy.UserImages), Err: err}
		case ee.op == "start" && (strings.Contains(msg, "executable file not found") || strings.Contains(msg, "no such file or directory")):
			return &factory.StartupError{UserError: true, Msg: fmt.Sprintf(msgExecFmt, ref), Err: err}
		}
	}
	return &factory.StartupError{Msg: msgProvision, Err: err}
}

// awaitReady finds the container's address and waits until its runtime
// accepts a TCP connection, bounded by docker.timeouts.run. A container that
// exits meanwhile fails fast instead of waiting out the bound.
func (f *Factory) awaitReady(ctx context.Context, id, name string, tap *logTap) (*Container, error) {
	ctx, cancel := withTimeout(ctx, f.timeouts.Run)
	defer cancel()
	info, err := f.inspect(ctx, id)
	if err != nil {
		return nil, &factory.StartupError{Msg: msgProvision, Err: &engineError{op: "inspect", err: err}}
	}
	ip, err := addressOn(info, f.base.Network)
	if err != nil {
		return nil, &factory.StartupError{Msg: msgProvision, Err: err}
	}
	addr := net.JoinHostPort(ip, runtimePort)
	if err := f.waitListening(ctx, id, addr); err != nil {
		return nil, &factory.StartupError{Msg: msgProvision, Err: err}
	}
	return newContainer(f, id, name, addr, tap), nil
}

// addressOn is the container's IP on network. The "default" mode is the
// bridge on Linux; the host network shares the host's loopback.
func addressOn(info containerInfo, network string) (string, error) {
	switch network {
	case "host":
		return "127.0.0.1", nil
	case "", "default":
		network = "bridge"
	}
	ip := info.IPs[network]
	if ip == "" {
		return "", fmt.Errorf("container-factory.container-args.network %q: container %s has no IP address on it", network, info.ID)
	}
	return ip, nil
}

// waitListening dials addr until it connects. The runtime listens about a
// millisecond after start returns (tens of milliseconds on a loaded host),
// and a refused dial on the local bridge costs microseconds, so it polls
// every millisecond for a while before backing off: a coarser poll would
// add its own interval to every cold start.
func (f *Factory) waitListening(ctx context.Context, id, addr string) error {
	var d net.Dialer
	const eager = 500 * time.Millisecond
	delay := time.Millisecond
	first := time.Now()
	lastCheck := first
	for {
		dialCtx, cancel := context.WithTimeout(ctx, 250*time.Millisecond)
		conn, err := d.DialContext(dialCtx, "tcp", addr)
		cancel()
		if err == nil {
			_ = conn.Close()
			return nil
		}
		if time.Since(lastCheck) > 200*time.Millisecond {
			lastCheck = time.Now()
			if info, ierr := f.inspect(ctx, id); ierr == nil && !info.Running {
				return fmt.Errorf("container %s exited with code %d before its runtime listened on %s: %s", id, info.ExitCode, addr, info.Error)
			}
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			// The bound is docker.timeouts.run or the caller's own
			// deadline, whichever came first; ctx says which.
			return fmt.Errorf("runtime at %s did not accept connections in time (docker.timeouts.run %v or the caller's deadline): %w (last dial: %v)", addr, f.timeouts.Run, ctx.Err(), err)
		case <-t.C:
		}
		if time.Since(first) > eager {
			delay = min(delay*2, 50*time.Millisecond)
		}
	}
}

func (f *Factory) inspect(ctx context.Context, id string) (containerInfo, error) {
	ctx, cancel := withTimeout(ctx, f.timeouts.Inspect)
	defer cancel()
	return f.eng.Inspect(ctx, id)
}

// removeQuietly force-removes a container whatever the caller's context
// says, so that a cancelled creation leaves nothing behind.
func (f *Factory) removeQuietly(id string) {
	ctx, cancel := withTimeout(context.Background(), f.timeouts.Rm)
	defer cancel()
	if err := f.eng.Remove(ctx, id); err != nil {
		f.log.Error().Err(err).Str("id", id).Msg("removing a container that failed to start")
		return
	}
	f.owned.remove(id)
}
