package factory

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/config"
)

// DefaultProvider is the provider used when container-factory.provider is
// empty.
const DefaultProvider = "docker"

// Provider builds a ContainerFactory from the configuration. Implementations
// register one under a name, usually from an init function, so that a binary
// chooses its factory by configuration alone (OpenWhisk's SPI).
type Provider func(cfg *config.Config, log zerolog.Logger) (ContainerFactory, error)

var (
	providersMu sync.RWMutex
	providers   = map[string]Provider{}
)

// Register makes a provider available under name. Like database/sql, it
// panics on an empty name, a nil provider or a name registered twice: all
// three are programming errors found at startup, not run-time conditions.
func Register(name string, p Provider) {
	if name == "" {
		panic("factory: Register with an empty provider name")
	}
	if p == nil {
		panic(fmt.Sprintf("factory: Register provider %q is nil", name))
	}
	providersMu.Lock()
	defer providersMu.Unlock()
	if _, dup := providers[name]; dup {
		panic(fmt.Sprintf("factory: Register called twice for provider %q", name))
	}
	providers[name] = p
}

// Providers returns the registered provider names, sorted.
func Providers() []string {
	providersMu.RLock()
	defer providersMu.RUnlock()
	names := make([]string, 0, len(providers))
	for n := range providers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// New builds the factory chosen by cfg.ContainerFactory.Provider (default
// "docker").
func New(cfg *config.Config, log zerolog.Logger) (ContainerFactory, error) {
	if cfg == nil {
		return nil, fmt.Errorf("factory.New: configuration is nil")
	}
	name := cfg.ContainerFactory.Provider
	if name == "" {
		name = DefaultProvider
	}
	providersMu.RLock()
	p, ok := providers[name]
	providersMu.RUnlock()
	if !ok {
		known := Providers()
		list := "none"
		if len(known) > 0 {
			list = strings.Join(known, ", ")
		}
		return nil, fmt.Errorf("container-factory.provider: %q is unknown: must be one of the registered providers (%s)", name, list)
	}
	f, err := p(cfg, log)
	if err != nil {
		return nil, fmt.Errorf("container-factory.provider %q: %w", name, err)
	}
	return f, nil
}
