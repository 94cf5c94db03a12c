package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stemcell-io/stemcell/config"
)

// sweepCIArgs is the small sweep CI runs: seconds, not minutes.
var sweepCIArgs = []string{"sweep", "--functions", "30", "--duration", "20m", "--rate", "1", "--seeds", "3",
	"--budgets", "25%,70%", "--azure-exec-max", "2s"}

// runSweepInProcess runs the sweep command with its cells simulated in
// this process, and returns its stdout and sweep.json.
func runSweepInProcess(t *testing.T, extra ...string) (string, sweepFile) {
	t.Helper()
	saved := newCellRunner
	newCellRunner = func(context.Context, *sweepOptions) (cellRunner, error) { return inProcessRunner(t), nil }
	defer func() { newCellRunner = saved }()
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := append(append(append([]string(nil), sweepCIArgs...), "--out", dir), extra...)
	if err := execute(ctx, args, &stdout, &stderr, false); err != nil {
		t.Fatalf("bench %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	b, err := os.ReadFile(filepath.Join(dir, "sweep.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sw sweepFile
	if err := json.Unmarshal(b, &sw); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"sweep.md", "sweep.csv", "cold-p75-vs-budget.png", "cold-p75-vs-wasted-memory.png"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("the sweep did not write %s: %v", name, err)
		}
	}
	return stdout.String(), sw
}

// TestSweepSameSeedSameTable runs the CI sweep twice: every figure of every
// cell must be the same, and scarcer memory must not give fewer cold starts.
func TestSweepSameSeedSameTable(t *testing.T) {
	out, a := runSweepInProcess(t)
	_, b := runSweepInProcess(t)
	if len(a.Cells) == 0 || len(a.Cells) != len(a.Policies)*len(a.Budgets) {
		t.Fatalf("%d cells for %d policies × %d budgets:\n%s", len(a.Cells), len(a.Policies), len(a.Budgets), out)
	}
	if !reflect.DeepEqual(a.Cells, b.Cells) {
		t.Fatalf("the same sweep gave different figures:\n%+v\n%+v", a.Cells, b.Cells)
	}
	if !strings.Contains(out, "| openwhisk |") {
		t.Fatalf("no openwhisk row in the table:\n%s", out)
	}
	byBudget := map[config.ByteSize]float64{}
	for _, c := range a.Cells {
		if c.Policy == "openwhisk" {
			byBudget[c.Budget] = c.Result.ColdPercent
			if c.Result.Activations == 0 || c.Result.Errors != 0 {
				t.Fatalf("cell %+v: want activations and no errors", c)
			}
		}
	}
	scarce, ample := a.Budgets[0].Size, a.Budgets[len(a.Budgets)-1].Size
	if byBudget[scarce] <= byBudget[ample] {
		t.Fatalf("cold starts %.2f%% at %s and %.2f%% at %s: scarcer memory should cost more", byBudget[scarce], scarce, byBudget[ample], ample)
	}
}

func TestParseBudgets(t *testing.T) {
	fp := 10 * config.GB
	got, err := parseBudgets("50%, 2g,10%,1g", fp, 512*config.MB)
	if err != nil {
		t.Fatal(err)
	}
	var sizes []config.ByteSize
	for _, b := range got {
		sizes = append(sizes, b.Size)
	}
	// 10% of 10 GB is 1 GB, the same budget as 1g: kept once.
	if !reflect.DeepEqual(sizes, []config.ByteSize{config.GB, 2 * config.GB, 5 * config.GB}) {
		t.Fatalf("budgets %v", sizes)
	}
	for _, bad := range []string{"0%", "-1g", "x", "10%%", "256m", "4%"} {
		if _, err := parseBudgets(bad, fp, 512*config.MB); err == nil {
			t.Errorf("parseBudgets(%q) accepted it", bad)
		}
	}
}

func TestVerdict(t *testing.T) {
	b1 := sweepBudget{Size: config.GB}
	b2 := sweepBudget{Size: 2 * config.GB}
	b3 := sweepBudget{Size: 4 * config.GB}
	b4 := sweepBudget{Size: 8 * config.GB}
	rows := []sweepRow{
		{Policy: "openwhisk", Budget: b1, Cold: 30, ColdP75: 80, P75Ratio: 1, WasteRatio: 1},
		{Policy: "greedy-dual", Budget: b1, Cold: 20, ColdP75: 40, P75Ratio: 0.5, WasteRatio: 0.9},
		{Policy: "hybrid-histogram", Budget: b1, Cold: 10, ColdP75: 20, P75Ratio: 0.25, WasteRatio: 1.5}, // more waste: not counted
		{Policy: "openwhisk", Budget: b2, Cold: 10, ColdP75: 50, P75Ratio: 1, WasteRatio: 1},
		{Policy: "greedy-dual", Budget: b2, Cold: 9, ColdP75: 40, P75Ratio: 0.8, WasteRatio: 1},
		{Policy: "openwhisk", Budget: b3, Cold: 4, ColdP75: 20, P75Ratio: 1, WasteRatio: 1},
		{Policy: "greedy-dual", Budget: b3, Cold: 1, ColdP75: 5, P75Ratio: 0.25, WasteRatio: 1},
	}
	rows = append(rows,
		sweepRow{Policy: "openwhisk", Budget: b4, Cold: 20, ColdP75: 50, P75Ratio: 1, WasteRatio: 1},
		sweepRow{Policy: "greedy-dual", Budget: b4, Cold: 9, ColdP75: 30, P75Ratio: 0.6, WasteRatio: 1.0001})
	got := verdict(rows)
	wants := []string{"1 GB: met: greedy-dual 0.50×", "2 GB: NOT MET: best with no more waste is greedy-dual at 0.80×", "4 GB: openwhisk has 4.00% cold starts (≤ 5%): outside",
		"8 GB: NOT MET: every other policy wastes more memory than openwhisk (the best p75, greedy-dual, 0.60× with 1.0001× the waste)"}
	if len(got) != len(wants) {
		t.Fatalf("verdict %q", got)
	}
	for i, w := range wants {
		if !strings.HasPrefix(got[i], w) {
			t.Errorf("verdict line %d: %q, want it to start with %q", i, got[i], w)
		}
	}
}
