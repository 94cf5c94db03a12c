package report

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// StartKinds is the order in which tables list the start kinds; kinds not
// named here (e.g. a daemon's "unknown") follow in alphabetical order.
var StartKinds = []string{"warm", "prewarmed", "cold", "recreated"}

// WriteTable prints every figure of s as an aligned two-column table under
// the title.
func WriteTable(w io.Writer, title string, s Summary) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "  %s\t%s\n", k, v) }
	fmt.Fprintf(tw, "%s\n", title)
	row("activations", fmt.Sprintf("%d in %s", s.Activations, s.Wall.Round(time.Millisecond)))
	row("throughput", fmt.Sprintf("%.1f/s", s.Throughput))
	row("latency", percentileCell(s.Latency))
	for _, k := range kindOrder(s.ByStartKind) {
		row("  "+k, percentileCell(s.ByStartKind[k]))
	}
	row("cold starts", fmt.Sprintf("%.2f%% (p75 function %.1f%%)", s.ColdStartPct, s.ColdStartPctP75))
	row("prewarm hit ratio", fmt.Sprintf("%.3f", s.PrewarmHitRatio))
	row("buffer wait", percentileCell(s.BufferWait))
	for _, k := range kindOrder(s.WaitByStartKind) {
		row("  "+k, percentileCell(s.WaitByStartKind[k]))
	}
	row("evictions", fmt.Sprintf("%d", s.Evictions))
	row("memory", fmt.Sprintf("peak %.0f MB, mean %.0f MB, mean idle %.0f MB", s.PeakMemoryMB, s.MeanMemoryMB, s.MeanIdleMB))
	row("wasted idle memory", fmt.Sprintf("%.2f GB·s", s.WastedIdleGBs))
	row("errors", errorsCell(s.ErrorsByStatus))
	return tw.Flush()
}

// WriteComparison prints the figures of two runs side by side with B/A.
func WriteComparison(w io.Writer, labelA, labelB string, rows []Ratio) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "figure\t%s\t%s\tB/A\t\n", labelA, labelB)
	for _, r := range rows {
		ratio := "-"
		if r.A != 0 {
			ratio = fmt.Sprintf("%.3f", r.Ratio)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", r.Figure, number(r.A), number(r.B), ratio)
	}
	return tw.Flush()
}

func number(v float64) string {
	switch {
	case v == float64(int64(v)) && v < 1e15 && v > -1e15:
		return fmt.Sprintf("%d", int64(v))
	case v >= 100 || v <= -100:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.3f", v)
	}
}

// FormatPercentiles is how tables show a distribution in milliseconds.
func FormatPercentiles(p Percentiles) string { return percentileCell(p) }

// KindOrder lists the start kinds of m in table order.
func KindOrder(m map[string]Percentiles) []string { return kindOrder(m) }

func percentileCell(p Percentiles) string {
	if p.Count == 0 {
		return "-"
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }
	return fmt.Sprintf("n=%d  p50 %s  p90 %s  p99 %s  max %s ms", p.Count, ms(p.P50), ms(p.P90), ms(p.P99), ms(p.Max))
}

func errorsCell(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

func kindOrder(m map[string]Percentiles) []string {
	var out []string
	seen := map[string]bool{}
	for _, k := range StartKinds {
		if _, ok := m[k]; ok {
			out = append(out, k)
			seen[k] = true
		}
	}
	var rest []string
	for k := range m {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}
