package pool

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/stemcell-io/stemcell/actors"
)

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	clock := actors.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	p, _ := startPool(t, Options{Config: testConfig(512), Clock: clock, Registerer: reg, Name: "m"},
		hooks{container: minimalContainer})
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	for _, id := range []string{"a", "b"} {
		if _, err := p.Invoke(ctx, act(id, "ns", "f", 128)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.Invoke(ctx, act("huge", "ns", "g", 1024)); err == nil {
		t.Fatal("an action larger than the pool was accepted")
	}
	if _, err := p.Snapshot(ctx); err != nil { // JobDone handled before the tick
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	if _, err := p.Snapshot(ctx); err != nil { // the tick handled
		t.Fatal(err)
	}

	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	value := func(name string, labels map[string]string) float64 {
		for _, f := range families {
			if f.GetName() != name {
				continue
			}
			for _, m := range f.GetMetric() {
				if matches(m, labels) {
					switch {
					case m.Counter != nil:
						return m.GetCounter().GetValue()
					case m.Gauge != nil:
						return m.GetGauge().GetValue()
					case m.Histogram != nil:
						return float64(m.GetHistogram().GetSampleCount())
					}
				}
			}
		}
		t.Fatalf("metric %s%v not found", name, labels)
		return 0
	}
	tests := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"stemcell_pool_activations_started_total", map[string]string{"start": "cold", "pool": "m"}, 1},
		{"stemcell_pool_activations_started_total", map[string]string{"start": "warm"}, 1},
		{"stemcell_pool_warm_placements_total", map[string]string{"state": "warmed"}, 1}, // JobDone means init is done
		{"stemcell_pool_activations_rejected_total", map[string]string{"reason": "too_large"}, 1},
		{"stemcell_pool_results_total", map[string]string{"status": "0"}, 2},
		{"stemcell_pool_wait_seconds", nil, 2},
		{"stemcell_pool_memory_bytes", map[string]string{"state": "idle"}, float64(128 * mb)},
		{"stemcell_pool_memory_bytes", map[string]string{"state": "free"}, float64(384 * mb)},
		{"stemcell_pool_containers", map[string]string{"state": "idle"}, 1},
		{"stemcell_pool_buffer_activations", nil, 0},
	}
	for _, tc := range tests {
		if got := value(tc.name, tc.labels); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
}

func matches(m *dto.Metric, labels map[string]string) bool {
	for k, v := range labels {
		found := false
		for _, l := range m.GetLabel() {
			if l.GetName() == k && l.GetValue() == v {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}
