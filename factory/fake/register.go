package fake

import (
	"time"

	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
)

// ProviderName is the fake's key for container-factory.provider.
const ProviderName = "fake"

func init() {
	factory.Register(ProviderName, func(cfg *config.Config, _ zerolog.Logger) (factory.ContainerFactory, error) {
		return New(Options{Latency: latenciesOf(cfg.ContainerFactory.Fake)}), nil
	})
}

// latenciesOf turns container-factory.fake into the fake's latencies.
func latenciesOf(c config.FakeFactoryConfig) Latencies {
	l := func(d time.Duration) Latency { return Latency{Fixed: d, Jitter: c.Jitter} }
	return Latencies{Create: l(c.Create), Init: l(c.Init), Run: l(c.Run)}
}
