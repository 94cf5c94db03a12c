package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/stemcell-io/stemcell/bench/report"
	"github.com/stemcell-io/stemcell/bench/workload"
)

// resultFile is bench.json: every figure of every side and the run's
// configuration, enough to tell later what produced the figures.
type resultFile struct {
	Started  time.Time      `json:"started"`
	Command  []string       `json:"command"`
	Target   string         `json:"target"`
	Workload workloadJSON   `json:"workload"`
	Fake     *fakeFlags     `json:"fake_latencies,omitempty"`
	Runs     []runResult    `json:"runs"`
	Compare  []report.Ratio `json:"compare,omitempty"`
}

// workloadJSON describes the generated workload: the flags as given and
// what the generator made of them.
type workloadJSON struct {
	Flags            workloadFlags `json:"parameters"`
	Name             string        `json:"name"`
	Seed             int64         `json:"seed"`
	Duration         time.Duration `json:"duration_ns"`
	Functions        int           `json:"functions"`
	Arrivals         int           `json:"arrivals"`
	FunctionsByMB    map[int]int   `json:"functions_by_memory_mb"`
	MeanExecMS       float64       `json:"mean_exec_ms"`
	TopFunctionPct   float64       `json:"busiest_function_pct_of_arrivals"`
	FunctionsInvoked int           `json:"functions_invoked"`
}

// runResult is one side of a run.
type runResult struct {
	Label   string         `json:"label"`
	Config  *runConfig     `json:"config"`
	Summary report.Summary `json:"summary"`
	// Overhead is latency less execution time.
	Overhead overhead `json:"overhead"`
	Plots    []string `json:"plots,omitempty"`

	samples []report.Sample
	memory  []report.MemoryPoint
}

func describeWorkload(f workloadFlags, w *workload.Workload) workloadJSON {
	d := workloadJSON{Flags: f, Name: w.Name, Seed: w.Seed, Duration: w.Duration, Functions: len(w.Functions),
		Arrivals: len(w.Arrivals), FunctionsByMB: map[int]int{}}
	for _, fn := range w.Functions {
		d.FunctionsByMB[fn.MemoryMB]++
	}
	var exec time.Duration
	for _, a := range w.Arrivals {
		exec += a.Exec
	}
	if len(w.Arrivals) > 0 {
		d.MeanExecMS = float64(exec) / float64(len(w.Arrivals)) / float64(time.Millisecond)
		counts := w.Counts()
		sort.Sort(sort.Reverse(sort.IntSlice(counts)))
		d.TopFunctionPct = 100 * float64(counts[0]) / float64(len(w.Arrivals))
		for _, c := range counts {
			if c > 0 {
				d.FunctionsInvoked++
			}
		}
	}
	return d
}

// write stores the file as dir/bench.json and returns its path.
func (r *resultFile) write(dir string) (string, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encoding bench.json: %w", err)
	}
	path := filepath.Join(dir, "bench.json")
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	return path, nil
}
