package config

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestValidatePolicyKeys(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(p *ContainerPoolConfig)
		key    string // the key the single error must name
		want   string // a part of its message
	}{
		{"keep-alive unknown", func(p *ContainerPoolConfig) { p.KeepAlivePolicy = "lru" }, "container-pool.keep-alive-policy", `"lru" is invalid: must be one of openwhisk, greedy-dual, hybrid-histogram`},
		{"keep-alive empty", func(p *ContainerPoolConfig) { p.KeepAlivePolicy = "" }, "container-pool.keep-alive-policy", `"" is invalid: must be one of`},
		{"eviction hybrid", func(p *ContainerPoolConfig) { p.EvictionPolicy = PolicyHybridHistogram }, "container-pool.eviction-policy", `"hybrid-histogram" is invalid: must be one of openwhisk, greedy-dual`},
		{"default cost zero", func(p *ContainerPoolConfig) { p.GreedyDual.DefaultCost = 0 }, "container-pool.greedy-dual.default-cost", "0s is invalid: must be > 0"},
		{"greedy keep-alive negative", func(p *ContainerPoolConfig) { p.GreedyDual.KeepAlive = -time.Second }, "container-pool.greedy-dual.keep-alive", "-1s is invalid: must be >= 0"},
		{"bin width zero", func(p *ContainerPoolConfig) { p.HybridHistogram.BinWidth = 0 }, "container-pool.hybrid-histogram.bin-width", "must be > 0"},
		{"bins zero", func(p *ContainerPoolConfig) { p.HybridHistogram.Bins = 0 }, "container-pool.hybrid-histogram.bins", "0 is invalid: must be >= 1"},
		{"head zero", func(p *ContainerPoolConfig) { p.HybridHistogram.HeadPercentile = 0 }, "container-pool.hybrid-histogram.head-percentile", "must be in (0, 100)"},
		{"head NaN", func(p *ContainerPoolConfig) { p.HybridHistogram.HeadPercentile = math.NaN() }, "container-pool.hybrid-histogram.head-percentile", "must be in (0, 100)"},
		{"tail below head", func(p *ContainerPoolConfig) { p.HybridHistogram.TailPercentile = 4 }, "container-pool.hybrid-histogram.tail-percentile", "4 is invalid: must be in (head-percentile 5, 100]"},
		{"tail above 100", func(p *ContainerPoolConfig) { p.HybridHistogram.TailPercentile = 100.5 }, "container-pool.hybrid-histogram.tail-percentile", "must be in (head-percentile 5, 100]"},
		{"margin 1", func(p *ContainerPoolConfig) { p.HybridHistogram.Margin = 1 }, "container-pool.hybrid-histogram.margin", "1 is invalid: must be in [0, 1)"},
		{"cv negative", func(p *ContainerPoolConfig) { p.HybridHistogram.CVThreshold = -0.1 }, "container-pool.hybrid-histogram.cv-threshold", "must be a finite number >= 0"},
		{"cv infinite", func(p *ContainerPoolConfig) { p.HybridHistogram.CVThreshold = math.Inf(1) }, "container-pool.hybrid-histogram.cv-threshold", "must be a finite number >= 0"},
		{"min observations zero", func(p *ContainerPoolConfig) { p.HybridHistogram.MinObservations = 0 }, "container-pool.hybrid-histogram.min-observations", "must be >= 1"},
		{"out of bounds share zero", func(p *ContainerPoolConfig) { p.HybridHistogram.MaxOutOfBounds = 0 }, "container-pool.hybrid-histogram.max-out-of-bounds", "must be in (0, 1]"},
		{"fallback zero", func(p *ContainerPoolConfig) { p.HybridHistogram.FallbackKeepAlive = 0 }, "container-pool.hybrid-histogram.fallback-keep-alive", "must be > 0"},
		{"out of bounds keep-alive negative", func(p *ContainerPoolConfig) { p.HybridHistogram.OutOfBoundsKeepAlive = -time.Minute }, "container-pool.hybrid-histogram.out-of-bounds-keep-alive", "-1m is invalid: must be > 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.mutate(&c.ContainerPool)
			errs := keyErrors(t, c.Validate())
			if len(errs) != 1 {
				t.Fatalf("got %d problems %v, want one naming %s", len(errs), errs, tt.key)
			}
			if errs[0].Key != tt.key || !strings.Contains(errs[0].Error(), tt.want) {
				t.Fatalf("got %q, want key %s and %q", errs[0], tt.key, tt.want)
			}
		})
	}
}

// A knob of a policy that is not chosen is checked all the same: switching
// policies later must not uncover a bad value.
func TestValidatePolicyKnobsOfUnusedPolicy(t *testing.T) {
	c := Default()
	c.ContainerPool.HybridHistogram.Bins = -1
	errs := keyErrors(t, c.Validate())
	if len(errs) != 1 || errs[0].Key != "container-pool.hybrid-histogram.bins" {
		t.Fatalf("got %v, want one problem naming container-pool.hybrid-histogram.bins", errs)
	}
}

func TestValidatePolicyPairings(t *testing.T) {
	for _, ka := range KeepAlivePolicies {
		for _, ev := range EvictionPolicies {
			c := Default()
			c.ContainerPool.KeepAlivePolicy, c.ContainerPool.EvictionPolicy = ka, ev
			if err := c.Validate(); err != nil {
				t.Errorf("keep-alive %s with eviction %s: %v", ka, ev, err)
			}
		}
	}
}

// The keys load from YAML like every other.
func TestLoadPolicyKeys(t *testing.T) {
	yaml := `container-pool:
  keep-alive-policy: hybrid-histogram
  eviction-policy: greedy-dual
  greedy-dual:
    default-cost: 400ms
  hybrid-histogram:
    bin-width: 1s
    bins: 60
    margin: 0.2
`
	c, err := Load(LoadOptions{File: writeFile(t, "policies.yaml", yaml), Env: []string{
		"STEMCELL_CONTAINER_POOL__HYBRID_HISTOGRAM__HEAD_PERCENTILE=2.5",
	}})
	if err != nil {
		t.Fatal(err)
	}
	p := c.ContainerPool
	if p.KeepAlivePolicy != PolicyHybridHistogram || p.EvictionPolicy != PolicyGreedyDual ||
		p.GreedyDual.DefaultCost != 400*time.Millisecond || p.HybridHistogram.BinWidth != time.Second ||
		p.HybridHistogram.Bins != 60 || p.HybridHistogram.Margin != 0.2 || p.HybridHistogram.TailPercentile != 99 ||
		p.HybridHistogram.HeadPercentile != 2.5 {
		t.Fatalf("loaded %+v", p)
	}
	if r := p.HybridHistogram.Range(); r != time.Minute {
		t.Fatalf("range %v, want 1m", r)
	}
}
