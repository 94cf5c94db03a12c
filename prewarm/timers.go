package prewarm

import (
	"time"

	"github.com/stemcell-io/stemcell/actors"
)

// timerName names one of the scheduler's timers; each name has at most one
// pending firing.
type timerName int

const (
	timerCheck  timerName = iota // the next expiry check
	timerRound                   // the next throttled creation round
	timerHealth                  // the next TCP health round
)

// timerFired is what a timer posts to the actor. seq tells a current firing
// from one that was cancelled or replaced after it was already posted.
type timerFired struct {
	name timerName
	seq  uint64
}

// timers runs the scheduler's timers on an actors.Clock. It is used on the
// actor goroutine only; the clock's callbacks just post timerFired.
type timers struct {
	clock actors.Clock
	post  func(msg any) // safe from any goroutine
	seq   uint64
	live  map[timerName]liveTimer
}

type liveTimer struct {
	seq  uint64
	at   time.Time
	stop func() bool
}

func newTimers(clock actors.Clock, post func(any)) *timers {
	return &timers{clock: clock, post: post, live: map[timerName]liveTimer{}}
}

// after arms name to fire after d, replacing its pending firing.
func (t *timers) after(name timerName, d time.Duration) {
	t.cancel(name)
	t.seq++
	seq := t.seq
	stop := t.clock.AfterFunc(d, func() { t.post(&timerFired{name: name, seq: seq}) })
	t.live[name] = liveTimer{seq: seq, at: t.clock.Now().Add(d), stop: stop}
}

// at arms name to fire at when, unless it is already armed for that time or
// sooner: a completion must not postpone a round that is already due.
func (t *timers) at(name timerName, when time.Time) {
	if l, ok := t.live[name]; ok && !l.at.After(when) {
		return
	}
	t.after(name, max(when.Sub(t.clock.Now()), 0))
}

// fired consumes a firing and reports whether it is current.
func (t *timers) fired(m *timerFired) bool {
	l, ok := t.live[m.name]
	if !ok || l.seq != m.seq {
		return false
	}
	delete(t.live, m.name)
	return true
}

// pending returns when name fires next, and whether it is armed.
func (t *timers) pending(name timerName) (time.Time, bool) {
	l, ok := t.live[name]
	return l.at, ok
}

func (t *timers) cancel(name timerName) {
	if l, ok := t.live[name]; ok {
		l.stop()
		delete(t.live, name)
	}
}

func (t *timers) cancelAll() {
	for name := range t.live {
		t.cancel(name)
	}
}
