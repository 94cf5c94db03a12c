package report

import (
	"fmt"
	"image/color"
	"path/filepath"
	"sort"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// Plots writes the run's PNG plots into dir with the given name prefix:
// latency CDF per start kind, memory over time, cold starts over time. It
// returns the paths written.
func Plots(dir, prefix string, samples []Sample, memory []MemoryPoint, s Summary) ([]string, error) {
	var written []string
	for _, p := range []struct {
		name string
		make func() (*plot.Plot, error)
	}{
		{"latency-cdf", func() (*plot.Plot, error) { return latencyCDF(samples) }},
		{"memory", func() (*plot.Plot, error) { return memoryOverTime(memory) }},
		{"cold-starts", func() (*plot.Plot, error) { return coldStarts(s) }},
	} {
		pl, err := p.make()
		if err != nil {
			return written, fmt.Errorf("plot %s: %w", p.name, err)
		}
		path := filepath.Join(dir, prefix+p.name+".png")
		if err := pl.Save(8*vg.Inch, 5*vg.Inch, path); err != nil {
			return written, fmt.Errorf("plot %s: %w", p.name, err)
		}
		written = append(written, path)
	}
	return written, nil
}

func latencyCDF(samples []Sample) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "Latency CDF by start kind"
	p.X.Label.Text = "latency (ms, log scale)"
	p.Y.Label.Text = "fraction of activations"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	byKind := map[string][]float64{}
	for _, x := range samples {
		if x.StartKind != "" {
			byKind[x.StartKind] = append(byKind[x.StartKind], max(float64(x.Latency)/float64(time.Millisecond), 0.001))
		}
	}
	kinds := make([]string, 0, len(byKind))
	for k := range byKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for i, k := range kinds {
		v := byKind[k]
		sort.Float64s(v)
		pts := make(plotter.XYs, len(v))
		for j, x := range v {
			pts[j] = plotter.XY{X: x, Y: float64(j+1) / float64(len(v))}
		}
		line, err := plotter.NewLine(pts)
		if err != nil {
			return nil, err
		}
		line.Color = plotutil.Color(i)
		p.Add(line)
		p.Legend.Add(fmt.Sprintf("%s (%d)", k, len(v)), line)
	}
	if len(kinds) == 0 {
		p.X.Scale = plot.LinearScale{}
		p.X.Tick.Marker = plot.DefaultTicks{}
	}
	p.Legend.Top, p.Legend.Left = false, true
	return p, nil
}

func memoryOverTime(memory []MemoryPoint) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "Pool memory over time"
	p.X.Label.Text = "time (s)"
	p.Y.Label.Text = "MB"
	series := []struct {
		name string
		get  func(MemoryPoint) float64
	}{
		{"in use", func(m MemoryPoint) float64 { return m.InUseMB }},
		{"busy", func(m MemoryPoint) float64 { return m.BusyMB }},
		{"idle", func(m MemoryPoint) float64 { return m.IdleMB }},
		{"prewarmed", func(m MemoryPoint) float64 { return m.PrewarmedMB }},
	}
	for i, s := range series {
		pts := make(plotter.XYs, len(memory))
		for j, m := range memory {
			pts[j] = plotter.XY{X: m.At.Seconds(), Y: s.get(m)}
		}
		line, err := plotter.NewLine(pts)
		if err != nil {
			return nil, err
		}
		line.Color = plotutil.Color(i)
		p.Add(line)
		p.Legend.Add(s.name, line)
	}
	p.Legend.Top = true
	return p, nil
}

func coldStarts(s Summary) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "Cold starts over time"
	p.X.Label.Text = "time (s)"
	p.Y.Label.Text = "cold starts per second"
	pts := make(plotter.XYs, len(s.ColdStartsPerSec))
	for i, n := range s.ColdStartsPerSec {
		pts[i] = plotter.XY{X: float64(i), Y: n}
	}
	line, err := plotter.NewLine(pts)
	if err != nil {
		return nil, err
	}
	line.Color = color.RGBA{R: 200, A: 255}
	p.Add(line)
	return p, nil
}
