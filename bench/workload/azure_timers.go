package workload

import (
	"container/heap"
	"math"
	"math/rand/v2"
	"time"
)

// timerFiring is a timer-triggered function's next arrival.
type timerFiring struct {
	at, base, period time.Duration // at = base ± jitter
	fn               int
}

type timerHeap []timerFiring

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].fn < h[j].fn
}
func (h timerHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)   { *h = append(*h, x.(timerFiring)) }
func (h *timerHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// timerJitter is how far a firing may stray from its period.
const timerJitter = time.Second

// addTimers makes a share of the functions timer-triggered, on a source of
// their own (so a share of 0 leaves the workload as it was), and gives the
// others the whole Rate by their weights.
func (st *AzureStream) addTimers(weights []float64) {
	a := st.a
	if a.TimerShare <= 0 {
		return
	}
	periods := a.TimerPeriods
	if len(periods) == 0 {
		periods = DefaultTimerPeriods
	}
	st.tr = rand.New(rand.NewPCG(uint64(a.Seed), 0x74696d6572))
	var sum float64
	timer := make([]bool, len(weights))
	for i := range weights {
		if st.tr.Float64() < a.TimerShare {
			timer[i] = true
			p := periods[st.tr.IntN(len(periods))]
			st.Functions[i].Rate, st.Functions[i].Period = 1/p.Seconds(), p
			st.push(timerFiring{base: time.Duration(st.tr.Float64() * float64(p)), period: p, fn: i})
			continue
		}
		sum += weights[i]
	}
	st.acc = 0
	for i, w := range weights {
		if !timer[i] {
			st.acc += w / sum
			st.Functions[i].Rate = a.Rate * w / sum
		}
		st.cum[i] = st.acc
	}
}

// push schedules f at its base time within the jitter, if that falls in
// the run.
func (st *AzureStream) push(f timerFiring) {
	f.at = max(f.base+time.Duration((st.tr.Float64()-0.5)*float64(timerJitter)), 0)
	if f.at < st.a.Duration {
		heap.Push(&st.timers, f)
	}
}

// nextTimer takes the earliest timer firing and schedules the function's
// next one.
func (st *AzureStream) nextTimer() Arrival {
	f := heap.Pop(&st.timers).(timerFiring)
	fn := st.Functions[f.fn]
	exec := time.Duration(float64(fn.ExecMedian) * math.Exp(st.a.InvocationSigma*st.tr.NormFloat64()))
	st.push(timerFiring{base: f.base + f.period, period: f.period, fn: f.fn})
	return Arrival{At: f.at, Function: f.fn, Exec: clampDuration(exec, st.a.ExecMin, st.a.ExecMax)}
}
