package pool

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/stemcell-io/stemcell/actors"
)

// A memory-sync subscriber that is gone is dropped, rather than sent a
// dead letter every tick; one that lives keeps its snapshots.
func TestDeadSubscriberIsDropped(t *testing.T) {
	cases := []struct {
		name string
		// early: the subscriber is gone before it subscribes.
		early bool
	}{
		{name: "stopped after subscribing"},
		{name: "gone before subscribing", early: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var subscribers atomic.Int64
			h := newHarnessHooks(t, testConfig(512), nil, func(hk *hooks) {
				check := hk.afterStep
				hk.afterStep = func(p *poolActor) {
					check(p)
					subscribers.Store(int64(len(p.subscribers)))
				}
			})
			var deadLetters, liveGot atomic.Int64
			sub := h.sys.Root.Spawn(actor.PropsFromFunc(func(actor.Context) {}))
			gone := func() {
				if err := h.sys.Root.StopFuture(sub).Wait(); err != nil {
					t.Fatalf("stopping the subscriber: %v", err)
				}
			}
			es := h.sys.EventStream.Subscribe(func(m any) {
				if d, ok := m.(*actor.DeadLetterEvent); ok && d.PID.Equal(sub) {
					if _, ok := d.Message.(*actors.MemorySnapshot); ok {
						deadLetters.Add(1)
					}
				}
			})
			defer h.sys.EventStream.Unsubscribe(es)
			live := h.sys.Root.Spawn(actor.PropsFromFunc(func(c actor.Context) {
				switch c.Message().(type) {
				case *actors.MemorySnapshot:
					liveGot.Add(1)
				case *ping:
					c.Respond(&ping{})
				}
			}))
			h.pool.Subscribe(live)

			if tc.early {
				gone()
				h.pool.Subscribe(sub)
			} else {
				h.pool.Subscribe(sub)
				h.snapshot()
				if n := subscribers.Load(); n != 2 {
					t.Fatalf("%d subscribers after subscribing, want 2", n)
				}
				gone()
			}
			// Its Terminated is a system message: handled before the
			// snapshot request sent after it.
			h.snapshot()
			h.snapshot()
			if n := subscribers.Load(); n != 1 {
				t.Fatalf("%d subscribers once one is gone, want 1 (the live one)", n)
			}
			for range 3 {
				h.clock.Advance(time.Second) // memory-sync-interval
				h.snapshot()
			}
			if n := deadLetters.Load(); n != 0 {
				t.Fatalf("%d snapshots went to the dead subscriber", n)
			}
			// The snapshots to the live one were sent before the last
			// barrier, so they are in its mailbox ahead of the ping.
			if _, err := h.sys.Root.RequestFuture(live, &ping{}, waitFor).Result(); err != nil {
				t.Fatalf("ping the live subscriber: %v", err)
			}
			if n := liveGot.Load(); n < 3 {
				t.Fatalf("the live subscriber got %d snapshots in 3 intervals, want at least 3", n)
			}
		})
	}
}
