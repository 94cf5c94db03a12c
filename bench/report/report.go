// Package report turns the samples of a benchmark run into the figures the
// benchmark publishes: throughput, latency percentiles overall and by start
// kind, cold-start percentages, prewarm hit ratio, buffer wait, memory over
// time and wasted idle memory, errors by status; and the ratios of two runs.
package report

import (
	"sort"
	"time"
)

// Sample is one finished activation as the load generator saw it.
type Sample struct {
	Function  int
	Arrived   time.Duration // offset from the start of the run
	Latency   time.Duration // arrival to result
	Wait      time.Duration // time spent before init or run started (buffer wait)
	StartKind string        // cold, prewarmed, warm, recreated; "" when rejected
	Status    string        // success, application error, developer error, internal error, rejected
}

// MemoryPoint is the pool's memory at one instant.
type MemoryPoint struct {
	At          time.Duration
	InUseMB     float64 // everything the ledger counts
	BusyMB      float64
	IdleMB      float64 // warm containers with nothing running
	PrewarmedMB float64
}

// Percentiles summarises a latency distribution.
type Percentiles struct {
	Count int           `json:"count"`
	P50   time.Duration `json:"p50_ns"`
	P90   time.Duration `json:"p90_ns"`
	P99   time.Duration `json:"p99_ns"`
	Max   time.Duration `json:"max_ns"`
}

// Summary holds every figure of one run.
type Summary struct {
	Activations      int                    `json:"activations"`
	Wall             time.Duration          `json:"wall_ns"`
	Throughput       float64                `json:"throughput_per_s"`
	Latency          Percentiles            `json:"latency"`
	ByStartKind      map[string]Percentiles `json:"latency_by_start_kind"`
	ColdStartPct     float64                `json:"cold_start_pct"`
	ColdStartPctP75  float64                `json:"cold_start_pct_p75_function"`
	PrewarmHitRatio  float64                `json:"prewarm_hit_ratio"`
	BufferWait       Percentiles            `json:"buffer_wait"`
	WaitByStartKind  map[string]Percentiles `json:"buffer_wait_by_start_kind"`
	Evictions        int                    `json:"evictions"`
	PeakMemoryMB     float64                `json:"peak_memory_mb"`
	MeanMemoryMB     float64                `json:"mean_memory_mb"`
	MeanIdleMB       float64                `json:"mean_idle_mb"`
	WastedIdleGBs    float64                `json:"wasted_idle_gb_s"`
	ErrorsByStatus   map[string]int         `json:"errors_by_status"`
	ColdStartsPerSec []float64              `json:"cold_starts_per_second"`
}

// Cold starts are starts that had to create a container for the action.
func isCold(kind string) bool { return kind == "cold" || kind == "recreated" }

// Summarize computes the figures of one run. evictions comes from the
// pool's counters; wall is how long the run took.
func Summarize(samples []Sample, memory []MemoryPoint, wall time.Duration, evictions int) Summary {
	s := Summary{
		Activations:     len(samples),
		Wall:            wall,
		Evictions:       evictions,
		ByStartKind:     map[string]Percentiles{},
		WaitByStartKind: map[string]Percentiles{},
		ErrorsByStatus:  map[string]int{},
	}
	if wall > 0 {
		s.Throughput = float64(len(samples)) / wall.Seconds()
	}
	all := make([]time.Duration, 0, len(samples))
	waits := make([]time.Duration, 0, len(samples))
	byKind := map[string][]time.Duration{}
	waitByKind := map[string][]time.Duration{}
	type perFn struct{ cold, starts int }
	fns := map[int]*perFn{}
	var cold, prewarmed, started int
	for _, x := range samples {
		if x.Status != "success" {
			s.ErrorsByStatus[x.Status]++
		}
		if x.StartKind == "" {
			continue // rejected: never started
		}
		started++
		all = append(all, x.Latency)
		waits = append(waits, x.Wait)
		byKind[x.StartKind] = append(byKind[x.StartKind], x.Latency)
		waitByKind[x.StartKind] = append(waitByKind[x.StartKind], x.Wait)
		f := fns[x.Function]
		if f == nil {
			f = &perFn{}
			fns[x.Function] = f
		}
		f.starts++
		switch {
		case isCold(x.StartKind):
			cold++
			f.cold++
			sec := int(x.Arrived / time.Second)
			for len(s.ColdStartsPerSec) <= sec {
				s.ColdStartsPerSec = append(s.ColdStartsPerSec, 0)
			}
			s.ColdStartsPerSec[sec]++
		case x.StartKind == "prewarmed":
			prewarmed++
		}
	}
	s.Latency = percentiles(all)
	s.BufferWait = percentiles(waits)
	for k, v := range byKind {
		s.ByStartKind[k] = percentiles(v)
	}
	for k, v := range waitByKind {
		s.WaitByStartKind[k] = percentiles(v)
	}
	if started > 0 {
		s.ColdStartPct = 100 * float64(cold) / float64(started)
	}
	if cold+prewarmed > 0 {
		s.PrewarmHitRatio = float64(prewarmed) / float64(cold+prewarmed)
	}
	pcts := make([]float64, 0, len(fns))
	for _, f := range fns {
		pcts = append(pcts, 100*float64(f.cold)/float64(f.starts))
	}
	s.ColdStartPctP75 = percentileFloat(pcts, 0.75)
	s.PeakMemoryMB, s.MeanMemoryMB, s.MeanIdleMB, s.WastedIdleGBs = memoryFigures(memory, wall)
	return s
}

// memoryFigures integrates the memory series as a step function: each point
// holds until the next (the last until the end of the run).
func memoryFigures(pts []MemoryPoint, wall time.Duration) (peak, mean, meanIdle, idleGBs float64) {
	if len(pts) == 0 {
		return 0, 0, 0, 0
	}
	end := max(wall, pts[len(pts)-1].At)
	var inUseMBs, idleMBs float64
	for i, p := range pts {
		next := end
		if i+1 < len(pts) {
			next = pts[i+1].At
		}
		dt := (next - p.At).Seconds()
		peak = max(peak, p.InUseMB)
		inUseMBs += p.InUseMB * dt
		idleMBs += (p.IdleMB + p.PrewarmedMB) * dt
	}
	span := (end - pts[0].At).Seconds()
	if span > 0 {
		mean, meanIdle = inUseMBs/span, idleMBs/span
	}
	return peak, mean, meanIdle, idleMBs / 1024
}

func percentiles(d []time.Duration) Percentiles {
	if len(d) == 0 {
		return Percentiles{}
	}
	sorted := append([]time.Duration(nil), d...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	return Percentiles{
		Count: len(sorted),
		P50:   Percentile(sorted, 0.50),
		P90:   Percentile(sorted, 0.90),
		P99:   Percentile(sorted, 0.99),
		Max:   sorted[len(sorted)-1],
	}
}

// Percentile returns the nearest-rank percentile p (0..1] of sorted values.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[rank(len(sorted), p)]
}

func percentileFloat(v []float64, p float64) float64 {
	if len(v) == 0 {
		return 0
	}
	sort.Float64s(v)
	return v[rank(len(v), p)]
}

// rank is the nearest-rank index: the smallest i with (i+1)/n >= p.
func rank(n int, p float64) int {
	i := int(float64(n)*p+0.999999999) - 1
	return min(max(i, 0), n-1)
}
