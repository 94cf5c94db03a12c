package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/stemcell-io/stemcell/bench/workload"
)

// workloadFlags are the generator parameters; zero values mean the
// generator's default. The JSON file records them as given.
type workloadFlags struct {
	Kind      string        `json:"kind"`
	Seed      int64         `json:"seed"`
	Rate      float64       `json:"rate"`
	Duration  time.Duration `json:"duration_ns"`
	Functions int           `json:"functions"`
	MemoryMB  int           `json:"memory_mb"`
	Exec      time.Duration `json:"exec_ns"`
	On        time.Duration `json:"on_ns"`
	Off       time.Duration `json:"off_ns"`
	Trace     string        `json:"trace,omitempty"`
	Minute    time.Duration `json:"minute_ns"`
	Minutes   int           `json:"max_minutes"`

	AzureRateSigma       float64       `json:"azure_rate_sigma"`
	AzureExecMedian      time.Duration `json:"azure_exec_median_ns"`
	AzureExecSigma       float64       `json:"azure_exec_sigma"`
	AzureExecMin         time.Duration `json:"azure_exec_min_ns"`
	AzureExecMax         time.Duration `json:"azure_exec_max_ns"`
	AzureInvocationSigma float64       `json:"azure_invocation_sigma"`
	AzureMemory          string        `json:"azure_memory_mb"`
	AzureMemoryWeights   string        `json:"azure_memory_weights"`
	AzureSwing           float64       `json:"azure_swing"`
	AzurePeriod          time.Duration `json:"azure_period_ns"`
	AzureTimerShare      float64       `json:"azure_timer_share"`
}

func (f *workloadFlags) register(fs *pflag.FlagSet) {
	az := workload.DefaultAzure()
	fs.StringVar(&f.Kind, "workload", "azure", "constant, poisson, onoff, azure or replay")
	fs.Int64Var(&f.Seed, "seed", 1, "seed of the generator (the same seed gives the same workload)")
	fs.Float64Var(&f.Rate, "rate", 0, "mean arrivals per second over all functions (default: 200 for azure, 20 otherwise)")
	fs.DurationVar(&f.Duration, "duration", 20*time.Second, "length of the generated workload (not replay)")
	fs.IntVar(&f.Functions, "functions", 0, "number of functions (default: 1000 for azure, 4 otherwise)")
	fs.IntVar(&f.MemoryMB, "memory", 256, "memory of every function in MB (constant, poisson, onoff, replay)")
	fs.DurationVar(&f.Exec, "exec", 100*time.Millisecond, "execution time of every invocation (constant, poisson, onoff, replay)")
	fs.DurationVar(&f.On, "on", 5*time.Second, "onoff: length of a burst")
	fs.DurationVar(&f.Off, "off", 5*time.Second, "onoff: length of a silence")
	fs.StringVar(&f.Trace, "trace", "", "replay: trace file in the Azure Functions 2019 per-minute format")
	fs.DurationVar(&f.Minute, "minute", time.Minute, "replay: how long one trace minute lasts in the run (compresses the trace)")
	fs.IntVar(&f.Minutes, "max-minutes", 0, "replay: replay at most this many minutes (0: all)")
	fs.Float64Var(&f.AzureRateSigma, "azure-rate-sigma", az.RateSigma, "azure: spread of per-function rates (log-normal sigma)")
	fs.DurationVar(&f.AzureExecMedian, "azure-exec-median", az.ExecMedian, "azure: median of the functions' median execution times")
	fs.Float64Var(&f.AzureExecSigma, "azure-exec-sigma", az.ExecSigma, "azure: spread of median execution times across functions (log-normal sigma)")
	fs.DurationVar(&f.AzureExecMin, "azure-exec-min", az.ExecMin, "azure: shortest execution time")
	fs.DurationVar(&f.AzureExecMax, "azure-exec-max", az.ExecMax, "azure: longest execution time")
	fs.Float64Var(&f.AzureInvocationSigma, "azure-invocation-sigma", az.InvocationSigma, "azure: spread of one function's execution times (log-normal sigma)")
	fs.StringVar(&f.AzureMemory, "azure-memory", joinInts(az.MemoryMB), "azure: memory sizes in MB, comma-separated")
	fs.StringVar(&f.AzureMemoryWeights, "azure-memory-weights", joinFloats(az.MemoryWeights), "azure: weights of the memory sizes")
	fs.Float64Var(&f.AzureSwing, "azure-swing", az.Swing, "azure: daily-like swing of the total rate, 0 <= swing < 1")
	fs.DurationVar(&f.AzurePeriod, "azure-period", 0, "azure: period of the swing (0: the whole run is one day)")
	fs.Float64Var(&f.AzureTimerShare, "azure-timer-share", 0, "azure: share of the functions that are timer-triggered (every 1, 5, 15, 30 or 60 min; the trace: 0.156)")
}

// generate builds the workload the flags describe.
func (f *workloadFlags) generate() (*workload.Workload, error) {
	rate, functions := f.Rate, f.Functions
	switch f.Kind {
	case "constant", "poisson", "onoff":
		if rate == 0 {
			rate = 20
		}
		if functions == 0 {
			functions = 4
		}
		u := workload.Uniform{Seed: f.Seed, Rate: rate, Duration: f.Duration, Functions: functions, MemoryMB: f.MemoryMB, Exec: f.Exec}
		switch f.Kind {
		case "constant":
			return workload.Constant(u)
		case "poisson":
			return workload.Poisson(u)
		}
		return workload.Bursts(workload.OnOff{Uniform: u, On: f.On, Off: f.Off})
	case "azure":
		a, err := f.azure()
		if err != nil {
			return nil, err
		}
		return workload.GenerateAzure(a)
	case "replay":
		if f.Trace == "" {
			return nil, fmt.Errorf("--workload replay needs --trace FILE (Azure Functions 2019 per-minute format)")
		}
		in, err := os.Open(f.Trace)
		if err != nil {
			return nil, fmt.Errorf("--trace: %w", err)
		}
		defer in.Close()
		return workload.ReadTrace(in, workload.Replay{Seed: f.Seed, Minute: f.Minute, MaxMinutes: f.Minutes, MemoryMB: f.MemoryMB, Exec: f.Exec})
	}
	return nil, fmt.Errorf("--workload %q is invalid: must be constant, poisson, onoff, azure or replay", f.Kind)
}

// azure is the Azure-shaped mix the flags describe.
func (f *workloadFlags) azure() (workload.Azure, error) {
	a := workload.DefaultAzure()
	a.Seed, a.Duration = f.Seed, f.Duration
	if f.Rate != 0 {
		a.Rate = f.Rate
	}
	if f.Functions != 0 {
		a.Functions = f.Functions
	}
	a.RateSigma, a.ExecMedian, a.ExecSigma = f.AzureRateSigma, f.AzureExecMedian, f.AzureExecSigma
	a.ExecMin, a.ExecMax, a.InvocationSigma = f.AzureExecMin, f.AzureExecMax, f.AzureInvocationSigma
	a.Swing, a.Period, a.TimerShare = f.AzureSwing, f.AzurePeriod, f.AzureTimerShare
	var err error
	if a.MemoryMB, err = parseInts("azure-memory", f.AzureMemory); err != nil {
		return a, err
	}
	if a.MemoryWeights, err = parseFloats("azure-memory-weights", f.AzureMemoryWeights); err != nil {
		return a, err
	}
	return a, nil
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

func joinFloats(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.FormatFloat(x, 'g', -1, 64)
	}
	return strings.Join(s, ",")
}

func parseInts(flag, text string) ([]int, error) {
	var out []int
	for _, p := range strings.Split(text, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("--%s: %q is invalid: must be whole numbers > 0, comma-separated", flag, text)
		}
		out = append(out, n)
	}
	return out, nil
}

func parseFloats(flag, text string) ([]float64, error) {
	var out []float64
	for _, p := range strings.Split(text, ",") {
		x, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || x < 0 {
			return nil, fmt.Errorf("--%s: %q is invalid: must be numbers >= 0, comma-separated", flag, text)
		}
		out = append(out, x)
	}
	return out, nil
}
