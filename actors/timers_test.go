package actors

import (
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

type tick struct{ n int }

// timerActor schedules what its test asks for, and cancels everything on
// Stopping and Restarting as Timers requires.
type timerActor struct {
	timers *Timers
	setup  func(ctx actor.Context, t *Timers)
	out    chan<- any
}

func (a *timerActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		a.setup(ctx, a.timers)
		a.out <- "started"
	case *actor.Stopping, *actor.Restarting:
		a.timers.Stop()
	case *tick:
		a.out <- m
	case string:
		if m == "crash" {
			panic("crash requested")
		}
	}
}

func spawnTimerActor(t *testing.T, sys *actor.ActorSystem, clock Clock, setup func(actor.Context, *Timers)) (*actor.PID, <-chan any, func() *Timers) {
	t.Helper()
	out := make(chan any, 64)
	timersOf := make(chan *Timers, 8)
	var last *Timers
	pid := sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor {
		tm := NewTimers(clock)
		timersOf <- tm
		return &timerActor{timers: tm, setup: setup, out: out}
	}))
	t.Cleanup(func() { _ = sys.Root.PoisonFuture(pid).Wait() })
	return pid, out, func() *Timers {
		for {
			select {
			case tm := <-timersOf:
				last = tm
			default:
				return last
			}
		}
	}
}

func TestTimersSendOnceFiresOnceAtItsTime(t *testing.T) {
	sys := newTestSystem(t)
	clock := NewFakeClock(time.Unix(0, 0))
	_, out, _ := spawnTimerActor(t, sys, clock, func(ctx actor.Context, tm *Timers) {
		tm.SendOnce(ctx, 10*time.Second, &tick{1})
	})
	if s := expect[string](t, out); s != "started" {
		t.Fatalf("got %q", s)
	}
	clock.Advance(9 * time.Second)
	expectNone(t, out, 20*time.Millisecond)
	clock.Advance(time.Second)
	if m := expect[*tick](t, out); m.n != 1 {
		t.Fatalf("tick %d", m.n)
	}
	clock.Advance(time.Hour)
	expectNone(t, out, 20*time.Millisecond)
	if clock.Pending() != 0 {
		t.Fatalf("%d clock timers left after a one-shot fired", clock.Pending())
	}
}

func TestTimersSendRepeatedly(t *testing.T) {
	tests := []struct {
		name      string
		initial   time.Duration
		interval  time.Duration
		advance   time.Duration
		wantTicks int
	}{
		{"before first", 5 * time.Second, time.Second, 4 * time.Second, 0},
		{"first only", 5 * time.Second, time.Second, 5 * time.Second, 1},
		{"first and three more", 5 * time.Second, time.Second, 8500 * time.Millisecond, 4},
		{"zero initial", 0, 2 * time.Second, 6 * time.Second, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sys := newTestSystem(t)
			clock := NewFakeClock(time.Unix(0, 0))
			_, out, _ := spawnTimerActor(t, sys, clock, func(ctx actor.Context, tm *Timers) {
				tm.SendRepeatedly(ctx, tc.initial, tc.interval, &tick{7})
			})
			expect[string](t, out)
			clock.Advance(tc.advance)
			for i := 0; i < tc.wantTicks; i++ {
				expect[*tick](t, out)
			}
			expectNone(t, out, 20*time.Millisecond)
		})
	}
}

func TestTimersCancel(t *testing.T) {
	sys := newTestSystem(t)
	clock := NewFakeClock(time.Unix(0, 0))
	cancels := make(chan CancelFunc, 2)
	_, out, getTimers := spawnTimerActor(t, sys, clock, func(ctx actor.Context, tm *Timers) {
		cancels <- tm.SendOnce(ctx, time.Second, &tick{1})
		cancels <- tm.SendRepeatedly(ctx, time.Second, time.Second, &tick{2})
	})
	expect[string](t, out)
	once, rep := <-cancels, <-cancels
	once()
	once() // idempotent
	clock.Advance(2 * time.Second)
	for i := 0; i < 2; i++ {
		if m := expect[*tick](t, out); m.n != 2 {
			t.Fatalf("cancelled one-shot fired: %+v", m)
		}
	}
	rep()
	clock.Advance(10 * time.Second)
	expectNone(t, out, 20*time.Millisecond)
	if n := getTimers().Pending(); n != 0 {
		t.Fatalf("%d timers pending after cancel", n)
	}
}

// A restart must not leave the old instance's timers running next to the
// new instance's (reference/libraries.md §1.7: the tick rate doubled).
func TestTimersStoppedOnRestartAndStop(t *testing.T) {
	sys := newTestSystem(t)
	clock := NewFakeClock(time.Unix(0, 0))
	pid, out, getTimers := spawnTimerActor(t, sys, clock, func(ctx actor.Context, tm *Timers) {
		tm.SendRepeatedly(ctx, time.Second, time.Second, &tick{3})
	})
	expect[string](t, out)
	first := getTimers()
	sys.Root.Send(pid, "crash")
	expect[string](t, out) // the new instance started
	if first.Pending() != 0 {
		t.Fatalf("old instance still has %d timers after restart", first.Pending())
	}
	clock.Advance(3 * time.Second)
	for i := 0; i < 3; i++ {
		expect[*tick](t, out)
	}
	expectNone(t, out, 20*time.Millisecond)

	second := getTimers()
	if err := sys.Root.StopFuture(pid).Wait(); err != nil {
		t.Fatal(err)
	}
	if second.Pending() != 0 || clock.Pending() != 0 {
		t.Fatalf("timers left after stop: instance %d, clock %d", second.Pending(), clock.Pending())
	}
}

func TestTimersRealClock(t *testing.T) {
	sys := newTestSystem(t)
	_, out, _ := spawnTimerActor(t, sys, nil, func(ctx actor.Context, tm *Timers) {
		tm.SendOnce(ctx, time.Millisecond, &tick{9})
	})
	expect[string](t, out)
	if m := expect[*tick](t, out); m.n != 9 {
		t.Fatalf("tick %d", m.n)
	}
}
