package workload

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Uniform describes the simple workloads: Functions functions of equal
// popularity, each with the same memory and execution time.
type Uniform struct {
	Seed      int64
	Rate      float64 // total arrivals per second
	Duration  time.Duration
	Functions int
	MemoryMB  int
	Exec      time.Duration
}

func (u Uniform) check() error {
	if err := validateCommon(u.Rate, u.Duration); err != nil {
		return err
	}
	if u.Functions < 1 {
		return fmt.Errorf("workload: functions %d is invalid: must be >= 1", u.Functions)
	}
	return nil
}

func (u Uniform) functions() []Function {
	fs := make([]Function, u.Functions)
	for i := range fs {
		fs[i] = Function{Name: fmt.Sprintf("f%04d", i), MemoryMB: u.MemoryMB, Rate: u.Rate / float64(u.Functions), ExecMedian: u.Exec}
	}
	return fs
}

func newRand(seed int64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), 0x5745_4d43_454c_4c))
}

// Constant sends arrivals evenly spaced at the rate, functions in turn.
func Constant(u Uniform) (*Workload, error) {
	if err := u.check(); err != nil {
		return nil, err
	}
	w := &Workload{Name: "constant", Seed: u.Seed, Duration: u.Duration, Functions: u.functions()}
	gap := time.Duration(float64(time.Second) / u.Rate)
	for i, at := 0, time.Duration(0); at < u.Duration; i, at = i+1, at+gap {
		w.Arrivals = append(w.Arrivals, Arrival{At: at, Function: i % u.Functions, Exec: u.Exec})
	}
	return w, nil
}

// Poisson sends arrivals with exponential gaps of mean 1/rate, each to a
// function drawn uniformly.
func Poisson(u Uniform) (*Workload, error) {
	if err := u.check(); err != nil {
		return nil, err
	}
	r := newRand(u.Seed)
	w := &Workload{Name: "poisson", Seed: u.Seed, Duration: u.Duration, Functions: u.functions()}
	for at := expGap(r, u.Rate); at < u.Duration; at += expGap(r, u.Rate) {
		w.Arrivals = append(w.Arrivals, Arrival{At: at, Function: r.IntN(u.Functions), Exec: u.Exec})
	}
	return w, nil
}

// OnOff alternates bursts and silences: Poisson arrivals at Rate during On,
// none during Off, starting with a burst.
type OnOff struct {
	Uniform
	On, Off time.Duration
}

// Bursts generates an on/off workload.
func Bursts(o OnOff) (*Workload, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	if o.On <= 0 || o.Off < 0 {
		return nil, fmt.Errorf("workload: on %s / off %s is invalid: on must be > 0 and off >= 0", o.On, o.Off)
	}
	r := newRand(o.Seed)
	w := &Workload{Name: "onoff", Seed: o.Seed, Duration: o.Duration, Functions: o.functions()}
	period := o.On + o.Off
	for start := time.Duration(0); start < o.Duration; start += period {
		end := min(start+o.On, o.Duration)
		for at := start + expGap(r, o.Rate); at < end; at += expGap(r, o.Rate) {
			w.Arrivals = append(w.Arrivals, Arrival{At: at, Function: r.IntN(o.Functions), Exec: o.Exec})
		}
	}
	return w, nil
}

func expGap(r *rand.Rand, rate float64) time.Duration {
	return time.Duration(r.ExpFloat64() / rate * float64(time.Second))
}
