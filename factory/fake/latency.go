package fake

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"
)

// Latency is how long an operation takes: Fixed plus a uniform draw from
// [0, Jitter), or whatever Dist returns when it is set. The zero value takes
// no time and costs nothing.
type Latency struct {
	Fixed  time.Duration
	Jitter time.Duration
	// Dist, when set, replaces Fixed and Jitter (e.g. a log-normal fitted
	// to measured engine latencies). It is called under the fake's random
	// source lock.
	Dist func(r *rand.Rand) time.Duration
}

func (l Latency) zero() bool { return l.Fixed <= 0 && l.Jitter <= 0 && l.Dist == nil }

// Latencies holds one Latency per operation.
type Latencies struct {
	Create, Init, Run, Suspend, Resume, Logs, Destroy Latency
}

func (ls Latencies) byOp() [numOps]Latency {
	return [numOps]Latency{ls.Create, ls.Init, ls.Run, ls.Suspend, ls.Resume, ls.Logs, ls.Destroy}
}

// Clock is the part of actors.Clock the fake needs; actors.RealClock and
// actors.FakeClock satisfy it. It is declared here because factory packages
// must not import actors.
type Clock interface {
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

// sampler draws latencies from one seeded source, so a benchmark run is
// reproducible for a given seed.
type sampler struct {
	mu sync.Mutex
	r  *rand.Rand
}

func newSampler(seed uint64) *sampler {
	return &sampler{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

func (s *sampler) draw(l Latency) time.Duration {
	if l.Dist == nil && l.Jitter <= 0 {
		return l.Fixed
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if l.Dist != nil {
		return max(l.Dist(s.r), 0)
	}
	return l.Fixed + time.Duration(s.r.Int64N(int64(l.Jitter)))
}

// wait spends d, on clock when one is given, else on a real timer, and
// gives up when ctx ends. The simulated work is the waiting itself.
func wait(ctx context.Context, clock Clock, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	if clock != nil {
		done := make(chan struct{})
		stop := clock.AfterFunc(d, func() { close(done) })
		select {
		case <-done:
			return nil
		case <-ctx.Done():
			stop()
			return ctx.Err()
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
