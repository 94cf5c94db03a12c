package prewarm

// Trigger says why the stock is being adjusted; the desired count depends on
// it (reference §3.2).
type Trigger int

const (
	// TriggerInit is the start: the initial count, reactive or not.
	TriggerInit Trigger = iota
	// TriggerCheck is a scheduled expiry check: reactive sizing applies.
	TriggerCheck
	// TriggerBackfill follows a stem cell taken, removed or failed: refill up
	// to the reactive minimum, or the initial count when not reactive.
	TriggerBackfill
)

func (t Trigger) String() string {
	switch t {
	case TriggerInit:
		return "init"
	case TriggerCheck:
		return "check"
	case TriggerBackfill:
		return "backfill"
	}
	return "unknown"
}

// Desired is how many stem cells of c there should be (ready, being created
// or queued) after trigger, given the cold starts of its key since the
// previous check.
func Desired(c Cell, trigger Trigger, coldStarts int) int {
	switch {
	case trigger == TriggerInit:
		return c.InitialCount
	case c.Reactive == nil:
		return c.InitialCount
	case trigger == TriggerCheck:
		return ReactiveDesired(c, coldStarts)
	default:
		return c.Reactive.MinCount
	}
}

// ReactiveDesired is min(max(minCount, (coldStarts / threshold) * increment),
// maxCount) with integer division. A cell without a reactive block keeps its
// initial count. A threshold below 1 counts as 1 rather than dividing by
// zero (the manifest's validation rejects it anyway).
func ReactiveDesired(c Cell, coldStarts int) int {
	r := c.Reactive
	if r == nil {
		return c.InitialCount
	}
	threshold := max(r.Threshold, 1)
	want := (max(coldStarts, 0) / threshold) * r.Increment
	return min(max(r.MinCount, want), r.MaxCount)
}

// Missing is how many creations to queue so that current reaches desired.
func Missing(desired, current int) int { return max(desired-current, 0) }
