package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/stemcell-io/stemcell/bench/sim"
	"github.com/stemcell-io/stemcell/bench/workload"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory/fake"
)

// sweepCell is one simulated run of a sweep: a policy at a budget on one
// seed's arrivals. It is everything the simulating process needs.
type sweepCell struct {
	Policy     string          `json:"policy"`
	Settings   []setting       `json:"settings"` // the sweep's base settings, then the policy's
	Budget     config.ByteSize `json:"budget"`
	BudgetPct  float64         `json:"budget_pct"` // of the footprint, when given so
	Seed       int64           `json:"seed"`
	Azure      workload.Azure  `json:"azure"` // Seed is the cell's
	Kind       string          `json:"kind"`
	ConfigFile string          `json:"config_file,omitempty"`
	Engine     simEngine       `json:"engine"`
	Warmup     time.Duration   `json:"warmup_ns"`
}

// label names the cell in files and messages.
func (c sweepCell) label() string {
	return fmt.Sprintf("%s-%s-seed%d", c.Policy, c.Budget, c.Seed)
}

// simEngine is the simulated engine: fixed latencies of its operations and
// the log-normal spread of the actions' own initialisation times.
type simEngine struct {
	Create, Init, Run, Suspend, Resume, Destroy time.Duration
	// InitMedian and InitSigma draw each function's own /init time
	// (log-normal, clamped to [InitMin, InitMax]) from the seed: what a
	// cold start costs beyond the engine's work, different per action as
	// Greedy-Dual's cost term needs.
	InitMedian, InitMin, InitMax time.Duration
	InitSigma                    float64
}

func (e simEngine) latencies() fake.Latencies {
	l := func(d time.Duration) fake.Latency { return fake.Latency{Fixed: d} }
	return fake.Latencies{Create: l(e.Create), Init: l(e.Init), Run: l(e.Run),
		Suspend: l(e.Suspend), Resume: l(e.Resume), Destroy: l(e.Destroy)}
}

// initCosts draws every function's own initialisation time from seed, on a
// source of its own so the arrivals stay those of the plain workload.
func (e simEngine) initCosts(seed int64, n int) []time.Duration {
	r := rand.New(rand.NewPCG(uint64(seed), 0x696e_6974))
	out := make([]time.Duration, n)
	for i := range out {
		d := time.Duration(float64(e.InitMedian) * math.Exp(e.InitSigma*r.NormFloat64()))
		out[i] = max(e.InitMin, min(d, e.InitMax))
	}
	return out
}

// cellSpec turns a cell into the simulation's input: the configuration
// with the budget and the policy, the seed's arrivals as a stream.
func cellSpec(c sweepCell) (sim.Spec, error) {
	az := c.Azure
	az.Seed = c.Seed
	st, err := workload.NewAzureStream(az)
	if err != nil {
		return sim.Spec{}, err
	}
	settings := append(append([]setting(nil), c.Settings...), setting{Key: "user-memory", Value: c.Budget.String()})
	cfg, _, err := buildConfig(c.ConfigFile, settings, c.Kind, &workload.Workload{Functions: st.Functions})
	if err != nil {
		return sim.Spec{}, fmt.Errorf("%s: %w", c.label(), err)
	}
	costs := c.Engine.initCosts(c.Seed, len(st.Functions))
	return sim.Spec{
		Config: cfg, Functions: st.Functions, Next: st.Next, Horizon: az.Duration, Warmup: c.Warmup, Kind: c.Kind,
		Engine: c.Engine.latencies(), InitCost: func(i int) time.Duration { return costs[i] },
	}, nil
}

// cellRunner simulates cells; the sweep command runs each in a test binary
// (a synctest bubble needs a *testing.T), its tests in their own bubbles.
type cellRunner func(ctx context.Context, c sweepCell) (sim.Result, error)

// cellEnv names the file of the cell a test binary is to simulate; the
// result goes to the same path with ".result" appended.
const cellEnv = "STEMCELL_SWEEP_CELL"

// binaryRunner runs each cell as `BINARY -test.run ^TestSweepCell$` with the
// cell in a file under dir.
func binaryRunner(binary, dir string) cellRunner {
	return func(ctx context.Context, c sweepCell) (sim.Result, error) {
		path := filepath.Join(dir, c.label()+".json")
		b, err := json.Marshal(c)
		if err != nil {
			return sim.Result{}, err
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return sim.Result{}, err
		}
		cmd := exec.CommandContext(ctx, binary, "-test.run", "^TestSweepCell$", "-test.count", "1", "-test.timeout", "0")
		cmd.Env = append(os.Environ(), cellEnv+"="+path)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return sim.Result{}, fmt.Errorf("simulating %s: %w\n%s", c.label(), err, out.String())
		}
		rb, err := os.ReadFile(path + ".result")
		if err != nil {
			return sim.Result{}, fmt.Errorf("simulating %s: no result: %w\n%s", c.label(), err, out.String())
		}
		var res sim.Result
		if err := json.Unmarshal(rb, &res); err != nil {
			return sim.Result{}, fmt.Errorf("simulating %s: reading its result: %w", c.label(), err)
		}
		return res, nil
	}
}

// buildSimBinary compiles the bench's test binary, which holds
// TestSweepCell, into dir.
func buildSimBinary(ctx context.Context, dir string) (string, error) {
	out := filepath.Join(dir, "bench-sim.test")
	cmd := exec.CommandContext(ctx, "go", "test", "-c", "-o", out, "github.com/stemcell-io/stemcell/bench")
	var msg bytes.Buffer
	cmd.Stdout, cmd.Stderr = &msg, &msg
	if err := cmd.Run(); err != nil {
		return "", errors.Join(fmt.Errorf("building the simulation binary (go test -c ./bench, run from the module): %w", err),
			errors.New(msg.String()))
	}
	return out, nil
}
