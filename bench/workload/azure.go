package workload

import (
	"fmt"
	"math"
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
//   - the total rate swings like a day: rate(t) = Rate * (1 + Swing*sin(2πt/Period)).
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
}

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
	}
	return nil
}

// GenerateAzure builds the Azure-shaped workload.
func GenerateAzure(a Azure) (*Workload, error) {
	if err := a.check(); err != nil {
		return nil, err
	}
	r := newRand(a.Seed)
	w := &Workload{Name: "azure", Seed: a.Seed, Duration: a.Duration, Functions: make([]Function, a.Functions)}

	weights := make([]float64, a.Functions)
	var sum float64
	for i := range weights {
		weights[i] = math.Exp(a.RateSigma * r.NormFloat64())
		sum += weights[i]
	}
	cum := make([]float64, a.Functions)
	var acc float64
	for i := range w.Functions {
		share := weights[i] / sum
		acc += share
		cum[i] = acc
		median := time.Duration(float64(a.ExecMedian) * math.Exp(a.ExecSigma*r.NormFloat64()))
		w.Functions[i] = Function{
			Name:       fmt.Sprintf("az%05d", i),
			MemoryMB:   a.MemoryMB[pick(r.Float64(), a.MemoryWeights)],
			Rate:       a.Rate * share,
			ExecMedian: clampDuration(median, a.ExecMin, a.ExecMax),
		}
	}

	period := a.Period
	if period <= 0 {
		period = a.Duration
	}
	peak := a.Rate * (1 + a.Swing)
	// Thinning: a homogeneous process at the peak rate, each arrival kept
	// with probability rate(t)/peak, gives the swinging rate exactly.
	for at := expGap(r, peak); at < a.Duration; at += expGap(r, peak) {
		level := 1 + a.Swing*math.Sin(2*math.Pi*float64(at)/float64(period))
		if r.Float64()*(1+a.Swing) > level {
			continue
		}
		f := sort.SearchFloat64s(cum, r.Float64()*acc)
		f = min(f, a.Functions-1)
		exec := time.Duration(float64(w.Functions[f].ExecMedian) * math.Exp(a.InvocationSigma*r.NormFloat64()))
		w.Arrivals = append(w.Arrivals, Arrival{At: at, Function: f, Exec: clampDuration(exec, a.ExecMin, a.ExecMax)})
	}
	return w, nil
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
