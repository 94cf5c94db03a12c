package report

import (
	"math"
	"testing"
	"time"
)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestPercentileNearestRank(t *testing.T) {
	v := []time.Duration{ms(1), ms(2), ms(3), ms(4), ms(5), ms(6), ms(7), ms(8), ms(9), ms(10)}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{0.5, ms(5)}, {0.9, ms(9)}, {0.99, ms(10)}, {0.1, ms(1)}, {1, ms(10)}, {0.01, ms(1)}} {
		if got := Percentile(v, c.p); got != c.want {
			t.Errorf("p%.0f = %s, want %s", c.p*100, got, c.want)
		}
	}
	if Percentile(nil, 0.5) != 0 {
		t.Error("empty input should give 0")
	}
}

func TestSummarizeStartKindsAndColdStarts(t *testing.T) {
	samples := []Sample{
		// function 0: 1 cold, 3 warm -> 25% cold
		{Function: 0, Arrived: ms(0), Latency: ms(300), StartKind: "cold", Status: "success", Wait: ms(50)},
		{Function: 0, Arrived: ms(100), Latency: ms(10), StartKind: "warm", Status: "success"},
		{Function: 0, Arrived: ms(200), Latency: ms(12), StartKind: "warm", Status: "success"},
		{Function: 0, Arrived: ms(300), Latency: ms(14), StartKind: "warm", Status: "application error"},
		// function 1: 1 prewarmed -> 0% cold
		{Function: 1, Arrived: ms(1500), Latency: ms(30), StartKind: "prewarmed", Status: "success"},
		// function 2: 1 recreated, 1 cold -> 100% cold
		{Function: 2, Arrived: ms(1600), Latency: ms(400), StartKind: "recreated", Status: "success"},
		{Function: 2, Arrived: ms(2500), Latency: ms(350), StartKind: "cold", Status: "developer error"},
		// rejected: counted as an error, not as a start
		{Function: 3, Arrived: ms(2600), Status: "rejected"},
	}
	s := Summarize(samples, nil, 2*time.Second, 4)
	if s.Activations != 8 || s.Throughput != 4 {
		t.Errorf("activations %d throughput %g, want 8 and 4/s", s.Activations, s.Throughput)
	}
	if got := s.ColdStartPct; math.Abs(got-300.0/7) > 1e-9 {
		t.Errorf("cold start %% = %g, want %g", got, 300.0/7)
	}
	// per-function cold %: 0, 25, 100 -> nearest-rank p75 of 3 values is the 3rd
	if s.ColdStartPctP75 != 100 {
		t.Errorf("p75 function cold start %% = %g, want 100", s.ColdStartPctP75)
	}
	if math.Abs(s.PrewarmHitRatio-0.25) > 1e-9 {
		t.Errorf("prewarm hit ratio = %g, want 0.25 (1 prewarmed of 4 non-warm starts)", s.PrewarmHitRatio)
	}
	if w := s.ByStartKind["warm"]; w.Count != 3 || w.P50 != ms(12) || w.Max != ms(14) {
		t.Errorf("warm = %+v", w)
	}
	if s.Latency.Max != ms(400) || s.Latency.Count != 7 {
		t.Errorf("latency = %+v", s.Latency)
	}
	want := map[string]int{"application error": 1, "developer error": 1, "rejected": 1}
	for k, v := range want {
		if s.ErrorsByStatus[k] != v {
			t.Errorf("errors[%s] = %d, want %d", k, s.ErrorsByStatus[k], v)
		}
	}
	if len(s.ColdStartsPerSec) != 3 || s.ColdStartsPerSec[0] != 1 || s.ColdStartsPerSec[1] != 1 || s.ColdStartsPerSec[2] != 1 {
		t.Errorf("cold starts per second = %v, want [1 1 1]", s.ColdStartsPerSec)
	}
	if s.BufferWait.Max != ms(50) || s.Evictions != 4 {
		t.Errorf("buffer wait %+v evictions %d", s.BufferWait, s.Evictions)
	}
	if c, w := s.WaitByStartKind["cold"], s.WaitByStartKind["warm"]; c.Count != 2 || c.Max != ms(50) || w.Count != 3 || w.Max != 0 {
		t.Errorf("buffer wait by start kind: cold %+v warm %+v, want 2 up to 50 ms and 3 at 0", c, w)
	}
}

func TestMemoryIntegration(t *testing.T) {
	pts := []MemoryPoint{
		{At: 0, InUseMB: 1024, IdleMB: 512, PrewarmedMB: 0},
		{At: 2 * time.Second, InUseMB: 2048, IdleMB: 256, PrewarmedMB: 256},
	}
	s := Summarize(nil, pts, 4*time.Second, 0)
	// idle: 512 MB for 2 s + 512 MB for 2 s = 2048 MB·s = 2 GB·s
	if math.Abs(s.WastedIdleGBs-2) > 1e-9 {
		t.Errorf("wasted idle = %g GB·s, want 2", s.WastedIdleGBs)
	}
	if s.PeakMemoryMB != 2048 || math.Abs(s.MeanMemoryMB-1536) > 1e-9 || math.Abs(s.MeanIdleMB-512) > 1e-9 {
		t.Errorf("peak %g mean %g mean idle %g, want 2048, 1536, 512", s.PeakMemoryMB, s.MeanMemoryMB, s.MeanIdleMB)
	}
}

func TestCompareRatios(t *testing.T) {
	a := Summary{Throughput: 100, ColdStartPct: 40, Latency: Percentiles{P99: ms(200)}}
	b := Summary{Throughput: 100, ColdStartPct: 10, Latency: Percentiles{P99: ms(50)}}
	rows := Compare(a, b)
	got := map[string]float64{}
	for _, r := range rows {
		got[r.Figure] = r.Ratio
	}
	if got["cold start %"] != 0.25 || got["latency p99 ms"] != 0.25 || got["throughput/s"] != 1 {
		t.Errorf("ratios = %v", got)
	}
	if got["evictions"] != 0 {
		t.Errorf("a zero baseline must give ratio 0, got %g", got["evictions"])
	}
}
