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

func overheadOf(samples []report.Sample, w *workload.Workload, wall time.Duration) overhead {
	shifted := make([]report.Sample, len(samples))
	for i, s := range samples {
		s.Latency = max(s.Latency-w.Arrivals[i].Exec, 0)
		shifted[i] = s
	}
	sum := report.Summarize(shifted, nil, wall, 0)
	return overhead{All: sum.Latency, ByStartKind: sum.ByStartKind}
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
