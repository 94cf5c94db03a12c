package factory

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/config"
)

// stubFactory is a ContainerFactory that only carries its provider's name.
type stubFactory struct{ name string }

func (stubFactory) CreateContainer(context.Context, ContainerSpec) (Container, error) {
	return nil, errors.New("stub")
}
func (stubFactory) Init(context.Context) error    { return nil }
func (stubFactory) Cleanup(context.Context) error { return nil }

// withProviders runs the test against a private registry and restores the
// real one afterwards, so tests neither see nor leave registrations.
func withProviders(t *testing.T) {
	t.Helper()
	providersMu.Lock()
	saved := providers
	providers = map[string]Provider{}
	providersMu.Unlock()
	t.Cleanup(func() {
		providersMu.Lock()
		providers = saved
		providersMu.Unlock()
	})
}

func named(name string) Provider {
	return func(*config.Config, zerolog.Logger) (ContainerFactory, error) {
		return stubFactory{name: name}, nil
	}
}

func TestNewPicksProvider(t *testing.T) {
	withProviders(t)
	Register("docker", named("docker"))
	Register("fake", named("fake"))
	Register("broken", func(*config.Config, zerolog.Logger) (ContainerFactory, error) {
		return nil, errors.New("engine unreachable")
	})

	tests := []struct {
		name     string
		provider string
		want     string
		wantErr  []string
	}{
		{name: "empty means docker", provider: "", want: "docker"},
		{name: "docker", provider: "docker", want: "docker"},
		{name: "fake", provider: "fake", want: "fake"},
		{name: "unknown", provider: "kubernetes", wantErr: []string{"container-factory.provider", `"kubernetes"`, "broken, docker, fake"}},
		{name: "provider fails", provider: "broken", wantErr: []string{"container-factory.provider", `"broken"`, "engine unreachable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &config.Config{}
			cfg.ContainerFactory.Provider = tt.provider
			f, err := New(cfg, zerolog.Nop())
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("New(%q) = %v, want an error", tt.provider, f)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("New(%q) error %q does not mention %q", tt.provider, err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("New(%q): %v", tt.provider, err)
			}
			if got := f.(stubFactory).name; got != tt.want {
				t.Errorf("New(%q) built provider %q, want %q", tt.provider, got, tt.want)
			}
		})
	}
}

func TestNewWithoutProviders(t *testing.T) {
	withProviders(t)
	_, err := New(&config.Config{}, zerolog.Nop())
	if err == nil || !strings.Contains(err.Error(), "(none)") {
		t.Fatalf("New with no providers: %v, want an error listing none", err)
	}
	if _, err := New(nil, zerolog.Nop()); err == nil {
		t.Fatal("New(nil) succeeded")
	}
}

func TestRegisterPanics(t *testing.T) {
	withProviders(t)
	Register("once", named("once"))
	tests := []struct {
		name string
		call func()
	}{
		{"duplicate", func() { Register("once", named("again")) }},
		{"empty name", func() { Register("", named("x")) }},
		{"nil provider", func() { Register("nil", nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("Register %s did not panic", tt.name)
				}
			}()
			tt.call()
		})
	}
}

func TestRegistryConcurrent(t *testing.T) {
	withProviders(t)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			Register(fmt.Sprintf("p%d", i), named(fmt.Sprintf("p%d", i)))
		}()
		go func() {
			defer wg.Done()
			cfg := &config.Config{}
			cfg.ContainerFactory.Provider = "p0"
			_, _ = New(cfg, zerolog.Nop())
			_ = Providers()
		}()
	}
	wg.Wait()
	if got := len(Providers()); got != 16 {
		t.Fatalf("after 16 concurrent registrations, %d providers", got)
	}
}
