package sim

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/bench/workload"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory/fake"
)

// engineLatencies are fixed latencies close to the Docker Engine's.
var engineLatencies = fake.Latencies{
	Create: fake.Latency{Fixed: 200 * time.Millisecond}, Init: fake.Latency{Fixed: 5 * time.Millisecond},
	Run: fake.Latency{Fixed: time.Millisecond}, Suspend: fake.Latency{Fixed: 10 * time.Millisecond},
	Resume: fake.Latency{Fixed: 10 * time.Millisecond}, Destroy: fake.Latency{Fixed: 100 * time.Millisecond},
}

func testConfig(t *testing.T, userMemory config.ByteSize) *config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.ContainerPool.UserMemory = userMemory
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// withoutStemCells removes every stem cell from cfg's manifest: no
// prewarm stock.
func withoutStemCells(cfg *config.Config) {
	m := cfg.RuntimesManifest.Manifest
	runtimes := make(map[string][]config.RuntimeKind, len(m.Runtimes))
	for fam, kinds := range m.Runtimes {
		cp := append([]config.RuntimeKind(nil), kinds...)
		for i := range cp {
			cp[i].StemCells = nil
		}
		runtimes[fam] = cp
	}
	m.Runtimes = runtimes
	cfg.RuntimesManifest.Manifest = m
}

// simulate runs spec in a bubble of its own.
func simulate(t *testing.T, spec Spec) Result {
	t.Helper()
	var res Result
	synctest.Test(t, func(t *testing.T) {
		var err error
		if res, err = Run(spec); err != nil {
			t.Fatal(err)
		}
	})
	return res
}

// fixedArrivals replays a list.
func fixedArrivals(as []workload.Arrival) func() (workload.Arrival, bool) {
	i := 0
	return func() (workload.Arrival, bool) {
		if i == len(as) {
			return workload.Arrival{}, false
		}
		i++
		return as[i-1], true
	}
}

// TestColdThenWarmThenColdAgain checks the figures against a run worked by
// hand: one 256 MB action with 1 s of initialisation, called at 0 s, 5 s
// (warm: before the 10 s pause grace), 20 s (warm: paused, resumed) and
// 20 min (the container was removed 10 min after its pause: a new one).
func TestColdThenWarmThenColdAgain(t *testing.T) {
	exec := 100 * time.Millisecond
	arrivals := []workload.Arrival{
		{At: 0, Exec: exec}, {At: 5 * time.Second, Exec: exec},
		{At: 20 * time.Second, Exec: exec}, {At: 20 * time.Minute, Exec: exec},
	}
	cfg := testConfig(t, 4*config.GB)
	withoutStemCells(cfg)
	res := simulate(t, Spec{
		Config: cfg, Functions: []workload.Function{{Name: "f", MemoryMB: 256}},
		Next: fixedArrivals(arrivals), Horizon: 30 * time.Minute, Kind: "nodejs:default",
		Engine: engineLatencies, InitCost: func(int) time.Duration { return time.Second }, Log: zerolog.Nop(),
	})
	if res.Activations != 4 || res.Errors != 0 {
		t.Fatalf("activations %d, errors %d; want 4 and 0", res.Activations, res.Errors)
	}
	cold := res.Starts["cold"] + res.Starts["recreated"]
	if cold != 2 || res.Starts["warm"] != 2 {
		t.Fatalf("starts %v: want 2 cold (or recreated) and 2 warm", res.Starts)
	}
	if res.ColdPercent != 50 || res.ColdPercentP75Action != 50 {
		t.Fatalf("cold %% %.1f, p75 action %.1f; want 50 and 50", res.ColdPercent, res.ColdPercentP75Action)
	}
	// A cold start costs creation (200 ms) + engine init (5 ms) + the
	// action's init (1 s) + run overhead (1 ms): 1306 ms in all; a warm one
	// 1 ms (101 ms), plus 10 ms of resume for the paused one (111 ms),
	// which counts as queueing. The median by nearest rank is the second
	// of the four: 111 ms.
	p50 := exec + 11*time.Millisecond
	if got := time.Duration(res.LatencyP50MS * float64(time.Millisecond)); got < p50 || got > p50*103/100 {
		t.Errorf("latency p50 %v, want %v within the histogram's 2 %%", got, p50)
	}
	wantAdded := 100 * float64(2*(1206*time.Millisecond)+2*time.Millisecond) / float64(4*exec)
	if d := res.AddedExecPercent - wantAdded; d > 1 || d < -1 {
		t.Errorf("added execution time %.1f %%, want %.1f %%", res.AddedExecPercent, wantAdded)
	}
	if res.Creations != 2 || res.ScaleOutPercent != 0 {
		t.Errorf("%d creations, %.0f%% scale-out; want 2 and none: the second was made after the first was removed", res.Creations, res.ScaleOutPercent)
	}
	if res.SimulatedS != 1800 {
		t.Errorf("simulated %.1f s, want 1800", res.SimulatedS)
	}
}

// differences names the fields of a and b that differ, with both values.
func differences(a, b Result) []string {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	var out []string
	for i := range va.NumField() {
		x, y := va.Field(i).Interface(), vb.Field(i).Interface()
		if !reflect.DeepEqual(x, y) {
			out = append(out, fmt.Sprintf("%s: %v against %v", va.Type().Field(i).Name, x, y))
		}
	}
	return out
}

// TestWarmupLeavesThePrefixOut replays the hand-worked run with a warm-up
// of 10 s: the two activations after it count (warm at 20 s, cold again at
// 20 min), one creation, and 1790 s of memory time.
func TestWarmupLeavesThePrefixOut(t *testing.T) {
	exec := 100 * time.Millisecond
	arrivals := []workload.Arrival{
		{At: 0, Exec: exec}, {At: 5 * time.Second, Exec: exec},
		{At: 20 * time.Second, Exec: exec}, {At: 20 * time.Minute, Exec: exec},
	}
	cfg := testConfig(t, 4*config.GB)
	withoutStemCells(cfg)
	spec := Spec{
		Config: cfg, Functions: []workload.Function{{Name: "f", MemoryMB: 256}},
		Horizon: 30 * time.Minute, Kind: "nodejs:default",
		Engine: engineLatencies, InitCost: func(int) time.Duration { return time.Second }, Log: zerolog.Nop(),
	}
	spec.Next = fixedArrivals(arrivals)
	whole := simulate(t, spec)
	spec.Next, spec.Warmup = fixedArrivals(arrivals), 10*time.Second
	res := simulate(t, spec)
	if res.Activations != 2 || res.Starts["warm"] != 1 || res.ColdPercent != 50 || res.Creations != 1 {
		t.Fatalf("after the warm-up: %d activations, starts %v, %.0f%% cold, %d creations; want 2, one warm, 50 and 1",
			res.Activations, res.Starts, res.ColdPercent, res.Creations)
	}
	if res.SimulatedS != 1790 {
		t.Errorf("simulated %.1f s after the warm-up, want 1790", res.SimulatedS)
	}
	// In the warm-up's 10 s the container is idle (loaded, not working) for
	// all but its creation, initialisation and two runs: about 8.6 s of
	// 256 MB less waste than in the whole run.
	left := (whole.WastedGBs - res.WastedGBs) * 1024 / 256
	if left < 8 || left > 9 {
		t.Errorf("the warm-up took %.2f s of one 256 MB container's waste out, want about 8.6", left)
	}
}

// TestScaleOutCreation: two calls 10 ms apart of an action that runs 1 s
// need two containers; the second is a scale-out creation.
func TestScaleOutCreation(t *testing.T) {
	cfg := testConfig(t, 4*config.GB)
	withoutStemCells(cfg)
	res := simulate(t, Spec{
		Config: cfg, Functions: []workload.Function{{Name: "f", MemoryMB: 256}},
		Next:    fixedArrivals([]workload.Arrival{{At: 0, Exec: time.Second}, {At: 10 * time.Millisecond, Exec: time.Second}}),
		Horizon: time.Minute, Kind: "nodejs:default", Engine: engineLatencies, Log: zerolog.Nop(),
	})
	if res.Creations != 2 || res.ScaleOutPercent != 50 || res.ColdPercent != 100 {
		t.Fatalf("%d creations, %.0f%% scale-out, %.0f%% cold; want 2, 50 and 100", res.Creations, res.ScaleOutPercent, res.ColdPercent)
	}
}

// TestSameSeedSameFigures runs a small Azure-shaped workload twice under
// each policy, with memory short enough to evict: the figures must be
// equal, to the last digit.
func TestSameSeedSameFigures(t *testing.T) {
	az := workload.DefaultAzure()
	az.Seed, az.Functions, az.Rate, az.Duration = 7, 40, 2, 20*time.Minute
	for _, pol := range []struct{ keepAlive, eviction string }{
		{"openwhisk", "openwhisk"}, {"greedy-dual", "greedy-dual"}, {"hybrid-histogram", "openwhisk"},
	} {
		t.Run(pol.keepAlive, func(t *testing.T) {
			cfg := testConfig(t, 2*config.GB)
			cfg.ContainerPool.KeepAlivePolicy, cfg.ContainerPool.EvictionPolicy = pol.keepAlive, pol.eviction
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			run := func() Result {
				st, err := workload.NewAzureStream(az)
				if err != nil {
					t.Fatal(err)
				}
				return simulate(t, Spec{
					Config: cfg, Functions: st.Functions, Next: st.Next, Horizon: az.Duration,
					Kind: "nodejs:default", Engine: engineLatencies,
					InitCost: func(i int) time.Duration { return time.Duration(100+i*37%900) * time.Millisecond }, Log: zerolog.Nop(),
				})
			}
			a, b := run(), run()
			if d := differences(a, b); len(d) > 0 {
				t.Fatalf("the same seed gave different figures: %s", strings.Join(d, "; "))
			}
			if a.Activations < 1000 || a.Starts["warm"] == 0 || a.ColdPercent == 0 || a.WastedGBs <= 0 || a.Evictions == 0 {
				t.Fatalf("the run is too small to say anything: %+v", a)
			}
		})
	}
}
