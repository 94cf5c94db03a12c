package pool

import (
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
)

// While the buffer head waits for memory on its way back, the jobs behind
// it get their evictions at once, so the removals overlap; a container a
// job ahead can use warm is spared, nothing beyond what the jobs need is
// evicted, and placement keeps arrival order.
//
// This is the fifo rule's look-ahead; the fair rule's promises are tested in
// queue_test.go.
func TestEvictionLooksAheadOfTheHead(t *testing.T) {
	cfg := testConfig(1024)
	cfg.ContainerPool.Queue = config.QueueFIFO
	h := newHarness(t, cfg)
	h.autoRemove = false
	names := []string{"a", "b", "c", "d"}
	for i, name := range names {
		h.run(act(name, "ns", name, 256))
		h.sync()
		h.do(h.container(i), &ready{})
	}
	// Idle, least recently used first: b, a, c, d.
	for _, i := range []int{1, 0, 2, 3} {
		h.do(h.container(i), &complete{})
		h.clock.Advance(time.Second)
	}
	a, b, c, d := h.container(0), h.container(1), h.container(2), h.container(3)
	removing := func(alive []*actor.PID, want ...*actor.PID) {
		t.Helper()
		for _, pid := range alive {
			got := h.stateOf(pid).removing
			w := false
			for _, x := range want {
				w = w || x.Equal(pid)
			}
			if got != w {
				t.Fatalf("container %s removing %v, want %v", pid.Id, got, w)
			}
		}
	}

	h.run(act("x", "ns", "x", 256))  // evicts b, the oldest
	h.run(act("a2", "ns", "a", 256)) // a's identity: spared, it runs there warm
	h.run(act("y", "ns", "y", 256))  // evicts c now, not after x is placed
	s := h.sync()
	removing([]*actor.PID{a, b, c, d}, b, c)
	if s.Buffered.Count != 3 || s.Removing.Count != 2 || s.Idle.Count != 2 {
		t.Fatalf("snapshot %+v: want 3 buffered, b and c removing, a and d idle", s)
	}
	h.wantPlacements("a", "b", "c", "d")

	h.do(b, &destroyed{})
	h.sync()
	// x takes b's memory; a2 runs warm on a; y waits for c's memory.
	h.wantPlacements("a", "b", "c", "d", "x", "a2")
	removing([]*actor.PID{a, c, d}, c)
	h.do(c, &destroyed{})
	s = h.sync()
	h.wantPlacements("a", "b", "c", "d", "x", "a2", "y")
	if s.Removing.Count != 0 || s.Idle.Count != 1 || s.Buffered.Count != 0 {
		t.Fatalf("snapshot %+v: want d alone idle, nothing removing or buffered", s)
	}
	kinds := map[string]actors.StartKind{}
	for _, p := range h.placed() {
		kinds[p.ID] = p.Kind
	}
	if kinds["x"] != actors.StartRecreated || kinds["a2"] != actors.StartWarm || kinds["y"] != actors.StartRecreated {
		t.Fatalf("start kinds %v: want x and y recreated, a2 warm", kinds)
	}
}
