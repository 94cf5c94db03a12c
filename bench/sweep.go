package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/stemcell-io/stemcell/bench/sim"
	"github.com/stemcell-io/stemcell/bench/workload"
	"github.com/stemcell-io/stemcell/config"
)

// sweepOptions are the flags of `bench sweep`.
type sweepOptions struct {
	Workload   workloadFlags
	Seeds      string
	Policies   string
	Custom     []string
	Budgets    string
	Set        []string
	ConfigFile string
	Kind       string
	Engine     simEngine
	Warmup     time.Duration
	Parallel   int
	Out        string
	Binary     string
	args       []string
}

// policyPresets are the policies by name: the configuration settings that
// choose them (issue 16's keys).
var policyPresets = map[string][]setting{
	"openwhisk":          policySettings("openwhisk", "openwhisk"),
	"greedy-dual":        policySettings("greedy-dual", "greedy-dual"),
	"hybrid-histogram":   policySettings("hybrid-histogram", "openwhisk"),
	"hybrid-greedy-dual": policySettings("hybrid-histogram", "greedy-dual"),
}

func policySettings(keepAlive, eviction string) []setting {
	return []setting{{Key: "container-pool.keep-alive-policy", Value: keepAlive}, {Key: "container-pool.eviction-policy", Value: eviction}}
}

// newCellRunner makes the runner of a sweep's cells; tests replace it.
var newCellRunner = func(ctx context.Context, o *sweepOptions) (cellRunner, error) {
	bin := o.Binary
	if bin == "" {
		var err error
		if bin, err = buildSimBinary(ctx, o.Out); err != nil {
			return nil, err
		}
	}
	return binaryRunner(bin, o.Out), nil
}

func newSweepCommand(args []string, stdout, stderr io.Writer) *cobra.Command {
	o := sweepOptions{args: args}
	cmd := &cobra.Command{
		Use:   "sweep",
		Short: "Simulate keep-alive and eviction policies × memory budgets × seeds on the Azure-shaped mix",
		Long: `sweep replays the Azure-shaped workload against the real pool, container and prewarm
actors on the fake engine under a discrete-event clock (package bench/sim): hours of
traffic in seconds of CPU, the same figures for the same seed. Every policy runs at every
budget on each seed's arrivals. It writes the table (sweep.md, sweep.csv), every figure
(sweep.json) and the plots (cold starts against budget per policy, the per-action
distribution) to --out.`,
		Example: `  go run ./bench sweep --out sweep-out
  go run ./bench sweep --functions 40 --duration 30m --rate 2 --seeds 1 --budgets 10%,50%,100% --out sweep-ci`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSweep(cmd.Context(), &o, stdout, stderr)
		},
	}
	fs := cmd.Flags()
	fs.SortFlags = false
	o.Workload.register(fs)
	for name, value := range map[string]string{"functions": "200", "rate": "10", "duration": "6h", "azure-period": "24h"} {
		f := fs.Lookup(name)
		_ = f.Value.Set(value)
		f.DefValue = value
	}
	for _, name := range []string{"workload", "seed", "memory", "exec", "on", "off", "trace", "minute", "max-minutes"} {
		_ = fs.MarkHidden(name)
	}
	fs.StringVar(&o.Seeds, "seeds", "1,2,3", "seeds of the workload, comma-separated: each gives its own arrivals, the same for every policy and budget")
	fs.StringVar(&o.Policies, "policies", "openwhisk,greedy-dual,hybrid-histogram", "policies by name: openwhisk, greedy-dual, hybrid-histogram, hybrid-greedy-dual")
	fs.StringArrayVar(&o.Custom, "policy", nil, "a policy of your own: LABEL=key=value,key=value (configuration settings; repeatable)")
	fs.StringVar(&o.Budgets, "budgets", "10%,20%,30%,50%,80%", "user-memory budgets: sizes (4g) or shares of the footprint (the memory of one container of every action the first seed invokes)")
	fs.StringArrayVar(&o.Set, "set", nil, "any setting key=value for every cell (stem-cells=auto:2, prewarm=off, container-pool.…; repeatable)")
	fs.StringVar(&o.ConfigFile, "config", "", "YAML configuration file of the pool")
	fs.StringVar(&o.Kind, "kind", "js:goja", "runtime kind of the actions")
	fs.DurationVar(&o.Engine.Create, "sim-create", 200*time.Millisecond, "engine: container creation (each operation adds a jitter below 1 ms)")
	fs.DurationVar(&o.Engine.Init, "sim-init", 5*time.Millisecond, "engine: /init of the runtime, before the action's own initialisation")
	fs.DurationVar(&o.Engine.Run, "sim-run", time.Millisecond, "engine: /run overhead on top of the execution time")
	fs.DurationVar(&o.Engine.Suspend, "sim-suspend", 10*time.Millisecond, "engine: pause")
	fs.DurationVar(&o.Engine.Resume, "sim-resume", 10*time.Millisecond, "engine: unpause")
	fs.DurationVar(&o.Engine.Destroy, "sim-destroy", 100*time.Millisecond, "engine: removal")
	fs.DurationVar(&o.Engine.InitMedian, "init-median", 500*time.Millisecond, "median of the actions' own initialisation times (log-normal across actions)")
	fs.Float64Var(&o.Engine.InitSigma, "init-sigma", 1, "spread of the actions' own initialisation times (log-normal sigma)")
	fs.DurationVar(&o.Engine.InitMin, "init-min", 10*time.Millisecond, "shortest initialisation time of an action")
	fs.DurationVar(&o.Engine.InitMax, "init-max", 10*time.Second, "longest initialisation time of an action")
	fs.DurationVar(&o.Warmup, "warmup", 0, "leave the first part of the workload out of every figure (it still runs), so learning policies are measured after the same prefix")
	fs.IntVar(&o.Parallel, "parallel", min(runtime.NumCPU(), 2), "cells simulated at once (one process each)")
	fs.StringVar(&o.Out, "out", "sweep-out", "directory for the table, the figures and the plots")
	fs.StringVar(&o.Binary, "sim-binary", "", "prebuilt simulation binary (go test -c ./bench); default: build it into --out")
	return cmd
}

// sweepPolicy is one policy of a sweep.
type sweepPolicy struct {
	Name     string    `json:"name"`
	Settings []setting `json:"settings"`
}

// sweepBudget is one budget, with the share of the footprint it was given as.
type sweepBudget struct {
	Size config.ByteSize `json:"size"`
	Pct  float64         `json:"pct,omitempty"`
}

func runSweep(ctx context.Context, o *sweepOptions, stdout, stderr io.Writer) error {
	if o.Workload.Kind != "azure" {
		return fmt.Errorf("--workload %q: the sweep streams the Azure-shaped mix only", o.Workload.Kind)
	}
	if o.Warmup < 0 || o.Warmup >= o.Workload.Duration {
		return fmt.Errorf("--warmup %s is invalid: must be >= 0 and shorter than --duration %s", o.Warmup, o.Workload.Duration)
	}
	if o.Parallel < 1 {
		return fmt.Errorf("--parallel %d is invalid: must be >= 1", o.Parallel)
	}
	seeds, err := parseSeeds(o.Seeds)
	if err != nil {
		return err
	}
	az, err := o.Workload.azure()
	if err != nil {
		return err
	}
	base := []setting{}
	for _, v := range o.Set {
		s, err := parseSetting("set", v)
		if err != nil {
			return err
		}
		base = append(base, s)
	}
	az.Seed = seeds[0]
	st, err := workload.NewAzureStream(az)
	if err != nil {
		return err
	}
	footprint, arrivals := footprintOf(st)
	largest := 0
	for _, f := range st.Functions {
		largest = max(largest, f.MemoryMB)
	}
	budgets, err := parseBudgets(o.Budgets, footprint, config.ByteSize(largest)*config.MB)
	if err != nil {
		return err
	}
	policies, skipped, err := o.resolvePolicies(base, st.Functions)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	var cells []sweepCell
	for _, seed := range seeds {
		for _, b := range budgets {
			for _, p := range policies {
				cells = append(cells, sweepCell{Policy: p.Name, Settings: append(slices.Clone(base), p.Settings...),
					Budget: b.Size, BudgetPct: b.Pct, Seed: seed, Azure: az, Kind: o.Kind, ConfigFile: o.ConfigFile, Engine: o.Engine, Warmup: o.Warmup})
			}
		}
	}
	fmt.Fprintf(stdout, "sweep: %d policies × %d budgets × %d seeds = %d simulations of %d functions over %s (seed %d: %d arrivals, footprint %s)\n",
		len(policies), len(budgets), len(seeds), len(cells), az.Functions, az.Duration, seeds[0], arrivals, footprint)
	if o.Warmup > 0 {
		fmt.Fprintf(stdout, "warm-up: the figures leave out the first %s\n", o.Warmup)
	}
	for _, s := range skipped {
		fmt.Fprintf(stdout, "NOT RUN: %s\n", s)
	}
	runner, err := newCellRunner(ctx, o)
	if err != nil {
		return err
	}
	started := time.Now()
	results, err := runCells(ctx, runner, cells, o.Parallel, stderr)
	if err != nil {
		return err
	}
	elapsed := time.Since(started)
	fmt.Fprintf(stdout, "simulated in %s of wall time (%d at once)\n\n", elapsed.Round(time.Second), o.Parallel)
	sw := sweepFile{Command: append([]string{"bench", "sweep"}, o.args...), Elapsed: elapsed.Seconds(), Azure: az, Seeds: seeds,
		Footprint: footprint, Policies: policies, Budgets: budgets, Skipped: skipped, Engine: o.Engine, Warmup: o.Warmup}
	for i, c := range cells {
		sw.Cells = append(sw.Cells, cellResult{Policy: c.Policy, Budget: c.Budget, Seed: c.Seed, Result: results[i]})
	}
	return sw.write(o.Out, stdout)
}

// resolvePolicies turns --policies and --policy into settings, keeping the
// ones this build's configuration accepts. The openwhisk policy is the
// pool's default: without the policy keys it runs with no setting at all.
func (o *sweepOptions) resolvePolicies(base []setting, fns []workload.Function) (out []sweepPolicy, skipped []string, err error) {
	w := &workload.Workload{Functions: fns}
	accepts := func(ss []setting) error {
		_, _, err := buildConfig(o.ConfigFile, append(slices.Clone(base), ss...), o.Kind, w)
		return err
	}
	for _, name := range strings.Split(o.Policies, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		ss, ok := policyPresets[name]
		if !ok {
			known := make([]string, 0, len(policyPresets))
			for k := range policyPresets {
				known = append(known, k)
			}
			slices.Sort(known)
			return nil, nil, fmt.Errorf("--policies: %q is unknown: use %s, or --policy LABEL=settings", name, strings.Join(known, ", "))
		}
		if cerr := accepts(ss); cerr != nil {
			if name == "openwhisk" && accepts(nil) == nil {
				ss = []setting{}
			} else {
				skipped = append(skipped, fmt.Sprintf("policy %s: this build's configuration refuses %s: %s",
					name, joinSettings(ss), strings.ReplaceAll(cerr.Error(), "\n", "; ")))
				continue
			}
		}
		out = append(out, sweepPolicy{Name: name, Settings: ss})
	}
	for _, v := range o.Custom {
		label, rest, ok := strings.Cut(v, "=")
		if !ok || strings.TrimSpace(label) == "" {
			return nil, nil, fmt.Errorf("--policy %q is invalid: want LABEL=key=value,key=value", v)
		}
		ss, err := parseSettings("policy", rest)
		if err != nil {
			return nil, nil, err
		}
		if err := accepts(ss); err != nil {
			return nil, nil, fmt.Errorf("--policy %s: %w", label, err)
		}
		out = append(out, sweepPolicy{Name: strings.TrimSpace(label), Settings: ss})
	}
	if len(out) == 0 {
		return nil, skipped, fmt.Errorf("no policy to run: %s", strings.Join(skipped, "; "))
	}
	return out, skipped, nil
}

// footprintOf is the memory of one container of every function the stream
// invokes, and how many arrivals it has; it consumes the stream.
func footprintOf(st *workload.AzureStream) (config.ByteSize, int) {
	invoked := make([]bool, len(st.Functions))
	n := 0
	for a, ok := st.Next(); ok; a, ok = st.Next() {
		invoked[a.Function] = true
		n++
	}
	var mb int
	for i, f := range st.Functions {
		if invoked[i] {
			mb += f.MemoryMB
		}
	}
	return config.ByteSize(mb) * config.MB, n
}

func parseSeeds(text string) ([]int64, error) {
	var out []int64
	for _, p := range strings.Split(text, ",") {
		n, err := strconv.ParseInt(strings.TrimSpace(p), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("--seeds %q is invalid: must be whole numbers, comma-separated", text)
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out, nil
}

// parseBudgets reads sizes (4g) and shares of the footprint (20%), and
// sorts them from scarce to ample. A budget below the largest action's
// memory is refused: that action could never run.
func parseBudgets(text string, footprint, largest config.ByteSize) ([]sweepBudget, error) {
	var out []sweepBudget
	for _, p := range strings.Split(text, ",") {
		p = strings.TrimSpace(p)
		if pct, ok := strings.CutSuffix(p, "%"); ok {
			x, err := strconv.ParseFloat(pct, 64)
			if err != nil || x <= 0 {
				return nil, fmt.Errorf("--budgets: %q is invalid: a share must be a number > 0 followed by %%", p)
			}
			size := config.ByteSize(float64(footprint)*x/100) / config.MB * config.MB
			if size < largest {
				return nil, fmt.Errorf("--budgets: %s of the footprint %s is %s, below the largest action's %s, which could never run", p, footprint, size, largest)
			}
			out = append(out, sweepBudget{Size: size, Pct: x})
			continue
		}
		size, err := config.ParseByteSize(p)
		if err != nil || size <= 0 {
			return nil, fmt.Errorf("--budgets: %q is invalid: must be a size > 0 (4g) or a share of the footprint (20%%)", p)
		}
		if size < largest {
			return nil, fmt.Errorf("--budgets: %s is below the largest action's %s, which could never run", size, largest)
		}
		out = append(out, sweepBudget{Size: size, Pct: 100 * float64(size) / float64(footprint)})
	}
	slices.SortStableFunc(out, func(a, b sweepBudget) int { return int((a.Size - b.Size) / config.MB) })
	out = slices.CompactFunc(out, func(a, b sweepBudget) bool { return a.Size == b.Size })
	return out, nil
}

// runCells simulates the cells, parallel at once, and returns their results
// in the cells' order.
func runCells(ctx context.Context, run cellRunner, cells []sweepCell, parallel int, progress io.Writer) ([]sim.Result, error) {
	results := make([]sim.Result, len(cells))
	errs := make([]error, len(cells))
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				t0 := time.Now()
				results[i], errs[i] = run(ctx, cells[i])
				mu.Lock()
				done++
				fmt.Fprintf(progress, "[%d/%d] %s: %s\n", done, len(cells), cells[i].label(), time.Since(t0).Round(time.Millisecond))
				mu.Unlock()
			}
		}()
	}
feed:
	for i := range cells {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return results, ctx.Err()
}
