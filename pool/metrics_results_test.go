package pool

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/factory/fake"
)

// Results are counted by the container actor, where every result passes:
// those of Invoke and those of raw Run messages alike, each exactly once.
func TestResultsCountedForEveryCaller(t *testing.T) {
	// The activation's id says how its run ends.
	run := func(_ *fake.Container, req factory.RunRequest) factory.Outcome {
		st := factory.StatusSuccess
		switch {
		case strings.HasPrefix(req.ActivationID, "app"):
			st = factory.StatusApplicationError
		case strings.HasPrefix(req.ActivationID, "dev"):
			st = factory.StatusDeveloperError
		}
		return factory.Outcome{Status: st, Result: []byte(`{}`)}
	}
	reg := prometheus.NewRegistry()
	p, sys := startPool(t, Options{Config: steadyConfig(1024), Factory: fake.New(fake.Options{Run: run}),
		Registerer: reg, Name: "r"}, hooks{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	raw := func(a actors.Activation) actors.Result {
		t.Helper()
		res, err := sys.Root.RequestFuture(p.PID(), &actors.Run{Activation: a}, waitFor).Result()
		if err != nil {
			t.Fatalf("raw Run %s: %v", a.ID, err)
		}
		return res.(*actors.RunResult).Result
	}
	calls := []struct {
		id  string
		raw bool
	}{
		{"ok1", false}, {"ok2", true}, {"ok3", true}, {"app1", true}, {"app2", false}, {"dev1", true},
	}
	for _, c := range calls {
		a := act(c.id, "ns", "f", 128)
		a.Action.Code = "x"
		var r actors.Result
		var err error
		if c.raw {
			r = raw(a)
		} else if r, err = p.Invoke(ctx, a); err != nil {
			t.Fatal(err)
		}
		if r.ActivationID != c.id {
			t.Fatalf("answer for %s, want %s", r.ActivationID, c.id)
		}
	}
	// A result is counted before it is sent, so every one is counted by now.
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "stemcell_pool_results_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "status" {
					got[l.GetValue()] = m.GetCounter().GetValue()
				}
			}
		}
	}
	want := map[string]float64{"0": 3, "1": 2, "2": 1, "3": 0}
	for status, n := range want {
		if got[status] != n {
			t.Errorf("stemcell_pool_results_total{status=%q} = %v, want %v (all: %v)", status, got[status], n, got)
		}
	}
}
