package policy

import (
	"time"

	"github.com/stemcell-io/stemcell/config"
)

// Start is how an activation got its container, as the pool reports it.
type Start uint8

const (
	StartWarm      Start = iota // an idle container of its action
	StartPrewarmed              // a stem cell of its kind, initialised for it
	StartCold                   // a container created for it
	NumStarts                   // how many kinds of start there are
)

var startNames = [...]string{"warm", "prewarmed", "cold"}

func (s Start) String() string {
	if int(s) < len(startNames) {
		return startNames[s]
	}
	return "start?"
}

// Container is an idle container, or a ready stem cell, as a policy sees
// it. The pool fills one from its record of the container; nothing here
// refers back to the pool.
type Container struct {
	ID       string          // the pool's name for it, for logs; not interpreted
	Action   string          // the action it serves, for logs; empty for a stem cell
	Memory   config.ByteSize // what removing it gives back
	Created  time.Time       // when it was asked for
	LastUsed time.Time       // when it last went idle (its last job ended); for a stem cell, when it became ready
	PausedAt time.Time       // when its pause completed; zero while it is not paused
	StemCell bool            // a prewarmed container not yet taken by any action
	Stats    *Stats          // its action's statistics; nil for a stem cell
}

// Plan is what a keep-alive policy decides for one idle container. A zero
// time means never; a time in the past means at once, except a PauseAt for
// a container already paused, which asks for nothing.
type Plan struct {
	PauseAt  time.Time // pause it (its memory stays booked)
	RemoveAt time.Time // remove it (its memory comes back)
}

// Window is when a container of an action should be loaded ahead of its
// next call and when that loaded-ahead container should go if nothing used
// it. A zero LoadAt means no loading ahead.
type Window struct {
	LoadAt   time.Time
	UnloadAt time.Time
}

// Durations is a running total of measured durations, for a mean.
type Durations struct {
	N     uint64
	Total time.Duration
}

// Mean is the mean duration, ok false when nothing was measured.
func (d Durations) Mean() (mean time.Duration, ok bool) {
	if d.N == 0 {
		return 0, false
	}
	return d.Total / time.Duration(d.N), true
}

func (d *Durations) add(x time.Duration) {
	d.N++
	d.Total += x
}

// Stats is what the pool keeps per action for its policies: plain data, the
// zero value ready to use, updated only through Policy.Started,
// Policy.Finished and Policy.Removed so that every policy measures alike.
// One Stats belongs to one action and is used by one goroutine.
type Stats struct {
	Memory      config.ByteSize // the action's memory limit, set by the pool
	Invocations uint64          // activations started, ever
	// Starts counts the activations started, ever, by how they started
	// (Starts[StartCold] / Invocations is the action's cold-start share).
	Starts [NumStarts]uint64
	// Frequency is the activations started since the action last had no
	// container: Greedy-Dual's frequency, which starts again from 0 once its
	// last container is gone.
	Frequency uint64
	Running   int       // activations started and not finished
	LastEnd   time.Time // when its latest activation finished
	// Cold and Warm are the durations of finished cold and warm starts:
	// for a cold start from the container's creation to the end of its run,
	// for a warm one the run alone. Their difference is the cost of a cold
	// start. Prewarmed starts are measured in neither.
	Cold, Warm Durations
	// UseClock is the Greedy-Dual eviction clock when the action was last
	// started; only that policy sets it.
	UseClock float64
	// Idle is the histogram of the action's idle times; only the
	// hybrid-histogram keep-alive policy fills it.
	Idle IdleHistogram
}

// ColdCost is the measured cost of a cold start, mean cold duration minus
// mean warm duration, at least 0; ok false until both were measured.
func (s *Stats) ColdCost() (cost time.Duration, ok bool) {
	cold, okC := s.Cold.Mean()
	warm, okW := s.Warm.Mean()
	if !okC || !okW {
		return 0, false
	}
	return max(0, cold-warm), true
}

// begin counts an activation arriving at at and returns the idle time it
// ended: from the end of the action's latest activation to at, 0 when one
// is still running (the action was not idle), ok false for its first
// activation.
func (s *Stats) begin(at time.Time, start Start) (idle time.Duration, ok bool) {
	s.Invocations++
	if start < NumStarts {
		s.Starts[start]++
	}
	s.Frequency++
	running := s.Running
	s.Running++
	switch {
	case running > 0:
		return 0, true
	case s.LastEnd.IsZero():
		return 0, false
	}
	return max(0, at.Sub(s.LastEnd)), true
}

// end counts an activation finishing at at after d; d <= 0 means it was
// not measured (it failed before running).
func (s *Stats) end(at time.Time, start Start, d time.Duration) {
	if s.Running > 0 {
		s.Running--
	}
	if at.After(s.LastEnd) {
		s.LastEnd = at
	}
	if d <= 0 {
		return
	}
	switch start {
	case StartCold:
		s.Cold.add(d)
	case StartWarm:
		s.Warm.add(d)
	}
}

// IdleHistogram counts idle times in bins of Width, Counts[i] holding those
// in [i·Width, (i+1)·Width); an idle time of len(Counts)·Width or more is
// only counted in OutOfBounds. The counters saturate rather than wrap. Only
// the hybrid-histogram policy writes it (through Policy.Started): it keeps
// InRange and SumSquares in step with Counts and caches the windows it
// derives until the next idle time arrives.
type IdleHistogram struct {
	Width       time.Duration
	Counts      []uint32
	InRange     uint64 // the sum of Counts
	SumSquares  uint64 // the sum of Counts[i]², for the counts' CV in O(1)
	OutOfBounds uint64

	windows   Windows          // the windows last derived from this histogram
	windowsBy *HybridKeepAlive // the policy that derived them; nil: none yet
}

// Total is the number of idle times recorded.
func (h *IdleHistogram) Total() uint64 { return h.InRange + h.OutOfBounds }

// shape makes h a histogram of bins bins of width, emptied when it had
// another shape. It allocates only then, once per action.
func (h *IdleHistogram) shape(width time.Duration, bins int) {
	if h.Width == width && len(h.Counts) == bins {
		return
	}
	*h = IdleHistogram{Width: width, Counts: make([]uint32, bins)}
}

// record counts one idle time; h must have a shape.
func (h *IdleHistogram) record(idle time.Duration) {
	h.windowsBy = nil
	i := max(0, idle) / h.Width
	if i >= time.Duration(len(h.Counts)) {
		if h.OutOfBounds < ^uint64(0) {
			h.OutOfBounds++
		}
		return
	}
	if c := h.Counts[i]; c < ^uint32(0) {
		h.Counts[i]++
		h.InRange++
		h.SumSquares += 2*uint64(c) + 1 // (c+1)² − c²
	}
}
