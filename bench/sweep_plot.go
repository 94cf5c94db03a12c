package main

import (
	"fmt"
	"path/filepath"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// sweepPlots draws the sweep: the 75th-percentile action's cold-start %
// against the budget per policy, the same against wasted memory time (the
// Pareto view of Serverless in the Wild), and per budget the distribution
// of the actions' cold-start % per policy (all seeds pooled).
func sweepPlots(dir string, sw *sweepFile, rows []sweepRow) ([]string, error) {
	var written []string
	save := func(p *plot.Plot, name string) error {
		path := filepath.Join(dir, name)
		if err := p.Save(8*vg.Inch, 5*vg.Inch, path); err != nil {
			return fmt.Errorf("plot %s: %w", name, err)
		}
		written = append(written, path)
		return nil
	}
	byBudget := plot.New()
	byBudget.Title.Text = "Cold starts of the 75th-percentile action against memory budget"
	byBudget.X.Label.Text = "user memory (GB)"
	byBudget.Y.Label.Text = "cold-start % (p75 across actions, mean of seeds)"
	byWaste := plot.New()
	byWaste.Title.Text = "Cold starts against wasted memory time, one point per budget"
	byWaste.X.Label.Text = "wasted memory time (GB·s, mean of seeds)"
	byWaste.Y.Label.Text = "cold-start % (p75 across actions)"
	for i, p := range sw.Policies {
		var pts, waste plotter.XYs
		for _, r := range rows {
			if r.Policy == p.Name {
				pts = append(pts, plotter.XY{X: float64(r.Budget.Size) / (1 << 30), Y: r.ColdP75})
				waste = append(waste, plotter.XY{X: r.WastedGBs, Y: r.ColdP75})
			}
		}
		for _, s := range []struct {
			pl  *plot.Plot
			xys plotter.XYs
		}{{byBudget, pts}, {byWaste, waste}} {
			line, points, err := plotter.NewLinePoints(s.xys)
			if err != nil {
				return written, err
			}
			line.Color, points.Color = plotutil.Color(i), plotutil.Color(i)
			points.Shape = plotutil.Shape(i)
			s.pl.Add(line, points)
			s.pl.Legend.Add(p.Name, line, points)
		}
	}
	byBudget.Legend.Top = true
	byWaste.Legend.Top = true
	if err := save(byBudget, "cold-p75-vs-budget.png"); err != nil {
		return written, err
	}
	if err := save(byWaste, "cold-p75-vs-wasted-memory.png"); err != nil {
		return written, err
	}
	for _, b := range sw.Budgets {
		p := plot.New()
		p.Title.Text = fmt.Sprintf("Per-action cold-start %%, user memory %s", b)
		p.X.Label.Text = "cold-start % of an action"
		p.Y.Label.Text = "fraction of invoked actions (all seeds)"
		for i, pol := range sw.Policies {
			var v []float64
			for _, c := range sw.Cells {
				if c.Policy == pol.Name && c.Budget == b.Size {
					v = append(v, c.Result.ActionColdPercent...)
				}
			}
			if len(v) == 0 {
				continue
			}
			slices.Sort(v)
			pts := make(plotter.XYs, len(v))
			for j, x := range v {
				pts[j] = plotter.XY{X: x, Y: float64(j+1) / float64(len(v))}
			}
			line, err := plotter.NewLine(pts)
			if err != nil {
				return written, err
			}
			line.Color = plotutil.Color(i)
			line.Dashes = plotutil.Dashes(i)
			p.Add(line)
			p.Legend.Add(fmt.Sprintf("%s (%d actions)", pol.Name, len(v)), line)
		}
		p.Legend.Top, p.Legend.Left = true, true
		if err := save(p, fmt.Sprintf("per-action-cold-%dmb.png", b.Size.MBs())); err != nil {
			return written, err
		}
	}
	return written, nil
}
