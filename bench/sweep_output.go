package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/stemcell-io/stemcell/bench/sim"
	"github.com/stemcell-io/stemcell/bench/workload"
	"github.com/stemcell-io/stemcell/config"
)

// sweepFile is sweep.json: the sweep's inputs and every cell's figures.
type sweepFile struct {
	Command   []string        `json:"command"`
	Elapsed   float64         `json:"wall_seconds"`
	Azure     workload.Azure  `json:"azure"`
	Seeds     []int64         `json:"seeds"`
	Footprint config.ByteSize `json:"footprint"`
	Policies  []sweepPolicy   `json:"policies"`
	Budgets   []sweepBudget   `json:"budgets"`
	Skipped   []string        `json:"not_run,omitempty"`
	Engine    simEngine       `json:"engine"`
	Warmup    time.Duration   `json:"warmup_ns"`
	Cells     []cellResult    `json:"cells"`
}

type cellResult struct {
	Policy string          `json:"policy"`
	Budget config.ByteSize `json:"budget"`
	Seed   int64           `json:"seed"`
	Result sim.Result      `json:"result"`
}

// sweepRow is one policy at one budget, its figures averaged over the seeds.
type sweepRow struct {
	Policy                string
	Budget                sweepBudget
	Seeds                 int
	Cold, ColdP75         float64
	ColdP75Min, ColdP75Mx float64
	Prewarmed             float64
	WastedGBs             float64
	AddedExec             float64
	QueueMS, LatencyP99MS float64
	Evictions             float64
	ScaleOut              float64
	Errors                int
	// Against openwhisk at the same budget (0 when it did not run).
	P75Ratio, WasteRatio float64
}

// rows averages the cells per policy and budget, budgets from scarce to
// ample, policies in the sweep's order.
func (sw *sweepFile) rows() []sweepRow {
	var out []sweepRow
	for _, b := range sw.Budgets {
		var ow *sweepRow
		start := len(out)
		for _, p := range sw.Policies {
			r := sweepRow{Policy: p.Name, Budget: b, ColdP75Min: 101}
			for _, c := range sw.Cells {
				if c.Policy != p.Name || c.Budget != b.Size {
					continue
				}
				x := c.Result
				r.Seeds++
				r.Cold += x.ColdPercent
				r.ColdP75 += x.ColdPercentP75Action
				r.ColdP75Min = min(r.ColdP75Min, x.ColdPercentP75Action)
				r.ColdP75Mx = max(r.ColdP75Mx, x.ColdPercentP75Action)
				r.Prewarmed += x.PrewarmedPercent
				r.WastedGBs += x.WastedGBs
				r.AddedExec += x.AddedExecPercent
				r.QueueMS += x.QueueMeanMS
				r.LatencyP99MS += x.LatencyP99MS
				r.Evictions += float64(x.Evictions)
				r.ScaleOut += x.ScaleOutPercent
				r.Errors += x.Errors
			}
			if r.Seeds == 0 {
				continue
			}
			n := float64(r.Seeds)
			r.Cold, r.ColdP75, r.Prewarmed, r.WastedGBs = r.Cold/n, r.ColdP75/n, r.Prewarmed/n, r.WastedGBs/n
			r.AddedExec, r.QueueMS, r.LatencyP99MS, r.Evictions, r.ScaleOut = r.AddedExec/n, r.QueueMS/n, r.LatencyP99MS/n, r.Evictions/n, r.ScaleOut/n
			out = append(out, r)
			if p.Name == "openwhisk" {
				ow = &out[len(out)-1]
			}
		}
		if ow != nil {
			for i := start; i < len(out); i++ {
				out[i].P75Ratio = ratio(out[i].ColdP75, ow.ColdP75)
				out[i].WasteRatio = ratio(out[i].WastedGBs, ow.WastedGBs)
			}
		}
	}
	return out
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func (b sweepBudget) String() string {
	if b.Pct > 0 {
		return fmt.Sprintf("%s (%.0f%%)", b.Size, b.Pct)
	}
	return b.Size.String()
}

// writeMarkdown prints the table: one row per policy and budget.
func writeMarkdown(w io.Writer, rows []sweepRow, seeds int) {
	fmt.Fprintf(w, "| budget | policy | cold %% | cold %% p75 action (min–max over %d seeds) | prewarmed %% | wasted GB·s | added exec %% | queue ms | latency p99 ms | evictions | scale-out creations %% | errors | p75 ÷ openwhisk | wasted ÷ openwhisk |\n", seeds)
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %s | %.2f | %.1f (%.1f–%.1f) | %.2f | %.0f | %.1f | %.1f | %.0f | %.0f | %.1f | %d | %s | %s |\n",
			r.Budget, r.Policy, r.Cold, r.ColdP75, r.ColdP75Min, r.ColdP75Mx, r.Prewarmed, r.WastedGBs, r.AddedExec,
			r.QueueMS, r.LatencyP99MS, r.Evictions, r.ScaleOut, r.Errors, fmtRatio(r.P75Ratio), fmtRatio(r.WasteRatio))
	}
}

func fmtRatio(x float64) string {
	if x == 0 {
		return "-"
	}
	return strconv.FormatFloat(x, 'f', 2, 64)
}

// verdict checks issue 16's goal at every budget where openwhisk has more
// than 5 % cold starts: the best other policy has at most 0.7× its
// p75-action cold-start %, with no more wasted memory time.
func verdict(rows []sweepRow) []string {
	var out []string
	for i := 0; i < len(rows); {
		j := i
		for j < len(rows) && rows[j].Budget == rows[i].Budget {
			j++
		}
		var ow *sweepRow
		best, bestAny, others := -1, -1, 0
		for k := i; k < j; k++ {
			if rows[k].Policy == "openwhisk" {
				ow = &rows[k]
				continue
			}
			others++
			if bestAny < 0 || rows[k].ColdP75 < rows[bestAny].ColdP75 {
				bestAny = k
			}
			if rows[k].WasteRatio <= 1 && (best < 0 || rows[k].ColdP75 < rows[best].ColdP75) {
				best = k
			}
		}
		switch {
		case ow == nil:
		case ow.Cold <= 5:
			out = append(out, fmt.Sprintf("%s: openwhisk has %.2f%% cold starts (≤ 5%%): outside the goal", rows[i].Budget, ow.Cold))
		case others == 0:
			out = append(out, fmt.Sprintf("%s: openwhisk has %.2f%% cold starts, but no other policy ran", rows[i].Budget, ow.Cold))
		case best < 0:
			out = append(out, fmt.Sprintf("%s: NOT MET: every other policy wastes more memory than openwhisk (the best p75, %s, %.2f× with %.4f× the waste)",
				rows[i].Budget, rows[bestAny].Policy, rows[bestAny].P75Ratio, rows[bestAny].WasteRatio))
		case rows[best].P75Ratio <= 0.7:
			out = append(out, fmt.Sprintf("%s: met: %s %.2f× openwhisk's p75-action cold %%, %.2f× its wasted memory", rows[i].Budget, rows[best].Policy, rows[best].P75Ratio, rows[best].WasteRatio))
		default:
			out = append(out, fmt.Sprintf("%s: NOT MET: best with no more waste is %s at %.2f× openwhisk's p75-action cold %% (goal ≤ 0.70×)", rows[i].Budget, rows[best].Policy, rows[best].P75Ratio))
		}
		i = j
	}
	return out
}

// write stores sweep.json, sweep.md, sweep.csv and the plots in dir and
// prints the table.
func (sw *sweepFile) write(dir string, stdout io.Writer) error {
	rows := sw.rows()
	var md strings.Builder
	writeMarkdown(&md, rows, len(sw.Seeds))
	v := verdict(rows)
	if len(v) > 0 {
		md.WriteString("\nGoal (issue 16: p75-action cold % ≤ 0.7× openwhisk's where it exceeds 5 % cold starts, with no more wasted memory):\n")
		for _, line := range v {
			md.WriteString("- " + line + "\n")
		}
	}
	for _, s := range sw.Skipped {
		md.WriteString("\nNOT RUN: " + s + "\n")
	}
	fmt.Fprint(stdout, md.String())
	b, err := json.MarshalIndent(sw, "", "  ")
	if err != nil {
		return err
	}
	written := []string{filepath.Join(dir, "sweep.json"), filepath.Join(dir, "sweep.md"), filepath.Join(dir, "sweep.csv")}
	if err := os.WriteFile(written[0], append(b, '\n'), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(written[1], []byte(md.String()), 0o644); err != nil {
		return err
	}
	if err := sw.writeCSV(written[2]); err != nil {
		return err
	}
	plots, err := sweepPlots(dir, sw, rows)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nwrote %s\n", strings.Join(append(written, plots...), " "))
	return nil
}

// writeCSV stores one line per cell (every seed).
func (sw *sweepFile) writeCSV(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	_ = w.Write([]string{"policy", "budget_mb", "seed", "activations", "cold_pct", "prewarmed_pct", "cold_pct_p50_action",
		"cold_pct_p75_action", "cold_pct_p90_action", "wasted_gb_s", "loaded_gb_s", "added_exec_pct", "queue_mean_ms",
		"queue_p99_ms", "latency_p50_ms", "latency_p99_ms", "evictions", "creations", "scale_out_pct", "errors"})
	g := func(x float64) string { return strconv.FormatFloat(x, 'g', 8, 64) }
	for _, c := range sw.Cells {
		x := c.Result
		_ = w.Write([]string{c.Policy, strconv.FormatInt(c.Budget.MBs(), 10), strconv.FormatInt(c.Seed, 10), strconv.Itoa(x.Activations),
			g(x.ColdPercent), g(x.PrewarmedPercent), g(x.ColdPercentP50Action), g(x.ColdPercentP75Action), g(x.ColdPercentP90Action),
			g(x.WastedGBs), g(x.LoadedGBs), g(x.AddedExecPercent), g(x.QueueMeanMS), g(x.QueueP99MS), g(x.LatencyP50MS),
			g(x.LatencyP99MS), strconv.Itoa(x.Evictions), strconv.Itoa(x.Creations), g(x.ScaleOutPercent), strconv.Itoa(x.Errors)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
