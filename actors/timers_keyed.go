package actors

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// TimerFired is what a keyed timer posts to its actor. Hand it to
// Timers.Fired: only the current firing of its key counts.
type TimerFired struct {
	Key any
	gen uint64
}

// keyedTimer is the pending firing of one key.
type keyedTimer struct {
	gen    uint64
	at     time.Time
	cancel CancelFunc
}

// Arm posts *TimerFired{Key: key} to the actor of ctx after d, replacing
// key's pending firing: each key has at most one. A firing already posted
// when it was replaced, cancelled or stopped still arrives; Fired tells it
// apart, so the actor needs no generation numbers of its own.
func (t *Timers) Arm(ctx actor.Context, key any, d time.Duration) {
	t.Disarm(key)
	root, self := ctx.ActorSystem().Root, ctx.Self()
	t.mu.Lock()
	t.keyGen++
	gen := t.keyGen
	at := t.clock.Now().Add(d)
	t.mu.Unlock()
	cancel := t.schedule(d, 0, func() { root.Send(self, &TimerFired{Key: key, gen: gen}) })
	t.mu.Lock()
	if t.keyed == nil {
		t.keyed = map[any]keyedTimer{}
	}
	t.keyed[key] = keyedTimer{gen: gen, at: at, cancel: cancel}
	t.mu.Unlock()
}

// ArmBy arms key to fire at when, unless it already fires at when or
// sooner: a later request must not postpone a firing that is due.
func (t *Timers) ArmBy(ctx actor.Context, key any, when time.Time) {
	if at, ok := t.Due(key); ok && !at.After(when) {
		return
	}
	t.Arm(ctx, key, max(when.Sub(t.clock.Now()), 0))
}

// Fired consumes a firing and reports whether it is its key's current one
// (not replaced, disarmed or stopped since it was posted).
func (t *Timers) Fired(m *TimerFired) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	k, ok := t.keyed[m.Key]
	if !ok || k.gen != m.gen {
		return false
	}
	delete(t.keyed, m.Key)
	return true
}

// Due returns when key fires next, and whether it is armed.
func (t *Timers) Due(key any) (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	k, ok := t.keyed[key]
	return k.at, ok
}

// Disarm cancels key's pending firing, if any.
func (t *Timers) Disarm(key any) {
	t.mu.Lock()
	k, ok := t.keyed[key]
	delete(t.keyed, key)
	t.mu.Unlock()
	if ok {
		k.cancel()
	}
}
