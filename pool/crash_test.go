package pool

import (
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/factory/fake"
	"github.com/stemcell-io/stemcell/internal/protocol"
)

// errInjected is the panic value of the tests; the callers' errors carry
// its text.
var errInjected = errors.New("injected panic")

// panicOnce panics the first time it is called while armed.
func panicOnce(armed *atomic.Bool) {
	if armed.CompareAndSwap(true, false) {
		panic(errInjected)
	}
}

// A panic while the pool handles a message: every caller it held is
// answered exactly once with ErrPoolCrashed, the activations running on
// containers are answered by them, every container is removed exactly once
// (its memory back only then), and the next activation is served.
func TestPanicAnswersHeldCallersOnceAndRemovesContainers(t *testing.T) {
	cases := []struct {
		name string
		// inject arms a panic in the pool's hooks.
		inject func(hk *hooks, armed *atomic.Bool)
		// trigger sends what panics; c0 runs a1 (action A), c1 runs a2 (B).
		trigger func(h *harness)
		crashed []string // answered by the pool with ErrPoolCrashed
		ran     []string // answered by their container with a success
	}{
		{
			name: "before a Run is handled",
			inject: func(hk *hooks, armed *atomic.Bool) {
				hk.beforeStep = func(_ *poolActor, msg any) {
					if _, ok := msg.(*actors.Run); ok {
						panicOnce(armed)
					}
				}
			},
			trigger: func(h *harness) { h.run(act("boom", "ns", "B", 256)) },
			crashed: []string{"q1", "q2", "q3", "boom"},
			ran:     []string{"a1", "a2"},
		},
		{
			name: "while placing a queued job on a warm container",
			inject: func(hk *hooks, armed *atomic.Bool) {
				placed := hk.placed
				hk.placed = func(a *actors.Activation, e *entry, kind actors.StartKind) {
					if a.ID == "q1" {
						panicOnce(armed)
					}
					placed(a, e, kind)
				}
			},
			trigger: func(h *harness) { h.do(h.container(0), &complete{}) },
			crashed: []string{"q1", "q2", "q3"},
			ran:     []string{"a1", "a2"},
		},
		{
			name: "on a container's JobDone",
			inject: func(hk *hooks, armed *atomic.Bool) {
				hk.beforeStep = func(_ *poolActor, msg any) {
					if _, ok := msg.(*protocol.JobDone); ok {
						panicOnce(armed)
					}
				}
			},
			trigger: func(h *harness) { h.do(h.container(0), &complete{}) },
			crashed: []string{"q1", "q2", "q3"},
			ran:     []string{"a1", "a2"},
		},
		{
			name: "on a job bounced by its container",
			inject: func(hk *hooks, armed *atomic.Bool) {
				hk.beforeStep = func(_ *poolActor, msg any) {
					if _, ok := msg.(*protocol.Reschedule); ok {
						panicOnce(armed)
					}
				}
			},
			trigger: func(h *harness) { h.do(h.container(1), &bounce{}) },
			crashed: []string{"q1", "q2", "q3", "a2"},
			ran:     []string{"a1"},
		},
	}
	for _, queue := range []string{config.QueueFair, config.QueueFIFO} {
		for _, tc := range cases {
			t.Run(queue+"/"+tc.name, func(t *testing.T) {
				var armed atomic.Bool
				cfg := testConfig(512)
				cfg.ContainerPool.Queue = queue
				h := newHarnessHooks(t, cfg, nil, func(hk *hooks) { tc.inject(hk, &armed) })
				h.run(act("a1", "ns", "A", 256))
				h.run(act("a2", "ns", "B", 256))
				h.sync()
				c0, c1 := h.container(0), h.container(1)
				h.do(c0, &ready{})
				h.do(c1, &ready{})
				h.run(act("q1", "ns", "A", 256))
				h.run(act("q2", "ns", "B", 256))
				h.run(act("q3", "ns", "A", 256))
				if s := h.sync(); s.Buffered.Count != 3 || s.Busy.Count != 2 {
					t.Fatalf("before the panic: snapshot %+v, want 3 waiting and 2 busy", s)
				}

				armed.Store(true)
				tc.trigger(h)
				s := h.sync()
				if armed.Load() {
					t.Fatal("the injected panic never fired")
				}
				if s.Buffered.Count != 0 || s.Busy.Count+s.Idle.Count != 0 {
					t.Fatalf("after the panic: snapshot %+v, want nothing waiting and every container removing", s)
				}
				for _, id := range tc.crashed {
					r := h.wantOneResult(id, factory.StatusInternalError)
					if !errors.Is(r.Err, ErrPoolCrashed) {
						t.Fatalf("%s answered %+v (err %v), want ErrPoolCrashed", id, r.Result, r.Err)
					}
				}
				// The running activations finish on their containers, which
				// then go away.
				for _, c := range []int{0, 1} {
					if pid := h.container(c); h.destroyedOf(pid.Id) == 0 {
						h.do(pid, &complete{})
					}
				}
				s = h.sync()
				for _, id := range tc.ran {
					if r := h.wantOneResult(id, factory.StatusSuccess); r.Err != nil {
						t.Fatalf("%s: %v, want the result of its run", id, r.Err)
					}
				}
				for _, pid := range []string{c0.Id, c1.Id} {
					if n := h.destroyedOf(pid); n != 1 {
						t.Fatalf("container %s reported its removal %d times, want 1", pid, n)
					}
				}
				if s.Free != 512*mb || s.Removing.Count != 0 || s.Busy.Count != 0 {
					t.Fatalf("after the removals: snapshot %+v, want all 512 MB free", s)
				}

				// The pool serves again.
				h.run(act("n1", "ns", "A", 256))
				h.sync()
				if got := h.numContainers(); got != 3 {
					t.Fatalf("%d containers after the next invoke, want a third one", got)
				}
				c2 := h.container(2)
				h.do(c2, &ready{})
				h.do(c2, &complete{})
				if r := h.wantOneResult("n1", factory.StatusSuccess); r.Err != nil {
					t.Fatalf("n1 after the panic: %v", r.Err)
				}
				if ps := ids(h.placed()); !slices.Contains(ps, "n1") {
					t.Fatalf("placements %v: n1 was never placed", ps)
				}
				h.sync()
			})
		}
	}
}

func (h *harness) destroyedOf(id string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.destroyed[id]
}

// The same on the real container actor and the fake engine: the engine
// never holds more than the ledger books (memory returns only after the
// engine removed a container), every container is destroyed exactly once,
// and none is left after shutdown.
func TestPanicLeaksNoContainerInTheEngine(t *testing.T) {
	var armed atomic.Bool
	cfg := steadyConfig(512)
	ff := fake.New(fake.Options{Seed: 1})
	gate := ff.Gate(fake.OpRun)
	var engineOver atomic.Int64 // bytes the engine held beyond the ledger, at worst
	h := newHarnessHooks(t, cfg, ff, func(hk *hooks) {
		hk.beforeStep = func(_ *poolActor, msg any) {
			if r, ok := msg.(*actors.Run); ok && r.Activation.ID == "boom" {
				panicOnce(&armed)
			}
		}
		check := hk.afterStep
		hk.afterStep = func(p *poolActor) {
			check(p)
			if over := ff.LiveMemory() - int64(p.ledger.used); over > engineOver.Load() {
				engineOver.Store(over)
			}
		}
	})
	h.run(act("a1", "ns", "A", 256))
	h.run(act("a2", "ns", "B", 256))
	for range 2 {
		select {
		case <-gate.Arrived():
		case <-time.After(waitFor):
			t.Fatal("the first two runs never reached the engine")
		}
	}
	h.run(act("q1", "ns", "A", 256))
	h.run(act("q2", "ns", "B", 256))
	if s := h.snapshot(); s.Buffered.Count != 2 {
		t.Fatalf("before the panic: snapshot %+v, want 2 waiting", s)
	}
	armed.Store(true)
	h.run(act("boom", "ns", "A", 256))
	h.snapshot()
	for _, id := range []string{"q1", "q2", "boom"} {
		if r := h.wantOneResult(id, factory.StatusInternalError); !errors.Is(r.Err, ErrPoolCrashed) {
			t.Fatalf("%s answered %+v (err %v), want ErrPoolCrashed", id, r.Result, r.Err)
		}
	}

	// The runs in the engine finish and are answered by their containers,
	// which are then destroyed; the next activation gets a new one.
	gate.Open()
	h.run(act("n1", "ns", "A", 256))
	want := map[string]int{"a1": 0, "a2": 1, "n1": 2}
	deadline := time.Now().Add(waitFor)
	for !h.allAnswered(want) {
		if time.Now().After(deadline) {
			t.Fatalf("unanswered: %v; snapshot %+v", h.unanswered(want), h.snapshot())
		}
		h.snapshot()
		time.Sleep(time.Millisecond) // polling pace; the loop condition is the synchronisation
	}
	for id := range want {
		if r := h.wantOneResult(id, factory.StatusSuccess); r.Err != nil {
			t.Fatalf("%s: %v, want the result of its run", id, r.Err)
		}
	}
	res, err := h.sys.Root.RequestFuture(h.pool.PID(), &actors.Shutdown{Deadline: h.clock.Now().Add(time.Minute)}, waitFor).Result()
	if err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if d := res.(*actors.ShutdownDone); d.Err != nil {
		t.Fatalf("shutdown: %v", d.Err)
	}
	h.mu.Lock()
	bad := h.violations
	h.mu.Unlock()
	if len(bad) > 0 {
		t.Fatalf("invariant broken: %v", bad)
	}
	if err := ff.Verify(); err != nil {
		t.Fatalf("fake engine: %v", err)
	}
	if n := len(ff.Created()); n != 3 {
		t.Fatalf("%d containers created, want 3 (a1's, a2's, n1's)", n)
	}
	if live := ff.Live(); len(live) != 0 {
		t.Fatalf("%d containers left in the engine", len(live))
	}
	if over := engineOver.Load(); over > 0 {
		t.Fatalf("the engine held %d B more than the ledger booked", over)
	}
	if peak := ff.PeakMemory(); peak > int64(512*mb) {
		t.Fatalf("the engine held %d B at its peak, user-memory is 512 MB", peak)
	}
}
