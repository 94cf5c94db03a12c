package main

import (
	"time"

	"github.com/stemcell-io/stemcell/bench/report"
	"github.com/stemcell-io/stemcell/bench/workload"
)

// overhead is latency less the arrival's own execution time: what the pool
// and the containers added (queueing, creation, init, pause and resume).
// Execution times of the Azure-shaped mix span 10 ms to seconds, so they
// dominate the latency percentiles; the overhead shows the pool's part.
type overhead struct {
	All         report.Percentiles            `json:"all"`
	ByStartKind map[string]report.Percentiles `json:"by_start_kind"`
}

func overheadOf(samples []report.Sample, execs []time.Duration, wall time.Duration) overhead {
	shifted := make([]report.Sample, len(samples))
	for i, s := range samples {
		s.Latency = max(s.Latency-execs[i], 0)
		shifted[i] = s
	}
	sum := report.Summarize(shifted, nil, wall, 0)
	return overhead{All: sum.Latency, ByStartKind: sum.ByStartKind}
}

// afterWarmup keeps the samples of the arrivals at or after warmup, with
// their execution times, and the wall time from warmup on: a steady state
// without the first containers' cold starts.
func afterWarmup(samples []report.Sample, w *workload.Workload, wall, warmup time.Duration) ([]report.Sample, []time.Duration, time.Duration) {
	kept := make([]report.Sample, 0, len(samples))
	execs := make([]time.Duration, 0, len(samples))
	for i, s := range samples {
		if s.Arrived >= warmup {
			kept = append(kept, s)
			execs = append(execs, w.Arrivals[i].Exec)
		}
	}
	return kept, execs, max(wall-warmup, 0)
}

// compareOverhead adds the overhead percentiles to the ratio table.
func compareOverhead(rows []report.Ratio, a, b overhead) []report.Ratio {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	extra := []report.Ratio{
		{Figure: "overhead p50 ms", A: ms(a.All.P50), B: ms(b.All.P50)},
		{Figure: "overhead p99 ms", A: ms(a.All.P99), B: ms(b.All.P99)},
		{Figure: "warm overhead p50 ms", A: ms(a.ByStartKind["warm"].P50), B: ms(b.ByStartKind["warm"].P50)},
		{Figure: "warm overhead p99 ms", A: ms(a.ByStartKind["warm"].P99), B: ms(b.ByStartKind["warm"].P99)},
	}
	for i := range extra {
		if extra[i].A != 0 {
			extra[i].Ratio = extra[i].B / extra[i].A
		}
	}
	return append(rows, extra...)
}
