// Package workload generates reproducible activation arrival streams for the
// load benchmarks: constant rate, Poisson, on/off bursts, a heavy-tailed mix
// shaped like the Azure Functions 2019 trace, and replay of a trace file in
// that dataset's per-minute format. The same seed always gives the same
// workload.
package workload

import (
	"fmt"
	"sort"
	"time"
)

// Function is one benchmarked action.
type Function struct {
	Name     string
	MemoryMB int
	// Rate is the mean invocations per second over the run.
	Rate float64
	// ExecMedian is the median execution time of one invocation.
	ExecMedian time.Duration
	// Period is a timer-triggered function's period; 0 for a function
	// invoked at random (Poisson).
	Period time.Duration
}

// Arrival is one invocation: when it arrives, which function, how long it runs.
type Arrival struct {
	At       time.Duration // offset from the start of the run
	Function int           // index into Workload.Functions
	Exec     time.Duration
}

// Workload is a generated arrival stream.
type Workload struct {
	Name      string
	Seed      int64
	Duration  time.Duration
	Functions []Function
	Arrivals  []Arrival // sorted by At
}

// Counts returns the number of arrivals per function.
func (w *Workload) Counts() []int {
	c := make([]int, len(w.Functions))
	for _, a := range w.Arrivals {
		c[a.Function]++
	}
	return c
}

func (w *Workload) sortArrivals() {
	sort.SliceStable(w.Arrivals, func(i, j int) bool { return w.Arrivals[i].At < w.Arrivals[j].At })
}

func validateCommon(rate float64, d time.Duration) error {
	if rate <= 0 {
		return fmt.Errorf("workload: rate %g is invalid: must be > 0", rate)
	}
	if d <= 0 {
		return fmt.Errorf("workload: duration %s is invalid: must be > 0", d)
	}
	return nil
}
