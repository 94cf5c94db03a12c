package actors

import (
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// keyedHarness drives one actor's keyed timers: steps run on the actor's
// goroutine (do), firings are collected as the actor receives them.
type keyedHarness struct {
	t     *testing.T
	sys   *actor.ActorSystem
	pid   *actor.PID
	clock *FakeClock
	out   chan any
	fired []*TimerFired // in arrival order
}

// do is a step the actor runs on its own goroutine, answering done.
type do func(ctx actor.Context, tm *Timers) any

func newKeyedHarness(t *testing.T) *keyedHarness {
	h := &keyedHarness{t: t, sys: newTestSystem(t), clock: NewFakeClock(time.Unix(0, 0)), out: make(chan any, 64)}
	tm := NewTimers(h.clock)
	h.pid = h.sys.Root.Spawn(actor.PropsFromFunc(func(ctx actor.Context) {
		switch m := ctx.Message().(type) {
		case do:
			h.out <- m(ctx, tm)
		case *TimerFired:
			h.out <- m
		case *actor.Stopping:
			tm.Stop()
		}
	}))
	t.Cleanup(func() { _ = h.sys.Root.PoisonFuture(h.pid).Wait() })
	return h
}

// run runs f on the actor and returns its answer; firings that arrive
// before it are collected.
func (h *keyedHarness) run(f do) any {
	h.t.Helper()
	type answer struct{ v any }
	h.sys.Root.Send(h.pid, do(func(ctx actor.Context, tm *Timers) any { return answer{f(ctx, tm)} }))
	for {
		switch m := expect[any](h.t, h.out).(type) {
		case *TimerFired:
			h.fired = append(h.fired, m)
		case answer:
			return m.v
		}
	}
}

func (h *keyedHarness) arm(key string, d time.Duration) {
	h.run(func(ctx actor.Context, tm *Timers) any { tm.Arm(ctx, key, d); return nil })
}

func (h *keyedHarness) armBy(key string, at time.Duration) {
	h.run(func(ctx actor.Context, tm *Timers) any { tm.ArmBy(ctx, key, time.Unix(0, 0).Add(at)); return nil })
}

// advance moves the clock; the run that follows collects what fired.
func (h *keyedHarness) advance(d time.Duration) []*TimerFired {
	h.t.Helper()
	n := len(h.fired)
	h.clock.Advance(d)
	h.run(func(actor.Context, *Timers) any { return nil })
	return h.fired[n:]
}

func (h *keyedHarness) current(m *TimerFired) bool {
	return h.run(func(_ actor.Context, tm *Timers) any { return tm.Fired(m) }).(bool)
}

func (h *keyedHarness) due(key string) (time.Duration, bool) {
	type due struct {
		at time.Time
		ok bool
	}
	d := h.run(func(_ actor.Context, tm *Timers) any { at, ok := tm.Due(key); return due{at, ok} }).(due)
	return d.at.Sub(time.Unix(0, 0)), d.ok
}

func TestKeyedTimers(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, h *keyedHarness)
	}{
		{"fires once at its time and is current once", func(t *testing.T, h *keyedHarness) {
			h.arm("a", 10*time.Second)
			if got := h.advance(9 * time.Second); len(got) != 0 {
				t.Fatalf("fired early: %v", got)
			}
			got := h.advance(time.Second)
			if len(got) != 1 || got[0].Key != "a" {
				t.Fatalf("fired %v, want a", got)
			}
			if !h.current(got[0]) || h.current(got[0]) {
				t.Fatal("want the firing current exactly once")
			}
		}},
		{"arming again replaces the pending firing", func(t *testing.T, h *keyedHarness) {
			h.arm("a", time.Second)
			h.arm("a", 5*time.Second)
			if got := h.advance(4 * time.Second); len(got) != 0 {
				t.Fatalf("the replaced firing fired: %v", got)
			}
			if got := h.advance(time.Second); len(got) != 1 || !h.current(got[0]) {
				t.Fatalf("fired %v, want one current firing", got)
			}
			if n := h.clock.Pending(); n != 0 {
				t.Fatalf("%d clock timers left", n)
			}
		}},
		{"a firing posted before re-arming is stale", func(t *testing.T, h *keyedHarness) {
			h.arm("a", time.Second)
			old := h.advance(time.Second)
			h.arm("a", time.Second)
			if h.current(old[0]) {
				t.Fatal("the firing before re-arming counts")
			}
			if got := h.advance(time.Second); len(got) != 1 || !h.current(got[0]) {
				t.Fatalf("fired %v, want the new firing current", got)
			}
		}},
		{"a firing posted before disarming is stale", func(t *testing.T, h *keyedHarness) {
			h.arm("a", time.Second)
			old := h.advance(time.Second)
			h.run(func(_ actor.Context, tm *Timers) any { tm.Disarm("a"); return nil })
			if h.current(old[0]) {
				t.Fatal("the firing before Disarm counts")
			}
		}},
		{"Stop cancels keyed timers and makes posted firings stale", func(t *testing.T, h *keyedHarness) {
			h.arm("a", time.Second)
			h.arm("b", 2*time.Second)
			old := h.advance(time.Second)
			h.run(func(_ actor.Context, tm *Timers) any { tm.Stop(); return nil })
			if h.current(old[0]) {
				t.Fatal("the firing before Stop counts")
			}
			if n := h.clock.Pending(); n != 0 {
				t.Fatalf("%d clock timers left after Stop", n)
			}
			if _, ok := h.due("b"); ok {
				t.Fatal("b still due after Stop")
			}
		}},
		{"keys are independent", func(t *testing.T, h *keyedHarness) {
			h.arm("a", time.Second)
			h.arm("b", time.Second)
			got := h.advance(time.Second)
			if len(got) != 2 || !h.current(got[0]) || !h.current(got[1]) {
				t.Fatalf("fired %v, want a and b, both current", got)
			}
		}},
		{"ArmBy never postpones", func(t *testing.T, h *keyedHarness) {
			h.arm("a", 5*time.Second)
			h.armBy("a", 10*time.Second)
			if at, ok := h.due("a"); !ok || at != 5*time.Second {
				t.Fatalf("due at %v (%v), want 5s kept", at, ok)
			}
			h.armBy("a", 2*time.Second)
			if at, ok := h.due("a"); !ok || at != 2*time.Second {
				t.Fatalf("due at %v (%v), want 2s", at, ok)
			}
			if got := h.advance(2 * time.Second); len(got) != 1 || !h.current(got[0]) {
				t.Fatalf("fired %v, want one current firing at 2s", got)
			}
			if _, ok := h.due("a"); ok {
				t.Fatal("still due after firing")
			}
			h.armBy("a", time.Second) // in the past: fires at once
			if got := h.advance(0); len(got) != 1 {
				t.Fatalf("fired %v, want a past time to fire at once", got)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, newKeyedHarness(t)) })
	}
}
