package prewarm

import (
	"context"
	"math/rand"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
)

// Options configure the prewarm scheduler.
type Options struct {
	// Config supplies container-pool (expiry checks, retry limit, creation
	// throttle), container-proxy.action-health-check, the runtimes
	// manifest's stem cells and the invoker name.
	Config *config.Config
	// Pool receives reservations and stem cells; nil means the parent.
	Pool *actor.PID
	// Factory answers *actors.CreateContainer with *actors.ContainerCreated.
	Factory *actor.PID
	// Clock drives every timer; nil means actors.RealClock{}.
	Clock actors.Clock
	// Rand draws the check jitter; nil means seeded from the time.
	Rand *rand.Rand
	Log  zerolog.Logger
	// Registerer receives the metrics; nil means a private registry.
	Registerer prometheus.Registerer
	// Dial is the TCP health check; nil means a net.Dialer connect.
	Dial func(ctx context.Context, addr string) error
}

// Props returns the props of a prewarm scheduler. Metrics are registered
// here, once, so that a restarted actor keeps its series.
func Props(opts Options) *actor.Props {
	if opts.Clock == nil {
		opts.Clock = actors.RealClock{}
	}
	if opts.Rand == nil {
		opts.Rand = rand.New(rand.NewSource(time.Now().UnixNano()))
	}
	if opts.Dial == nil {
		opts.Dial = netDial
	}
	opts.Log = opts.Log.With().Str("component", "prewarm").Logger()
	m := newMetrics(opts.Registerer)
	return actor.PropsFromProducer(func() actor.Actor { return newScheduler(opts, m) })
}
