package pool

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
)

// Activation is one invocation of an action.
type Activation = actors.Activation

// Result is the one answer every accepted activation gets.
type Result = actors.Result

// Options configure a pool.
type Options struct {
	// Config is the invoker configuration; container-pool, container-proxy
	// and the runtimes manifest matter here. Required.
	Config *config.Config
	// Factory creates the containers. Required.
	Factory factory.ContainerFactory
	// Log is the root logger; the pool adds component=pool.
	Log zerolog.Logger
	// Clock drives every timer; nil means actors.RealClock{}.
	Clock actors.Clock
	// Registerer receives the metrics; nil means a private registry.
	Registerer prometheus.Registerer
	// Name is the pool actor's name in the actor system, and the "pool"
	// label of its metrics; empty means "pool".
	Name string
}

// factoryInitTimeout bounds the factory's Init in Spawn: it removes the
// leftovers of a previous run and may build runtime images.
const factoryInitTimeout = 5 * time.Minute

// Pool is a handle on a running pool actor. Its methods are safe for
// concurrent use; they only exchange messages with the actor.
type Pool struct {
	root *actor.RootContext
	pid  *actor.PID
}

// Spawn prepares the factory (Init removes this invoker's leftover
// containers), then starts the pool actor under root with its children: the
// factory actor and the prewarm scheduler. The caller owns the actor system;
// Shutdown stops the pool and its children but not the system.
func Spawn(root *actor.RootContext, opts Options) (*Pool, error) {
	return spawn(root, opts, hooks{})
}

func spawn(root *actor.RootContext, opts Options, h hooks) (*Pool, error) {
	if root == nil {
		return nil, errors.New("pool.Spawn: root context is nil: pass the RootContext of your actor system")
	}
	cfg := opts.Config
	if cfg == nil {
		return nil, errors.New("pool.Spawn: Options.Config is nil: pass config.Default() or a loaded configuration")
	}
	if cfg.ContainerPool.UserMemory <= 0 {
		return nil, fmt.Errorf("pool.Spawn: container-pool.user-memory: %d B is invalid: must be > 0", cfg.ContainerPool.UserMemory)
	}
	if _, err := newPolicies(cfg); err != nil {
		return nil, fmt.Errorf("pool.Spawn: %w", err)
	}
	if opts.Clock == nil {
		opts.Clock = actors.RealClock{}
	}
	if opts.Registerer == nil {
		opts.Registerer = prometheus.NewRegistry()
	}
	if opts.Name == "" {
		opts.Name = "pool"
	}
	log := opts.Log.With().Str("component", "pool").Str("pool", opts.Name).Logger()
	m, err := newMetrics(opts.Registerer, opts.Name)
	if err != nil {
		return nil, fmt.Errorf("pool.Spawn %q: registering metrics: %w", opts.Name, err)
	}
	if opts.Factory == nil && h.container == nil {
		return nil, errors.New("pool.Spawn: Options.Factory is nil: pass a factory.ContainerFactory, e.g. from factory.New")
	}
	if h.container == nil {
		h.container = newContainerProps
	}
	if opts.Factory != nil {
		f := opts.Factory
		ictx, cancel := context.WithTimeout(context.Background(), factoryInitTimeout)
		err := f.Init(ictx)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("pool.Spawn %q: factory init: %w", opts.Name, err)
		}
		if h.factory == nil {
			t := cfg.Docker.Timeouts
			h.factory = func() *actor.Props {
				return actors.NewFactoryProps(f, opts.Log,
					actors.WithCreateDeadline(t.CreateDeadline()), actors.WithRemoveTimeout(t.Rm))
			}
		}
		if h.cleanup == nil {
			h.cleanup = func() error {
				cctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
				defer cancel()
				return f.Cleanup(cctx)
			}
		}
		if h.prewarm == nil {
			h.prewarm = prewarmHook(opts)
		}
	}
	disp := newWorkers()
	props := actor.PropsFromProducer(func() actor.Actor {
		return newPoolActor(cfg, log, opts.Clock, m, h, disp)
	}, actor.WithSupervisor(actors.ContainerSupervisor()), actor.WithDispatcher(disp))
	pid, err := root.SpawnNamed(props, opts.Name)
	if err != nil {
		disp.stop()
		return nil, fmt.Errorf("pool.Spawn: actor name %q: %w", opts.Name, err)
	}
	return &Pool{root: root, pid: pid}, nil
}

// PID is the pool actor; raw messages (actors.Run, actors.Subscribe, ...)
// sent to it work as the methods do.
func (p *Pool) PID() *actor.PID { return p.pid }

// Snapshot returns the pool's current memory state.
func (p *Pool) Snapshot(ctx context.Context) (actors.MemorySnapshot, error) {
	res, err := p.request(ctx, &actors.SnapshotRequest{})
	if err != nil {
		return actors.MemorySnapshot{}, fmt.Errorf("pool snapshot: %w", err)
	}
	s, ok := res.(*actors.MemorySnapshot)
	if !ok {
		return actors.MemorySnapshot{}, fmt.Errorf("pool snapshot: unexpected answer %T", res)
	}
	return *s, nil
}

// Subscribe makes pid receive every *actors.MemorySnapshot the pool
// publishes (every container-pool.memory-sync-interval).
func (p *Pool) Subscribe(pid *actor.PID) { p.root.Send(p.pid, &actors.Subscribe{PID: pid}) }

// Unsubscribe stops the snapshots to pid.
func (p *Pool) Unsubscribe(pid *actor.PID) { p.root.Send(p.pid, &actors.Unsubscribe{PID: pid}) }

// Shutdown stops the pool: new work is rejected, buffered work answered
// with an error, running work may finish until half the time left before
// ctx's deadline and is aborted after that; every container is destroyed
// and the factory cleans up. Then the pool actor and its children stop.
// Without a deadline on ctx, running work is never aborted.
func (p *Pool) Shutdown(ctx context.Context) error {
	var deadline time.Time
	if d, ok := ctx.Deadline(); ok {
		deadline = time.Now().Add(time.Until(d) / 2)
	}
	res, err := p.request(ctx, &actors.Shutdown{Deadline: deadline})
	// Stop the actor whatever happened, so no goroutine outlives the pool.
	if perr := p.root.PoisonFuture(p.pid).Wait(); perr != nil && err == nil {
		err = fmt.Errorf("stopping the pool actor: %w", perr)
	}
	if err != nil {
		return fmt.Errorf("pool shutdown: %w", err)
	}
	if d, ok := res.(*actors.ShutdownDone); ok {
		return d.Err
	}
	return fmt.Errorf("pool shutdown: unexpected answer %T", res)
}

// request sends msg to the pool and waits for the answer or ctx.
func (p *Pool) request(ctx context.Context, msg any) (any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	timeout := time.Duration(-1) // no deadline: the answer always comes
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
		if timeout <= 0 {
			return nil, ctx.Err()
		}
	}
	f := p.root.RequestFuture(p.pid, msg, timeout)
	if ctx.Done() == nil {
		return f.Result()
	}
	type answer struct {
		res any
		err error
	}
	ch := make(chan answer, 1)
	go func() {
		res, err := f.Result()
		ch <- answer{res, err}
	}()
	select {
	case a := <-ch:
		return a.res, a.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
