package report

import (
	"strings"
	"testing"
	"time"
)

func TestWriteTable(t *testing.T) {
	s := Summary{
		Activations: 8, Wall: 2 * time.Second, Throughput: 4,
		Latency:      Percentiles{Count: 7, P50: ms(12), P90: ms(350), P99: ms(400), Max: ms(400)},
		ByStartKind:  map[string]Percentiles{"cold": {Count: 2, P50: ms(300)}, "warm": {Count: 3, P50: ms(12)}, "unknown": {Count: 2}},
		ColdStartPct: 42.857, ColdStartPctP75: 100, PrewarmHitRatio: 0.25, Evictions: 4,
		PeakMemoryMB: 512, MeanMemoryMB: 300, MeanIdleMB: 100, WastedIdleGBs: 0.5,
		ErrorsByStatus: map[string]int{"rejected": 1, "developer error": 1},
	}
	var b strings.Builder
	if err := WriteTable(&b, "run", s); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"run\n", "8 in 2s", "4.0/s", "n=7  p50 12.0  p90 350.0  p99 400.0  max 400.0 ms",
		"42.86% (p75 function 100.0%)", "0.250", "evictions           4", "peak 512 MB, mean 300 MB, mean idle 100 MB",
		"0.50 GB·s", "developer error 1, rejected 1",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	// Start kinds in table order, unknown kinds after the known ones.
	w, c, u := strings.Index(out, "  warm "), strings.Index(out, "  cold "), strings.Index(out, "  unknown ")
	if !(w >= 0 && w < c && c < u) {
		t.Errorf("start kinds out of order (warm %d, cold %d, unknown %d):\n%s", w, c, u, out)
	}
	b.Reset()
	if err := WriteTable(&b, "empty", Summary{}); err != nil || !strings.Contains(b.String(), "errors              none") {
		t.Errorf("empty summary: %v\n%s", err, b.String())
	}
}

func TestWriteComparison(t *testing.T) {
	var b strings.Builder
	rows := []Ratio{{Figure: "cold start %", A: 9.266, B: 23.745, Ratio: 23.745 / 9.266}, {Figure: "evictions", A: 0, B: 3}, {Figure: "latency p99 ms", A: 2900, B: 1450, Ratio: 0.5}}
	if err := WriteComparison(&b, "on", "off", rows); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines, want a header and 3 rows:\n%s", len(lines), b.String())
	}
	for i, want := range [][]string{{"figure", "on", "off", "B/A"}, {"cold start %", "9.266", "23.745", "2.563"}, {"evictions", "0", "3", "-"}, {"latency p99 ms", "2900", "1450", "0.500"}} {
		for _, cell := range want {
			if !strings.Contains(lines[i], cell) {
				t.Errorf("line %d %q lacks %q", i, lines[i], cell)
			}
		}
	}
}
