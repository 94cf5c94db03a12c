package policy

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stemcell-io/stemcell/config"
)

// The configuration's keys reach every knob.
func TestFromConfigMapsEveryKey(t *testing.T) {
	cfg := config.Default()
	g, h := &cfg.ContainerPool.GreedyDual, &cfg.ContainerPool.HybridHistogram
	g.DefaultCost, g.KeepAlive = 400*time.Millisecond, time.Hour
	h.BinWidth, h.Bins = time.Second, 60
	h.HeadPercentile, h.TailPercentile, h.Margin = 2, 98, 0.2
	h.CVThreshold, h.MinObservations, h.MaxOutOfBounds = 1.5, 4, 0.3
	h.FallbackKeepAlive, h.OutOfBoundsKeepAlive = 7*time.Minute, 8*time.Minute
	want := Options{
		PauseGrace: 10 * time.Second,
		OpenWhisk:  OpenWhiskOptions{IdleContainer: 10 * time.Minute},
		GreedyDual: GreedyDualOptions{DefaultCost: 400 * time.Millisecond, KeepAlive: time.Hour},
		Hybrid: HybridOptions{
			BinWidth: time.Second, Bins: 60, HeadPercentile: 2, TailPercentile: 98, Margin: 0.2,
			CVThreshold: 1.5, MinObservations: 4, MaxOutOfBounds: 0.3,
			FallbackKeepAlive: 7 * time.Minute, OutOfBoundsKeepAlive: 8 * time.Minute,
		},
	}
	if got := FromConfig(cfg); got != want {
		t.Fatalf("FromConfig = %+v\nwant %+v", got, want)
	}
}

// config validates the knobs itself (it cannot import this package); its
// rules must be exactly Options.Validate's, or the pool could fail to
// build a policy from a configuration that passed validation.
func TestConfigValidationAgreesWithOptions(t *testing.T) {
	type knob struct {
		key    string
		values []any
		set    func(c *config.Config, v any)
	}
	dur := func(f func(c *config.Config) *time.Duration) func(*config.Config, any) {
		return func(c *config.Config, v any) { *f(c) = v.(time.Duration) }
	}
	num := func(f func(c *config.Config) *float64) func(*config.Config, any) {
		return func(c *config.Config, v any) { *f(c) = v.(float64) }
	}
	integer := func(f func(c *config.Config) *int) func(*config.Config, any) {
		return func(c *config.Config, v any) { *f(c) = v.(int) }
	}
	durs := []any{-time.Second, time.Duration(0), time.Nanosecond, time.Hour}
	floats := []any{math.NaN(), math.Inf(1), -1.0, 0.0, 0.5, 1.0, 4.0, 5.0, 99.0, 100.0, 100.5}
	ints := []any{-1, 0, 1, 240}
	hh := func(c *config.Config) *config.HybridHistogramConfig { return &c.ContainerPool.HybridHistogram }
	knobs := []knob{
		{"greedy-dual.default-cost", durs, dur(func(c *config.Config) *time.Duration { return &c.ContainerPool.GreedyDual.DefaultCost })},
		{"greedy-dual.keep-alive", durs, dur(func(c *config.Config) *time.Duration { return &c.ContainerPool.GreedyDual.KeepAlive })},
		{"hybrid-histogram.bin-width", durs, dur(func(c *config.Config) *time.Duration { return &hh(c).BinWidth })},
		{"hybrid-histogram.bins", ints, integer(func(c *config.Config) *int { return &hh(c).Bins })},
		{"hybrid-histogram.head-percentile", floats, num(func(c *config.Config) *float64 { return &hh(c).HeadPercentile })},
		{"hybrid-histogram.tail-percentile", floats, num(func(c *config.Config) *float64 { return &hh(c).TailPercentile })},
		{"hybrid-histogram.margin", floats, num(func(c *config.Config) *float64 { return &hh(c).Margin })},
		{"hybrid-histogram.cv-threshold", floats, num(func(c *config.Config) *float64 { return &hh(c).CVThreshold })},
		{"hybrid-histogram.min-observations", ints, integer(func(c *config.Config) *int { return &hh(c).MinObservations })},
		{"hybrid-histogram.max-out-of-bounds", floats, num(func(c *config.Config) *float64 { return &hh(c).MaxOutOfBounds })},
		{"hybrid-histogram.fallback-keep-alive", durs, dur(func(c *config.Config) *time.Duration { return &hh(c).FallbackKeepAlive })},
		{"hybrid-histogram.out-of-bounds-keep-alive", durs, dur(func(c *config.Config) *time.Duration { return &hh(c).OutOfBoundsKeepAlive })},
	}
	for _, k := range knobs {
		for _, v := range k.values {
			cfg := config.Default()
			k.set(cfg, v)
			cfgErr := cfg.Validate()
			optErr := FromConfig(cfg).Validate()
			if (cfgErr == nil) != (optErr == nil) {
				t.Errorf("%s = %v: config says %v, policy says %v", k.key, v, cfgErr, optErr)
				continue
			}
			if cfgErr == nil {
				continue
			}
			// Same problems, same words: "policy: K: V is invalid: R: invalid
			// policy option" is "container-pool.K: V is invalid: R".
			var fromPolicy []string
			for _, line := range strings.Split(optErr.Error(), "\n") {
				line = strings.TrimSuffix(strings.TrimPrefix(line, "policy: "), ": "+ErrInvalid.Error())
				fromPolicy = append(fromPolicy, "container-pool."+line)
			}
			if got, want := cfgErr.Error(), strings.Join(fromPolicy, "\n"); got != want {
				t.Errorf("%s = %v: config says\n%s\npolicy says\n%s", k.key, v, got, want)
			}
			if !errors.Is(optErr, ErrInvalid) || !errors.Is(cfgErr, config.ErrInvalid) {
				t.Errorf("%s = %v: errors do not wrap ErrInvalid: %v / %v", k.key, v, cfgErr, optErr)
			}
		}
	}
}

// Every pairing the configuration accepts builds, and the names agree.
func TestFromPoolConfigPairings(t *testing.T) {
	if !slices.Equal(sorted(config.KeepAlivePolicies), KeepAliveNames()) || !slices.Equal(sorted(config.EvictionPolicies), EvictionNames()) {
		t.Fatalf("config names %v / %v, policy names %v / %v", config.KeepAlivePolicies, config.EvictionPolicies, KeepAliveNames(), EvictionNames())
	}
	for _, ka := range config.KeepAlivePolicies {
		for _, ev := range config.EvictionPolicies {
			cfg := config.Default()
			cfg.ContainerPool.KeepAlivePolicy, cfg.ContainerPool.EvictionPolicy = ka, ev
			p, err := FromPoolConfig(cfg)
			if err != nil {
				t.Fatalf("%s + %s: %v", ka, ev, err)
			}
			if p.KeepAlive.Name() != ka || p.Eviction.Name() != ev {
				t.Errorf("%s + %s built %s + %s", ka, ev, p.KeepAlive.Name(), p.Eviction.Name())
			}
		}
	}
	p, err := FromPoolConfig(nil)
	if err != nil || p.KeepAlive.Name() != OpenWhisk || p.Eviction.Name() != OpenWhisk {
		t.Fatalf("default: %v %v", p, err)
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
