package pool

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
)

// placedOrder is the activation ids in the order of their first placement.
func (h *harness) placedOrder() []string {
	var ids []string
	for _, p := range h.placed() {
		if !slices.Contains(ids, p.ID) {
			ids = append(ids, p.ID)
		}
	}
	return ids
}

func (h *harness) wantPlacedBefore(first, then string) {
	h.t.Helper()
	ids := h.placedOrder()
	i, j := slices.Index(ids, first), slices.Index(ids, then)
	if i < 0 || (j >= 0 && j < i) {
		h.t.Fatalf("placements %v: want %s placed before %s", ids, first, then)
	}
}

// fill starts one busy container per name, of mb each, in namespace ns.
func (h *harness) fill(ns string, mb int64, names ...string) {
	h.t.Helper()
	for _, name := range names {
		h.run(act(name, ns, name, mb))
		h.sync()
		h.do(h.container(h.numContainers()-1), &ready{})
	}
}

// A warm hit of one action does not wait behind another action's cold
// start that waits for an eviction: with the fifo rule it does.
func TestWarmHitGoesAheadOfAColdStartWaitingForMemory(t *testing.T) {
	for _, tc := range []struct {
		queue     string
		warmFirst bool
	}{
		{config.QueueFair, true},
		{config.QueueFIFO, false},
	} {
		t.Run(tc.queue, func(t *testing.T) {
			cfg := testConfig(768)
			cfg.ContainerPool.Queue = tc.queue
			h := newHarness(t, cfg)
			h.autoRemove = false
			h.fill("ns", 256, "x", "w", "busy")
			x, w := h.container(0), h.container(1)
			h.do(x, &complete{}) // idle, least recently used
			h.do(w, &complete{}) // idle
			h.run(act("c", "ns", "c", 256))
			h.run(act("w2", "ns", "w", 256))
			s := h.sync()
			if !h.stateOf(x).removing || h.stateOf(w).removing {
				t.Fatalf("want x evicted for c and w kept; snapshot %+v", s)
			}
			if tc.warmFirst {
				if got := h.placedOrder(); !slices.Contains(got, "w2") || slices.Contains(got, "c") {
					t.Fatalf("placements %v: want w2 placed warm while c waits for x's memory", got)
				}
			} else if got := h.placedOrder(); slices.Contains(got, "w2") {
				t.Fatalf("placements %v: the fifo rule placed w2 ahead of c", got)
			}
			h.do(x, &destroyed{})
			h.sync()
			if tc.warmFirst {
				h.wantPlacedBefore("w2", "c")
			} else {
				h.wantPlacedBefore("c", "w2")
			}
			for _, p := range h.placed() {
				if p.ID == "w2" && p.Kind != actors.StartWarm {
					t.Fatalf("w2 started %s, want warm", p.Kind)
				}
			}
		})
	}
}

// A job waiting for memory is placed as soon as what it was promised is
// free, however many jobs went ahead of it meanwhile: warm hits run ahead,
// new cold starts of other actions do not take its memory.
func TestPromisedJobIsNotStarved(t *testing.T) {
	h := newHarness(t, testConfig(1024))
	h.fill("ns", 256, "s1", "s2", "s3", "s4")
	s1, s2, s3 := h.container(0), h.container(1), h.container(2)
	h.run(act("big", "ns", "big", 512))
	h.sync()
	h.do(s1, &complete{})
	h.do(s1, &goAway{}) // idle timeout: 256 MB back, set aside for big
	for i := range 20 {
		// Warm hits on s2 go ahead; new cold starts wait behind big.
		h.run(act(fmt.Sprintf("w%d", i), "ns", "s2", 256))
		h.run(act(fmt.Sprintf("n%d", i), "ns2", fmt.Sprintf("n%d", i), 128))
		h.sync()
		h.do(s2, &complete{})
	}
	h.sync()
	if got := h.placedOrder(); !slices.Contains(got, "w19") {
		t.Fatalf("placements %v: want every warm hit placed", got)
	}
	if got := h.placedOrder(); slices.Contains(got, "big") || slices.ContainsFunc(got, func(id string) bool { return id[0] == 'n' }) {
		t.Fatalf("placements %v: big holds 256 MB of 512 and must wait; nothing may take its memory", got)
	}
	s := h.sync()
	if s.Free != 256*config.MB {
		t.Fatalf("snapshot %+v: want s1's 256 MB free and set aside for big", s)
	}
	h.do(s3, &complete{}) // idle: evicted for big, which then fits
	h.sync()
	ids := h.placedOrder()
	if i := slices.Index(ids, "big"); i < 0 || slices.ContainsFunc(ids[:i], func(id string) bool { return id[0] == 'n' }) {
		t.Fatalf("placements %v: want big placed once its memory was back, before any n", ids)
	}
}

// One namespace flooding the pool delays another namespace's activation
// by at most one placement: the flood holds promises only within its share
// of the memory.
func TestFloodingNamespaceDoesNotStarveAnother(t *testing.T) {
	h := newHarness(t, testConfig(1024))
	h.fill("flood", 512, "a0", "a1")
	for i := 2; i < 20; i++ {
		h.run(act(fmt.Sprintf("a%d", i), "flood", fmt.Sprintf("a%d", i), 512))
	}
	h.sync()
	h.run(act("b", "quiet", "b", 256))
	h.sync()
	h.do(h.container(0), &complete{}) // evicted for the flood's oldest promise
	h.sync()
	h.do(h.container(1), &complete{}) // evicted for b
	h.sync()
	ids := h.placedOrder()
	want := []string{"a0", "a1", "a2", "b"}
	if len(ids) < len(want) || !slices.Equal(ids[:len(want)], want) {
		t.Fatalf("placements %v: want %v first (b after one placement of the flood)", ids, want)
	}
}

// A flood of small activations holds promises within its share only, and
// promises are honoured round robin: the quiet namespace's activation comes
// right after the flood's oldest promise.
func TestPromisesAreHonouredRoundRobin(t *testing.T) {
	h := newHarness(t, testConfig(1024))
	h.fill("flood", 256, "a0", "a1", "a2", "a3")
	for i := 4; i < 20; i++ {
		h.run(act(fmt.Sprintf("a%d", i), "flood", fmt.Sprintf("a%d", i), 128))
	}
	h.run(act("b", "quiet", "b", 128))
	h.sync()
	h.do(h.container(0), &complete{}) // 256 MB: one promise of each namespace
	h.sync()
	ids := h.placedOrder()
	want := []string{"a0", "a1", "a2", "a3", "a4", "b"}
	if !slices.Equal(ids, want) {
		t.Fatalf("placements %v: want %v", ids, want)
	}
}

// Enqueue returns once the pool placed or queued the activation, and
// returns the pool's refusal otherwise; the result follows on the channel.
func TestEnqueue(t *testing.T) {
	cfg := testConfig(512)
	cfg.ContainerPool.BufferSize = 1
	h := newHarness(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	placed, err := h.pool.Enqueue(ctx, act("p", "ns", "x", 512))
	if err != nil {
		t.Fatalf("placed: %v", err)
	}
	queued, err := h.pool.Enqueue(ctx, act("q", "ns", "y", 256))
	if err != nil {
		t.Fatalf("queued: %v", err)
	}
	if _, err := h.pool.Enqueue(ctx, act("r", "ns", "z", 256)); !errors.Is(err, actors.ErrBufferFull) {
		t.Fatalf("over the buffer: %v, want ErrBufferFull", err)
	}
	if _, err := h.pool.Enqueue(ctx, act("huge", "ns", "huge", 1024)); !errors.Is(err, actors.ErrTooLarge) {
		t.Fatalf("too large: %v, want ErrTooLarge", err)
	}
	h.sync()
	h.do(h.container(0), &complete{Status: 0})
	h.sync()
	h.do(h.container(1), &complete{Status: 0})
	for name, ch := range map[string]<-chan *actors.RunResult{"p": placed, "q": queued} {
		select {
		case rr := <-ch:
			if rr.Err != nil || rr.Result.ActivationID != name {
				t.Fatalf("%s: result %+v", name, rr)
			}
		case <-ctx.Done():
			t.Fatalf("%s: no result", name)
		}
	}
}

// A stock of stem cells that fills the memory gives way to an activation
// that none of them suits: without that it would wait for good.
func TestStemCellsGiveWayToAWaitingActivation(t *testing.T) {
	h := newHarness(t, testConfig(512))
	h.stemCell(1, "js:goja", 256, time.Time{})
	h.stemCell(2, "js:goja", 256, time.Time{})
	h.run(act("small", "ns", "small", 128)) // js:goja at 128 MB: no stem cell matches without promotion
	s := h.sync()
	if got := h.placedOrder(); !slices.Equal(got, []string{"small"}) {
		t.Fatalf("placements %v, snapshot %+v: want small started in a stem cell's memory", got, s)
	}
	if s.Prewarmed.Count != 1 {
		t.Fatalf("snapshot %+v: want one stem cell removed and one kept (128 MB is enough)", s)
	}
	if p := h.placed()[0]; p.Kind != actors.StartRecreated && p.Kind != actors.StartCold {
		t.Fatalf("small started %s, want a new container", p.Kind)
	}
}
