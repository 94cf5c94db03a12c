package workload

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"
)

// Azure describes a heavy-tailed mix of many functions shaped like the
// published statistics of the Azure Functions 2019 trace (Shahrad et al.,
// "Serverless in the Wild", USENIX ATC 2020):
//   - per-function mean rates are log-normal with a wide spread (RateSigma in
//     natural-log units; 2.5 spans about five orders of magnitude between the
//     1st and 99th percentile), so most functions are invoked rarely and a few
//     carry most of the load;
//   - median execution times per function are log-normal (ExecMedian,
//     ExecSigma), clamped to [ExecMin, ExecMax], about 10 ms to seconds; each
//     invocation varies around its function's median by InvocationSigma;
//   - memory sizes are drawn from MemoryMB with MemoryWeights (the trace:
//     half the apps use under ~170 MB, 90% under 400 MB);
//   - the total rate swings like a day: rate(t) = Rate * (1 + Swing*sin(2πt/Period));
//   - a share TimerShare of the functions are timer-triggered (the trace:
//     15.6 % of functions, 95 % of them at most once a minute): they fire
//     every period of TimerPeriods (drawn per function) from a random phase,
//     within half a second, whatever the swing; the others share Rate.
type Azure struct {
	Seed            int64
	Functions       int
	Rate            float64 // mean total arrivals per second
	Duration        time.Duration
	RateSigma       float64
	ExecMedian      time.Duration
	ExecSigma       float64
	ExecMin         time.Duration
	ExecMax         time.Duration
	InvocationSigma float64
	MemoryMB        []int
	MemoryWeights   []float64
	Swing           float64       // 0 <= Swing < 1
	Period          time.Duration // zero: the whole run is one "day"
	TimerShare      float64       // 0 <= TimerShare <= 1
	TimerPeriods    []time.Duration
}

// DefaultTimerPeriods are the periods of timer-triggered functions.
var DefaultTimerPeriods = []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour}

// DefaultAzure returns the documented default parameters.
func DefaultAzure() Azure {
	return Azure{
		Seed: 1, Functions: 1000, Rate: 200, Duration: time.Minute,
		RateSigma: 2.5, ExecMedian: 300 * time.Millisecond, ExecSigma: 1.2,
		ExecMin: 10 * time.Millisecond, ExecMax: 5 * time.Second, InvocationSigma: 0.3,
		MemoryMB: []int{128, 256, 512}, MemoryWeights: []float64{0.5, 0.35, 0.15},
		Swing: 0.5,
	}
}

func (a Azure) check() error {
	if err := validateCommon(a.Rate, a.Duration); err != nil {
		return err
	}
	switch {
	case a.Functions < 1:
		return fmt.Errorf("workload: azure functions %d is invalid: must be >= 1", a.Functions)
	case a.Swing < 0 || a.Swing >= 1:
		return fmt.Errorf("workload: azure swing %g is invalid: must be >= 0 and < 1", a.Swing)
	case len(a.MemoryMB) == 0 || len(a.MemoryMB) != len(a.MemoryWeights):
		return fmt.Errorf("workload: azure memory sizes %v and weights %v are invalid: need the same non-zero length", a.MemoryMB, a.MemoryWeights)
	case a.ExecMin <= 0 || a.ExecMax < a.ExecMin:
		return fmt.Errorf("workload: azure exec range [%s, %s] is invalid: need 0 < min <= max", a.ExecMin, a.ExecMax)
	case a.TimerShare < 0 || a.TimerShare > 1:
		return fmt.Errorf("workload: azure timer share %g is invalid: must be >= 0 and <= 1", a.TimerShare)
	}
	for _, p := range a.TimerPeriods {
		if p < time.Second {
			return fmt.Errorf("workload: azure timer period %s is invalid: must be >= 1s", p)
		}
	}
	return nil
}

// GenerateAzure builds the Azure-shaped workload.
func GenerateAzure(a Azure) (*Workload, error) {
	st, err := NewAzureStream(a)
	if err != nil {
		return nil, err
	}
	w := &Workload{Name: "azure", Seed: a.Seed, Duration: a.Duration, Functions: st.Functions}
	for x, ok := st.Next(); ok; x, ok = st.Next() {
		w.Arrivals = append(w.Arrivals, x)
	}
	return w, nil
}

// AzureStream gives the Azure-shaped workload's arrivals one at a time, in
// time order, without holding them: the same arrivals as GenerateAzure, for
// runs too long to keep them all (hours of simulated traffic).
type AzureStream struct {
	// Functions are the workload's functions, drawn up front.
	Functions []Function
	a         Azure
	r         *rand.Rand
	cum       []float64
	acc       float64
	period    time.Duration
	peak      float64
	at        time.Duration
	timers    timerHeap  // timer-triggered functions' next firings
	tr        *rand.Rand // their draws, apart from the main source
	pending   Arrival    // the next Poisson arrival, drawn ahead
	hasNext   bool       // pending holds one
	drained   bool       // no Poisson arrival is left
}

// NewAzureStream draws the functions and readies the arrivals.
func NewAzureStream(a Azure) (*AzureStream, error) {
	if err := a.check(); err != nil {
		return nil, err
	}
	r := newRand(a.Seed)
	st := &AzureStream{a: a, r: r, Functions: make([]Function, a.Functions), cum: make([]float64, a.Functions)}
	weights := make([]float64, a.Functions)
	var sum float64
	for i := range weights {
		weights[i] = math.Exp(a.RateSigma * r.NormFloat64())
		sum += weights[i]
	}
	for i := range st.Functions {
		share := weights[i] / sum
		st.acc += share
		st.cum[i] = st.acc
		median := time.Duration(float64(a.ExecMedian) * math.Exp(a.ExecSigma*r.NormFloat64()))
		st.Functions[i] = Function{
			Name:       fmt.Sprintf("az%05d", i),
			MemoryMB:   a.MemoryMB[pick(r.Float64(), a.MemoryWeights)],
			Rate:       a.Rate * share,
			ExecMedian: clampDuration(median, a.ExecMin, a.ExecMax),
		}
	}
	st.period = a.Period
	if st.period <= 0 {
		st.period = a.Duration
	}
	st.peak = a.Rate * (1 + a.Swing)
	st.addTimers(weights)
	return st, nil
}

// Next returns the next arrival; ok is false after the last.
func (st *AzureStream) Next() (Arrival, bool) {
	if !st.hasNext && !st.drained {
		st.pending, st.hasNext = st.nextPoisson()
		st.drained = !st.hasNext
	}
	if len(st.timers) > 0 && (!st.hasNext || st.timers[0].at < st.pending.At) {
		return st.nextTimer(), true
	}
	if st.hasNext {
		st.hasNext = false
		return st.pending, true
	}
	return Arrival{}, false
}

// nextPoisson draws the next arrival of the functions that are not timers.
func (st *AzureStream) nextPoisson() (Arrival, bool) {
	a, r := st.a, st.r
	if st.acc <= 0 {
		return Arrival{}, false
	}
	// Thinning: a homogeneous process at the peak rate, each arrival kept
	// with probability rate(t)/peak, gives the swinging rate exactly.
	for {
		st.at += expGap(r, st.peak)
		if st.at >= a.Duration {
			st.at = a.Duration
			return Arrival{}, false
		}
		level := 1 + a.Swing*math.Sin(2*math.Pi*float64(st.at)/float64(st.period))
		if r.Float64()*(1+a.Swing) > level {
			continue
		}
		f := sort.SearchFloat64s(st.cum, r.Float64()*st.acc)
		f = min(f, a.Functions-1)
		exec := time.Duration(float64(st.Functions[f].ExecMedian) * math.Exp(a.InvocationSigma*r.NormFloat64()))
		return Arrival{At: st.at, Function: f, Exec: clampDuration(exec, a.ExecMin, a.ExecMax)}, true
	}
}

func pick(u float64, weights []float64) int {
	var total float64
	for _, x := range weights {
		total += x
	}
	u *= total
	for i, x := range weights {
		if u < x {
			return i
		}
		u -= x
	}
	return len(weights) - 1
}

func clampDuration(d, lo, hi time.Duration) time.Duration {
	return max(lo, min(d, hi))
}
