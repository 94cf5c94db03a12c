package policy

import (
	"errors"
	"math"
	"time"
)

// HybridKeepAlive is the hybrid histogram policy of Serverless in the Wild
// (Shahrad et al., ATC'20), applied per action. Every idle time of an
// action (from the end of its latest activation to the arrival of the next;
// 0 when one was still running) goes into a histogram of Bins bins of
// BinWidth, or into its out-of-bounds count when it is longer than the
// range. From the histogram come two windows, counted from the end of the
// action's latest activation: the pre-warm window (how long to wait before
// loading a container again) and the keep-alive window (how long that
// container then stays). Windows tells which rule applies and why.
//
// For actions with too many out-of-bounds idle times the paper predicts the
// next idle time with ARIMA; this policy does not, and keeps their
// containers for the fixed OutOfBoundsKeepAlive instead (a pre-warm window
// of 0).
type HybridKeepAlive struct {
	pauseGrace time.Duration
	o          HybridOptions
}

// NewHybridKeepAlive checks o.PauseGrace and o.Hybrid.
func NewHybridKeepAlive(o Options) (*HybridKeepAlive, error) {
	if err := errors.Join(o.validateCommon(), o.Hybrid.validate()); err != nil {
		return nil, err
	}
	return &HybridKeepAlive{pauseGrace: o.PauseGrace, o: o.Hybrid}, nil
}

func (*HybridKeepAlive) Name() string { return HybridHistogram }

// Observe records the idle time in st.Idle, giving it this policy's shape
// first if it has none (one allocation per action).
func (k *HybridKeepAlive) Observe(st *Stats, idle time.Duration) {
	st.Idle.shape(k.o.BinWidth, k.o.Bins)
	st.Idle.record(idle)
}

// Mode is which rule of the hybrid policy gave an action's windows.
type Mode uint8

const (
	ModeTooFew      Mode = iota // fewer than MinObservations idle times: FallbackKeepAlive
	ModeOutOfBounds             // at least MaxOutOfBounds of them beyond the range: OutOfBoundsKeepAlive
	ModeUncertain               // bin counts' CV below CVThreshold: FallbackKeepAlive
	ModeHistogram               // windows from the head and tail percentiles
)

var modeNames = [...]string{"too-few", "out-of-bounds", "uncertain", "histogram"}

func (m Mode) String() string {
	if int(m) < len(modeNames) {
		return modeNames[m]
	}
	return "mode?"
}

// Windows are an action's pre-warm and keep-alive windows. With PreWarm 0
// a container is not unloaded: it stays KeepAlive after the end of the
// action's latest activation. With PreWarm > 0 it is unloaded at once, one
// is loaded again PreWarm after that end and stays KeepAlive more.
type Windows struct {
	Mode      Mode
	PreWarm   time.Duration
	KeepAlive time.Duration
	CV        float64 // of the bin counts; 0 unless Mode is ModeUncertain or ModeHistogram
}

// Windows are st's windows. They are derived once per idle time recorded,
// in one pass over the bins up to the tail's at most, and cached in
// st.Idle until the next; nothing allocates.
func (k *HybridKeepAlive) Windows(st *Stats) Windows {
	h := &st.Idle
	if h.windowsBy == k {
		return h.windows
	}
	w := k.derive(h)
	if len(h.Counts) > 0 {
		h.windows, h.windowsBy = w, k
	}
	return w
}

func (k *HybridKeepAlive) derive(h *IdleHistogram) Windows {
	if len(h.Counts) != k.o.Bins || h.Width != k.o.BinWidth {
		// Never observed by this policy: no idle time recorded yet.
		return Windows{Mode: ModeTooFew, KeepAlive: k.o.FallbackKeepAlive}
	}
	total := h.Total()
	if total < uint64(k.o.MinObservations) {
		return Windows{Mode: ModeTooFew, KeepAlive: k.o.FallbackKeepAlive}
	}
	if float64(h.OutOfBounds) >= k.o.MaxOutOfBounds*float64(total) {
		return Windows{Mode: ModeOutOfBounds, KeepAlive: k.o.OutOfBoundsKeepAlive}
	}
	cv := binCV(h)
	if cv < k.o.CVThreshold {
		return Windows{Mode: ModeUncertain, KeepAlive: k.o.FallbackKeepAlive, CV: cv}
	}
	headBin, tailBin := percentileBins(h, k.o.HeadPercentile, k.o.TailPercentile)
	// The head is its bin's lower edge, the tail its bin's upper edge; the
	// margin loads a little earlier and keeps a little longer.
	head := time.Duration(headBin) * h.Width
	tail := time.Duration(tailBin+1) * h.Width
	end := scale(tail, 1+k.o.Margin)
	if headBin == 0 {
		return Windows{Mode: ModeHistogram, KeepAlive: end, CV: cv}
	}
	pw := scale(head, 1-k.o.Margin)
	return Windows{Mode: ModeHistogram, PreWarm: pw, KeepAlive: end - pw, CV: cv}
}

func scale(d time.Duration, f float64) time.Duration {
	return time.Duration(math.Round(float64(d) * f))
}

// binCV is the coefficient of variation (population standard deviation
// over mean) of the bin counts, empty bins included; h holds at least one
// idle time in range. With n bins and N idle times in range it is
// sqrt(n·Σc² − N²) / N: the same quantity with one rounding instead of
// several, so that a histogram exactly at the threshold is not pushed
// under it by rounding, and O(1) from the sums record keeps.
func binCV(h *IdleHistogram) float64 {
	total := float64(h.InRange)
	spread := max(0, float64(len(h.Counts))*float64(h.SumSquares)-total*total)
	return math.Sqrt(spread) / total
}

// percentileBins are the bins holding the head and tail percentiles of the
// idle times in range: the p-th percentile is the idle time of rank
// ceil(p/100 × n) (at least 1) in increasing order, n the count in range.
func percentileBins(h *IdleHistogram, headP, tailP float64) (head, tail int) {
	n := float64(h.InRange)
	headRank := uint64(max(1, math.Ceil(headP*n/100)))
	tailRank := uint64(max(1, min(n, math.Ceil(tailP*n/100))))
	head = -1
	var cum uint64
	for i, c := range h.Counts {
		cum += uint64(c)
		if head < 0 && cum >= headRank {
			head = i
		}
		if cum >= tailRank {
			return head, i
		}
	}
	// Unreachable while InRange is the sum of Counts; stay in range.
	last := len(h.Counts) - 1
	return max(head, 0), last
}

// Idle follows c's action's windows: with a pre-warm window the container
// goes at once (one is loaded again by PreWarm); without, it stays the
// keep-alive window after its last job, paused after the pause grace.
func (k *HybridKeepAlive) Idle(_ time.Time, c Container) Plan {
	if c.Stats == nil {
		return fixedPlan(c.LastUsed, k.pauseGrace, k.o.FallbackKeepAlive)
	}
	w := k.Windows(c.Stats)
	if w.PreWarm > 0 {
		return Plan{RemoveAt: c.LastUsed}
	}
	return fixedPlan(c.LastUsed, k.pauseGrace, w.KeepAlive)
}

// PreWarm is [LastEnd + PreWarm, LastEnd + PreWarm + KeepAlive] when the
// action has a pre-warm window, nothing of it runs and the window has not
// passed yet.
func (k *HybridKeepAlive) PreWarm(now time.Time, st *Stats) Window {
	if st.Running > 0 || st.LastEnd.IsZero() {
		return Window{}
	}
	w := k.Windows(st)
	if w.PreWarm <= 0 {
		return Window{}
	}
	load := st.LastEnd.Add(w.PreWarm)
	unload := load.Add(w.KeepAlive)
	if !unload.After(now) {
		return Window{}
	}
	return Window{LoadAt: load, UnloadAt: unload}
}
