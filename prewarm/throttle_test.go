package prewarm

import (
	"testing"
	"time"
)

func TestPlanRound(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	sec := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	thr := Throttle{MaxConcurrent: 2, Delay: 5 * time.Second}
	none := Throttle{}
	tests := []struct {
		name string
		thr  Throttle
		in   RoundInput
		want RoundPlan
	}{
		{"empty queue", thr, RoundInput{Now: sec(0)}, RoundPlan{}},
		{"unthrottled starts everything", none, RoundInput{Queued: 10, InFlight: 3, Now: sec(0)}, RoundPlan{Start: 10}},
		{"unthrottled waits after a refusal", none, RoundInput{Queued: 4, Now: sec(0), MemoryRefused: true}, RoundPlan{}},
		{"first round starts max-concurrent and wakes after the delay", thr,
			RoundInput{Queued: 10, Now: sec(0)}, RoundPlan{Start: 2, WakeAt: sec(5)}},
		{"too soon: wait for the delay", thr,
			RoundInput{Queued: 8, Now: sec(3), LastRound: sec(0)}, RoundPlan{WakeAt: sec(5)}},
		{"due: start what the free slots allow", thr,
			RoundInput{Queued: 8, InFlight: 1, Now: sec(5), LastRound: sec(0)}, RoundPlan{Start: 1, WakeAt: sec(10)}},
		{"due but full: a completion plans the next round", thr,
			RoundInput{Queued: 8, InFlight: 2, Now: sec(6), LastRound: sec(0)}, RoundPlan{}},
		{"last of the queue needs no wake-up", thr,
			RoundInput{Queued: 1, Now: sec(10), LastRound: sec(0)}, RoundPlan{Start: 1}},
		{"refused: retry at the next round", thr,
			RoundInput{Queued: 3, Now: sec(1), LastRound: sec(0), MemoryRefused: true}, RoundPlan{WakeAt: sec(5)}},
		{"refused long ago: retry now", thr,
			RoundInput{Queued: 3, Now: sec(9), LastRound: sec(0), MemoryRefused: true}, RoundPlan{WakeAt: sec(9)}},
		{"retry limit reached: nothing until the check", none,
			RoundInput{Queued: 5, Now: sec(0), Failures: 3, RetryLimit: 3}, RoundPlan{}},
		{"retry limit reached, throttled: no wake-up either", thr,
			RoundInput{Queued: 5, Now: sec(9), LastRound: sec(0), Failures: 4, RetryLimit: 3}, RoundPlan{}},
		{"after a failure in-flight attempts use the budget", none,
			RoundInput{Queued: 5, InFlight: 1, Now: sec(0), Failures: 1, RetryLimit: 3}, RoundPlan{Start: 1}},
		{"budget spent by in-flight attempts", none,
			RoundInput{Queued: 5, InFlight: 2, Now: sec(0), Failures: 1, RetryLimit: 3}, RoundPlan{}},
		{"no failure yet: full width", none,
			RoundInput{Queued: 5, InFlight: 4, Now: sec(0), RetryLimit: 3}, RoundPlan{Start: 5}},
		{"no retry limit", none,
			RoundInput{Queued: 5, Now: sec(0), Failures: 100}, RoundPlan{Start: 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PlanRound(tt.thr, tt.in); got != tt.want {
				t.Errorf("PlanRound(%+v) = {Start %d, WakeAt %v}, want {Start %d, WakeAt %v}",
					tt.in, got.Start, got.WakeAt.Sub(t0), tt.want.Start, tt.want.WakeAt.Sub(t0))
			}
		})
	}
}

// TestPlanRoundInvariant drives PlanRound the way the actor does, with
// creations that take a varying time, and checks invariant 6 on every step.
func TestPlanRoundInvariant(t *testing.T) {
	thr := Throttle{MaxConcurrent: 2, Delay: 5 * time.Second}
	for _, hold := range []time.Duration{time.Second, 5 * time.Second, 7 * time.Second, 23 * time.Second} {
		t.Run(hold.String(), func(t *testing.T) {
			t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			queued, done := 10, 0
			var inFlight []time.Time // completion times
			var last time.Time
			var rounds []time.Time
			for now := t0; done < 10 && now.Before(t0.Add(time.Hour)); now = now.Add(time.Second) {
				kept := inFlight[:0]
				for _, end := range inFlight {
					if end.After(now) {
						kept = append(kept, end)
					} else {
						done++
					}
				}
				inFlight = kept
				p := PlanRound(thr, RoundInput{Queued: queued, InFlight: len(inFlight), Now: now, LastRound: last})
				if p.Start > 0 {
					last = now
					rounds = append(rounds, now)
					queued -= p.Start
					for range p.Start {
						inFlight = append(inFlight, now.Add(hold))
					}
				}
				if len(inFlight) > thr.MaxConcurrent {
					t.Fatalf("at %v: %d in flight > %d", now.Sub(t0), len(inFlight), thr.MaxConcurrent)
				}
			}
			if done != 10 {
				t.Fatalf("only %d of 10 created within an hour", done)
			}
			for i := 1; i < len(rounds); i++ {
				if gap := rounds[i].Sub(rounds[i-1]); gap < thr.Delay {
					t.Errorf("rounds %d and %d only %v apart", i-1, i, gap)
				}
			}
		})
	}
}
