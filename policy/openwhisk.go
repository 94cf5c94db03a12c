package policy

import (
	"errors"
	"time"
)

// OpenWhiskKeepAlive is OpenWhisk's fixed keep-alive, the pool's behaviour
// before policies were pluggable: an idle container is paused PauseGrace
// after its last job ended and removed IdleContainer after its pause
// completed. Each job starts both timers again.
type OpenWhiskKeepAlive struct {
	pauseGrace, idle time.Duration
}

// NewOpenWhiskKeepAlive checks o.PauseGrace and o.OpenWhisk.
func NewOpenWhiskKeepAlive(o Options) (*OpenWhiskKeepAlive, error) {
	if err := errors.Join(o.validateCommon(), o.OpenWhisk.validate()); err != nil {
		return nil, err
	}
	return &OpenWhiskKeepAlive{pauseGrace: o.PauseGrace, idle: o.OpenWhisk.IdleContainer}, nil
}

func (*OpenWhiskKeepAlive) Name() string { return OpenWhisk }

// Observe learns nothing: the timers are fixed.
func (*OpenWhiskKeepAlive) Observe(*Stats, time.Duration) {}

// Idle pauses at LastUsed + PauseGrace and removes at PausedAt +
// IdleContainer. Before the pause completed, the removal given is the
// earliest it can be (an instant pause); the pool asks again when the
// pause completes and gets the exact one.
func (k *OpenWhiskKeepAlive) Idle(_ time.Time, c Container) Plan {
	pause := c.LastUsed.Add(k.pauseGrace)
	if !c.PausedAt.IsZero() {
		return Plan{PauseAt: pause, RemoveAt: c.PausedAt.Add(k.idle)}
	}
	return Plan{PauseAt: pause, RemoveAt: pause.Add(k.idle)}
}

// PreWarm never loads ahead.
func (*OpenWhiskKeepAlive) PreWarm(time.Time, *Stats) Window { return Window{} }

// LRU is OpenWhisk's eviction order: the idle container used least
// recently first, then the stem cells, the oldest first.
type LRU struct {
	r ranker
}

// NewLRU is the openwhisk eviction order; it has no knobs.
func NewLRU() *LRU { return &LRU{} }

func (*LRU) Name() string { return OpenWhisk }

// Started needs nothing.
func (*LRU) Started(*Stats) {}

// Evicted needs nothing.
func (*LRU) Evicted(Container) {}

// Order sorts by LastUsed, equal times in input order: a pool that passes
// its idle list in the order the containers went idle, with LastUsed the
// time each went idle as the pool saw it, gets its list back unchanged.
func (l *LRU) Order(dst []int, cs []Container) []int { return l.r.order(dst, cs, nil) }
