package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stemcell-io/stemcell/bench/report"
)

// smokeArgs is a small Azure-shaped run on the fake target: a few seconds,
// short executions, memory for every container the run can need.
var smokeArgs = []string{
	"--target", "fake", "--workload", "azure", "--seed", "7",
	"--functions", "40", "--rate", "25", "--duration", "3s",
	"--azure-exec-median", "20ms", "--azure-exec-max", "200ms",
	"--user-memory", "64g", "--fake-create", "100ms+20ms", "--fake-destroy", "20ms",
	"--sample-interval", "50ms", "--invoke-timeout", "30s", "--log-level", "error",
}

func runSmoke(t *testing.T, extra ...string) (string, resultFile) {
	t.Helper()
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := append(append(append([]string(nil), smokeArgs...), "--out", dir), extra...)
	if err := execute(ctx, args, &stdout, &stderr, false); err != nil {
		t.Fatalf("bench %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	b, err := os.ReadFile(filepath.Join(dir, "bench.json"))
	if err != nil {
		t.Fatalf("bench.json: %v", err)
	}
	var f resultFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("bench.json does not decode: %v", err)
	}
	return stdout.String(), f
}

// checkRun asserts the figures of one side hang together.
func checkRun(t *testing.T, f resultFile, r runResult) {
	t.Helper()
	s := r.Summary
	if s.Activations != f.Workload.Arrivals || s.Activations == 0 {
		t.Errorf("%s: %d activations, want one per arrival (%d)", r.Label, s.Activations, f.Workload.Arrivals)
	}
	if len(s.ErrorsByStatus) != 0 {
		t.Errorf("%s: errors %v with memory for everything: want none", r.Label, s.ErrorsByStatus)
	}
	kinds := 0
	for _, p := range s.ByStartKind {
		kinds += p.Count
	}
	if kinds != s.Activations || s.Latency.Count != s.Activations {
		t.Errorf("%s: start kinds add up to %d, latency count %d, want %d", r.Label, kinds, s.Latency.Count, s.Activations)
	}
	if s.ByStartKind["warm"].Count == 0 {
		t.Errorf("%s: no warm start among %d activations of %d functions", r.Label, s.Activations, f.Workload.FunctionsInvoked)
	}
	if s.ByStartKind["cold"].Count+s.ByStartKind["prewarmed"].Count < f.Workload.FunctionsInvoked {
		t.Errorf("%s: %d cold + prewarmed starts for %d functions invoked: each needs at least one", r.Label,
			s.ByStartKind["cold"].Count+s.ByStartKind["prewarmed"].Count, f.Workload.FunctionsInvoked)
	}
	if s.Evictions != 0 {
		t.Errorf("%s: %d evictions with 64 GB of user memory", r.Label, s.Evictions)
	}
	if !(s.Latency.P50 <= s.Latency.P90 && s.Latency.P90 <= s.Latency.P99 && s.Latency.P99 <= s.Latency.Max) {
		t.Errorf("%s: percentiles out of order: %+v", r.Label, s.Latency)
	}
	// The fake's create takes at least 100 ms, a warm start much less.
	if c := s.ByStartKind["cold"]; c.Count > 0 && r.Overhead.ByStartKind["cold"].P50 < 100*time.Millisecond {
		t.Errorf("%s: cold overhead p50 %s is below the fake's create latency of 100 ms", r.Label, r.Overhead.ByStartKind["cold"].P50)
	}
	if w := r.Overhead.ByStartKind["warm"]; w.P50 >= 100*time.Millisecond {
		t.Errorf("%s: warm overhead p50 %s: a warm start should cost far less than a create", r.Label, w.P50)
	}
	if s.PeakMemoryMB <= 0 || s.MeanMemoryMB <= 0 || s.PeakMemoryMB > float64(r.Config.UserMemoryMB) {
		t.Errorf("%s: memory peak %.0f mean %.0f MB, want within (0, %d]", r.Label, s.PeakMemoryMB, s.MeanMemoryMB, r.Config.UserMemoryMB)
	}
	if s.Wall < f.Workload.Duration*9/10 {
		t.Errorf("%s: wall %s is shorter than the workload (%s): arrivals were not replayed in real time", r.Label, s.Wall, f.Workload.Duration)
	}
	if len(r.Plots) != 3 {
		t.Errorf("%s: plots %v, want 3", r.Label, r.Plots)
	}
	for _, p := range r.Plots {
		b, err := os.ReadFile(p)
		if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
			t.Errorf("%s: plot %s is not a PNG (err %v)", r.Label, p, err)
		}
	}
}

func TestSmokeAzureFake(t *testing.T) {
	out, f := runSmoke(t)
	if len(f.Runs) != 1 || f.Compare != nil {
		t.Fatalf("%d runs and compare %v, want one run and no comparison", len(f.Runs), f.Compare)
	}
	checkRun(t, f, f.Runs[0])
	if f.Workload.Name != "azure" || f.Workload.Seed != 7 || f.Workload.Functions != 40 || f.Fake == nil || f.Fake.Create != "100ms+20ms" {
		t.Errorf("recorded configuration %+v fake %+v does not match the flags", f.Workload, f.Fake)
	}
	if strings.Join(f.Command, " ") != "bench "+strings.Join(smokeArgs, " ")+" --out "+f.Command[len(f.Command)-1] {
		t.Errorf("recorded command %q is not the command line", f.Command)
	}
	if !f.Runs[0].Config.Prewarm || f.Runs[0].Config.UserMemoryMB != 64*1024 {
		t.Errorf("run config %+v: want prewarm on and 65536 MB", f.Runs[0].Config)
	}
	for _, want := range []string{"cold starts", "prewarm hit ratio", "wasted idle memory", "overhead (latency - exec)", "bench.json"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
}

func TestSmokePrewarmOnOff(t *testing.T) {
	out, f := runSmoke(t, "--stem-cells", "auto:3", "--compare", "prewarm=off")
	if len(f.Runs) != 2 {
		t.Fatalf("%d runs, want A and B", len(f.Runs))
	}
	a, b := f.Runs[0], f.Runs[1]
	checkRun(t, f, a)
	checkRun(t, f, b)
	if !a.Config.Prewarm || len(a.Config.StemCells) == 0 || b.Config.Prewarm || len(b.Config.StemCells) != 0 {
		t.Fatalf("configs A %+v B %+v: want stem cells on A only", a.Config, b.Config)
	}
	if n := a.Summary.ByStartKind["prewarmed"].Count; n == 0 || a.Summary.PrewarmHitRatio <= 0 {
		t.Errorf("A (prewarm on): %d prewarmed starts, hit ratio %g: want some", n, a.Summary.PrewarmHitRatio)
	}
	if n := b.Summary.ByStartKind["prewarmed"].Count; n != 0 || b.Summary.PrewarmHitRatio != 0 {
		t.Errorf("B (prewarm off): %d prewarmed starts, hit ratio %g: want none", n, b.Summary.PrewarmHitRatio)
	}
	if a.Summary.ColdStartPct >= b.Summary.ColdStartPct {
		t.Errorf("cold start %% A %.2f >= B %.2f: stem cells should replace some cold starts", a.Summary.ColdStartPct, b.Summary.ColdStartPct)
	}
	rows := map[string]report.Ratio{}
	for _, r := range f.Compare {
		rows[r.Figure] = r
	}
	cold := rows["cold start %"]
	if cold.A != a.Summary.ColdStartPct || cold.B != b.Summary.ColdStartPct || cold.Ratio != cold.B/cold.A {
		t.Errorf("compare row %+v does not match the summaries (A %g, B %g)", cold, a.Summary.ColdStartPct, b.Summary.ColdStartPct)
	}
	if _, ok := rows["overhead p99 ms"]; !ok {
		t.Errorf("compare rows %v lack the overhead", f.Compare)
	}
	for _, want := range []string{"A (user-memory=64g,stem-cells=auto:3)", "B (user-memory=64g,stem-cells=auto:3,prewarm=off)", "side by side (B/A):", "a-latency-cdf.png", "b-memory.png"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
}

// The progress bar goes to stderr and never into the table on stdout.
func TestProgressBar(t *testing.T) {
	var stdout, stderr bytes.Buffer
	args := []string{"--workload", "constant", "--functions", "2", "--rate", "10", "--duration", "1s", "--exec", "1ms", "--log-level", "error"}
	if err := execute(context.Background(), args, &stdout, &stderr, true); err != nil {
		t.Fatalf("bench: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "/10, ") {
		t.Errorf("stderr lacks the progress bar (n/10):\n%q", stderr.String())
	}
	if strings.Contains(stdout.String(), "/10, ") || !strings.Contains(stdout.String(), "activations         10 in") {
		t.Errorf("stdout should hold the table only:\n%s", stdout.String())
	}
}
