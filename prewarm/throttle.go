package prewarm

import (
	"time"

	"github.com/stemcell-io/stemcell/config"
)

// Throttle bounds prewarm creation: at most MaxConcurrent in flight, and
// rounds of creation at least Delay apart. MaxConcurrent <= 0 means no
// throttle (the factory's own parallelism is the only bound).
type Throttle struct {
	MaxConcurrent int
	Delay         time.Duration
}

func throttleOf(c *config.PrewarmContainerCreationConfig) Throttle {
	if c == nil {
		return Throttle{}
	}
	return Throttle{MaxConcurrent: c.MaxConcurrent, Delay: c.CreationDelay}
}

func (t Throttle) enabled() bool { return t.MaxConcurrent > 0 }

// RoundInput is the scheduler's state as the round decision sees it.
type RoundInput struct {
	Queued   int // creations waiting to start
	InFlight int // creations started: memory requested or container being created
	Now      time.Time
	// LastRound is when the last round that started something began; zero
	// when there was none.
	LastRound time.Time
	// MemoryRefused is set after the pool refused memory, until the next
	// round, check or capacity change.
	MemoryRefused bool
	Failures      int // consecutive failed creations since the last check or success
	RetryLimit    int // prewarm-max-retry-limit; <= 0: no limit
}

// RoundPlan says how many queued creations to start now, and when to plan
// again if nothing else (a completion, a capacity change, a check) prompts
// it first. A zero WakeAt means no wake-up is needed.
type RoundPlan struct {
	Start  int
	WakeAt time.Time
}

// PlanRound decides one round. With a throttle, a round starts at most
// MaxConcurrent - InFlight creations and only Delay after the previous one;
// when work remains it asks to be woken for the next round. Once the retry
// limit is reached nothing starts until a check resets the failures; after
// a failure (but before the limit) the creations in flight count against
// the remaining budget, so a broken image costs at most RetryLimit attempts
// once it has shown itself, however wide the throttle.
func PlanRound(t Throttle, in RoundInput) RoundPlan {
	if in.Queued <= 0 {
		return RoundPlan{}
	}
	budget := retryBudget(in.Failures, in.InFlight, in.RetryLimit)
	if budget == 0 {
		return RoundPlan{}
	}
	if !t.enabled() {
		if in.MemoryRefused {
			return RoundPlan{}
		}
		return RoundPlan{Start: min(in.Queued, budget)}
	}
	if in.MemoryRefused {
		// Retry on the next round, never sooner than the spacing allows.
		next := in.LastRound.Add(t.Delay)
		if next.Before(in.Now) {
			next = in.Now
		}
		return RoundPlan{WakeAt: next}
	}
	if !in.LastRound.IsZero() {
		if next := in.LastRound.Add(t.Delay); in.Now.Before(next) {
			return RoundPlan{WakeAt: next}
		}
	}
	start := min(in.Queued, t.MaxConcurrent-in.InFlight, budget)
	if start <= 0 {
		// Full: a completion plans the next round.
		return RoundPlan{}
	}
	plan := RoundPlan{Start: start}
	if in.Queued > start {
		plan.WakeAt = in.Now.Add(t.Delay)
	}
	return plan
}

// retryBudget is how many more creations may start under the retry limit;
// "no bound" is the largest int, so callers can take a min.
func retryBudget(failures, inFlight, limit int) int {
	const unlimited = int(^uint(0) >> 1)
	switch {
	case limit <= 0 || failures == 0:
		return unlimited
	case failures >= limit:
		return 0
	default:
		return max(limit-failures-inFlight, 0)
	}
}
