package server

import (
	"testing"

	"github.com/stemcell-io/stemcell/config"
)

func TestPoolReportsPolicies(t *testing.T) {
	for _, tt := range []struct {
		name                string
		keepAlive, eviction string
		wantK, wantE        string
	}{
		{"default", "", "", config.PolicyOpenWhisk, config.PolicyOpenWhisk},
		{"hybrid-greedy-dual", config.PolicyHybridHistogram, config.PolicyGreedyDual, config.PolicyHybridHistogram, config.PolicyGreedyDual},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(cfg *config.Config, _ *config.ServerConfig) {
				if tt.keepAlive != "" {
					cfg.ContainerPool.KeepAlivePolicy, cfg.ContainerPool.EvictionPolicy = tt.keepAlive, tt.eviction
				}
			})
			r := h.do("GET", "/v1/pool", "", "")
			if r.status != 200 {
				t.Fatalf("/v1/pool: %d %s", r.status, r.body)
			}
			m := r.json(t)
			if m["keepAlivePolicy"] != tt.wantK || m["evictionPolicy"] != tt.wantE {
				t.Errorf("/v1/pool policies %v / %v, want %s / %s", m["keepAlivePolicy"], m["evictionPolicy"], tt.wantK, tt.wantE)
			}
		})
	}
}
