package docker

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/stemcell-io/stemcell/factory"
)

// runtimeClient is the HTTP client to a container's runtime (/init, /run).
type runtimeClient interface {
	Init(ctx context.Context, req factory.InitRequest) (factory.Outcome, error)
	Run(ctx context.Context, req factory.RunRequest) (factory.Outcome, error)
	Close()
}

// Container is one container made by the Factory.
type Container struct {
	f    *Factory
	id   string
	name string
	addr string

	mu             sync.Mutex
	client         runtimeClient
	maxConcurrency int // from /init, reused when the client is re-made
	paused         bool
	destroyed      bool

	logsMu   sync.Mutex
	tap      *logTap // nil: the engine's log is read
	logPos   logPosition
	logSizes logSizes
	// logTailMisses counts tail reads that did not reach the position and
	// were read again in full (tests look at it).
	logTailMisses int
}

var _ factory.Container = (*Container)(nil)

func newContainer(f *Factory, id, name, addr string, tap *logTap) *Container {
	return &Container{f: f, id: id, name: name, addr: addr, maxConcurrency: 1, tap: tap}
}

// ID is the engine's container id.
func (c *Container) ID() string { return c.id }

// Addr is the runtime's ip:8080 on the configured network.
func (c *Container) Addr() string { return c.addr }

// Name is the engine's container name.
func (c *Container) Name() string { return c.name }

// httpClient returns the runtime client, made on first use with the
// concurrency the action allows.
func (c *Container) httpClient(maxConcurrency int) runtimeClient {
	c.mu.Lock()
	defer c.mu.Unlock()
	if maxConcurrency > 0 && maxConcurrency != c.maxConcurrency && c.client != nil {
		c.client.Close()
		c.client = nil
	}
	if maxConcurrency > 0 {
		c.maxConcurrency = maxConcurrency
	}
	if c.client == nil {
		c.client = newRuntimeClient(c.addr, c.maxConcurrency, c.f.cfg.ContainerPool.AkkaClient)
	}
	return c.client
}

// Initialize sends /init. A connection failure becomes the developer error
// it stands for, or the out-of-memory error when the engine says the
// container was OOM-killed.
func (c *Container) Initialize(ctx context.Context, req factory.InitRequest) (factory.Outcome, error) {
	if c.tap != nil {
		c.tap.setConcurrency(req.MaxConcurrency)
	}
	start := time.Now()
	out, err := c.httpClient(req.MaxConcurrency).Init(ctx, req)
	return c.checkConnection("init", start, out, err)
}

// Run sends /run, with the same connection-failure handling as Initialize.
func (c *Container) Run(ctx context.Context, req factory.RunRequest) (factory.Outcome, error) {
	start := time.Now()
	out, err := c.httpClient(0).Run(ctx, req)
	return c.checkConnection("run", start, out, err)
}

func (c *Container) checkConnection(op string, start time.Time, out factory.Outcome, err error) (factory.Outcome, error) {
	if err == nil || !isConnectionError(err) {
		return out, err
	}
	oom := c.oomKilled()
	c.f.log.Debug().Str("container", c.name).Str("op", op).Bool("oom", oom).Err(err).Msg("connection to the runtime failed")
	return connectionOutcome(op, start, time.Now(), oom), nil
}

// oomKilled polls the engine's OOM flag for up to 2 s: the flag can lag
// behind the broken connection that made us ask.
func (c *Container) oomKilled() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	delay := 5 * time.Millisecond
	for {
		info, err := c.f.eng.Inspect(ctx, c.id)
		if err == nil {
			if info.OOMKilled {
				return true
			}
			if !info.Running && !info.Paused {
				// Exited and not for memory: the flag will not change.
				return false
			}
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
		delay = min(delay*2, 200*time.Millisecond)
	}
}

// Suspend closes idle connections (a paused runtime cannot answer them)
// and pauses the container.
func (c *Container) Suspend(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.destroyed {
		return fmt.Errorf("suspending container %s: already destroyed", c.name)
	}
	if c.client != nil {
		c.client.Close()
		c.client = nil
	}
	ctx, cancel := withTimeout(ctx, c.f.timeouts.Pause)
	defer cancel()
	if err := c.f.eng.Pause(ctx, c.id); err != nil {
		return fmt.Errorf("pausing container %s: %w", c.name, err)
	}
	c.paused = true
	return nil
}

// Resume unpauses the container; the next request opens fresh connections.
func (c *Container) Resume(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.destroyed {
		return fmt.Errorf("resuming container %s: already destroyed", c.name)
	}
	ctx, cancel := withTimeout(ctx, c.f.timeouts.Unpause)
	defer cancel()
	if err := c.f.eng.Unpause(ctx, c.id); err != nil {
		return fmt.Errorf("unpausing container %s: %w", c.name, err)
	}
	c.paused = false
	return nil
}

// Destroy force-removes the container, unpausing it first. A second call
// is a no-op.
func (c *Container) Destroy(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.destroyed {
		return nil
	}
	if c.client != nil {
		c.client.Close()
		c.client = nil
	}
	if c.paused {
		uctx, cancel := withTimeout(ctx, c.f.timeouts.Unpause)
		if err := c.f.eng.Unpause(uctx, c.id); err != nil {
			// The forced remove below kills a paused container too.
			c.f.log.Warn().Err(err).Str("container", c.name).Msg("unpause before remove failed")
		}
		cancel()
		c.paused = false
	}
	rctx, cancel := withTimeout(ctx, c.f.timeouts.Rm)
	defer cancel()
	if err := c.f.eng.Remove(rctx, c.id); err != nil {
		return fmt.Errorf("removing container %s: %w", c.name, err)
	}
	c.destroyed = true
	c.f.owned.remove(c.id)
	// The engine ends the attachment with the container; this waits for
	// the tap's reader (a Logs call in flight holds logsMu, and the tap).
	c.logsMu.Lock()
	if c.tap != nil {
		c.tap.close()
		c.tap = nil
	}
	c.logsMu.Unlock()
	return nil
}
