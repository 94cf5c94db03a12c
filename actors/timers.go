package actors

import (
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// CancelFunc stops a scheduled message. It is idempotent and safe to call
// from any goroutine.
type CancelFunc func()

// Timers schedules messages an actor sends to itself, on an injectable
// Clock, so that tests drive them with FakeClock instead of waiting. It
// replaces protoactor's scheduler package (which is wall-clock only) and
// ReceiveTimeout (racy, see reference/libraries.md §1.6). Keyed timers
// (Arm, Fired) hold at most one firing per key and recognise stale ones.
//
// One Timers belongs to one actor instance. Call Stop when that instance
// receives *actor.Stopping or *actor.Restarting: a restart builds a new
// instance whose Started would otherwise add its timers next to the old
// ones.
//
// Cancelling cannot recall a message that has already been posted; an actor
// that must not act on a stale timeout uses a keyed timer (Arm), whose
// Fired tells the current firing from a stale one.
type Timers struct {
	clock Clock
	mu    sync.Mutex
	next  uint64
	live  map[uint64]func() bool // id -> stop of the pending clock timer
	// keyed holds the pending firing of each key (timers_keyed.go).
	keyed  map[any]keyedTimer
	keyGen uint64
}

// NewTimers returns Timers on clock (RealClock{} when nil).
func NewTimers(clock Clock) *Timers {
	if clock == nil {
		clock = RealClock{}
	}
	return &Timers{clock: clock, live: map[uint64]func() bool{}}
}

// SendOnce posts msg to the actor of ctx after d.
func (t *Timers) SendOnce(ctx actor.Context, d time.Duration, msg any) CancelFunc {
	root, self := ctx.ActorSystem().Root, ctx.Self()
	return t.schedule(d, 0, func() { root.Send(self, msg) })
}

// SendRepeatedly posts msg to the actor of ctx after initial, then every
// interval until cancelled. interval must be > 0.
func (t *Timers) SendRepeatedly(ctx actor.Context, initial, interval time.Duration, msg any) CancelFunc {
	if interval <= 0 {
		panic("actors.Timers.SendRepeatedly: interval must be > 0")
	}
	root, self := ctx.ActorSystem().Root, ctx.Self()
	return t.schedule(initial, interval, func() { root.Send(self, msg) })
}

// schedule runs post after d and, when every > 0, again every `every`. The
// id stays the same across repetitions, so one cancel stops the series.
func (t *Timers) schedule(d, every time.Duration, post func()) CancelFunc {
	t.mu.Lock()
	t.next++
	id := t.next
	t.mu.Unlock()

	var fire func()
	arm := func(after time.Duration, first bool) {
		// Registering under the lock orders it against cancel: either cancel
		// sees the new timer and stops it, or it ran first and the id is gone.
		t.mu.Lock()
		defer t.mu.Unlock()
		if _, ok := t.live[id]; !ok && !first {
			return // cancelled between two repetitions
		}
		t.live[id] = t.clock.AfterFunc(after, fire)
	}
	fire = func() {
		t.mu.Lock()
		_, ok := t.live[id]
		if ok && every <= 0 {
			delete(t.live, id)
		}
		t.mu.Unlock()
		if !ok {
			return
		}
		post()
		if every > 0 {
			arm(every, false)
		}
	}
	arm(d, true)
	return func() { t.cancel(id) }
}

func (t *Timers) cancel(id uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if stop, ok := t.live[id]; ok {
		stop()
		delete(t.live, id)
	}
}

// Stop cancels every pending timer, keyed ones included. Call it on
// *actor.Stopping and on *actor.Restarting.
func (t *Timers) Stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for id, stop := range t.live {
		stop()
		delete(t.live, id)
	}
	clear(t.keyed)
}

// Pending returns how many timers are scheduled.
func (t *Timers) Pending() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.live)
}
