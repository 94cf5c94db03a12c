package fake

import (
	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
)

// ProviderName is the fake's key for container-factory.provider.
const ProviderName = "fake"

func init() {
	factory.Register(ProviderName, func(*config.Config, zerolog.Logger) (factory.ContainerFactory, error) {
		return New(Options{}), nil
	})
}
