package prewarm

// timerName names one of the scheduler's keyed timers (actors.Timers.Arm);
// each has at most one pending firing.
type timerName int

const (
	timerCheck  timerName = iota // the next expiry check
	timerRound                   // the next throttled creation round
	timerHealth                  // the next TCP health round
)
