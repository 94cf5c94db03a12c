package report

import "time"

// Ratio is one figure of two runs side by side: B / A.
type Ratio struct {
	Figure string  `json:"figure"`
	A      float64 `json:"a"`
	B      float64 `json:"b"`
	Ratio  float64 `json:"ratio"` // B/A; 0 when A is 0
}

// Compare lists the headline figures of two runs with their ratio B/A.
func Compare(a, b Summary) []Ratio {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	rows := []Ratio{
		{Figure: "throughput/s", A: a.Throughput, B: b.Throughput},
		{Figure: "latency p50 ms", A: ms(a.Latency.P50), B: ms(b.Latency.P50)},
		{Figure: "latency p90 ms", A: ms(a.Latency.P90), B: ms(b.Latency.P90)},
		{Figure: "latency p99 ms", A: ms(a.Latency.P99), B: ms(b.Latency.P99)},
		{Figure: "latency max ms", A: ms(a.Latency.Max), B: ms(b.Latency.Max)},
		{Figure: "cold start %", A: a.ColdStartPct, B: b.ColdStartPct},
		{Figure: "cold start % (p75 function)", A: a.ColdStartPctP75, B: b.ColdStartPctP75},
		{Figure: "prewarm hit ratio", A: a.PrewarmHitRatio, B: b.PrewarmHitRatio},
		{Figure: "buffer wait p99 ms", A: ms(a.BufferWait.P99), B: ms(b.BufferWait.P99)},
	}
	for _, k := range StartKinds {
		wa, wb := a.WaitByStartKind[k], b.WaitByStartKind[k]
		if wa.Count == 0 && wb.Count == 0 {
			continue
		}
		rows = append(rows,
			Ratio{Figure: "  " + k + " wait p50 ms", A: ms(wa.P50), B: ms(wb.P50)},
			Ratio{Figure: "  " + k + " wait p99 ms", A: ms(wa.P99), B: ms(wb.P99)})
	}
	rows = append(rows, []Ratio{
		{Figure: "evictions", A: float64(a.Evictions), B: float64(b.Evictions)},
		{Figure: "peak memory MB", A: a.PeakMemoryMB, B: b.PeakMemoryMB},
		{Figure: "mean idle MB", A: a.MeanIdleMB, B: b.MeanIdleMB},
		{Figure: "wasted idle GB·s", A: a.WastedIdleGBs, B: b.WastedIdleGBs},
		{Figure: "errors", A: float64(sum(a.ErrorsByStatus)), B: float64(sum(b.ErrorsByStatus))},
	}...)
	for i := range rows {
		if rows[i].A != 0 {
			rows[i].Ratio = rows[i].B / rows[i].A
		}
	}
	return rows
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
