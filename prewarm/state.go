package prewarm

import "time"

// stateRequest asks the scheduler for a *State; tests use it to look inside
// and, since the mailbox is FIFO, as a barrier.
type stateRequest struct{}

// State is a copy of the scheduler's bookkeeping.
type State struct {
	Ready     map[Key]int
	InFlight  int
	Queued    int
	Failures  int
	LastRound time.Time
	NextCheck time.Time // zero: no check armed
	// HealthRounds counts the health rounds whose results were applied.
	HealthRounds uint64
}

func (s *scheduler) state() *State {
	st := &State{Ready: map[Key]int{}, InFlight: len(s.inFlight), Queued: len(s.queue), Failures: s.failures, LastRound: s.lastRound}
	for _, r := range s.idle {
		if r.removing == "" {
			st.Ready[r.key]++
		}
	}
	st.HealthRounds = s.healthDone
	if s.timers != nil {
		st.NextCheck, _ = s.timers.Due(timerCheck)
	}
	return st
}
