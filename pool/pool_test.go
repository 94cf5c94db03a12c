package pool

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/internal/protocol"
)

func ids(ps []placement) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return out
}

func (h *harness) wantPlacements(want ...string) {
	h.t.Helper()
	if got := ids(h.placed()); !slices.Equal(got, want) {
		h.t.Fatalf("placements %v, want %v", got, want)
	}
}

func (h *harness) wantOneResult(id string, status factory.Status) actors.RunResult {
	h.t.Helper()
	if _, err := h.sys.Root.RequestFuture(h.collector, &ping{}, waitFor).Result(); err != nil {
		h.t.Fatalf("ping collector: %v", err)
	}
	rs := h.resultsFor(id)
	if len(rs) != 1 {
		h.t.Fatalf("activation %s has %d results, want exactly 1: %+v", id, len(rs), rs)
	}
	if rs[0].Err == nil && rs[0].Result.Status != status {
		h.t.Fatalf("activation %s status %d, want %d", id, rs[0].Result.Status, status)
	}
	return rs[0]
}

func TestWarmReuseAndStartKinds(t *testing.T) {
	h := newHarness(t, testConfig(1024))
	h.run(act("a1", "ns1", "hello", 256))
	h.sync()
	c0 := h.container(0)
	h.do(c0, &ready{})
	h.do(c0, &complete{})
	h.run(act("a2", "ns1", "hello", 256))
	h.run(act("a3", "ns2", "hello", 256)) // other namespace: never shares
	s := h.sync()
	ps := h.placed()
	if len(ps) != 3 || ps[0].Kind != actors.StartCold || ps[1].Kind != actors.StartWarm || ps[1].Container != ps[0].Container ||
		ps[2].Kind != actors.StartCold || ps[2].Container == ps[0].Container {
		t.Fatalf("placements %+v: want a1 cold, a2 warm on a1's container, a3 cold elsewhere", ps)
	}
	if s.Busy.Count != 1 || s.Starting.Count != 1 || s.Free != 512*mb {
		t.Fatalf("snapshot %+v: want 1 busy, 1 starting, 512 MB free", s)
	}
	h.wantOneResult("a1", factory.StatusSuccess)
}

// stemCellStub is a factory.Container that is never driven: stand-ins do
// not touch their container.
type stemCellStub struct{ factory.Container }

func (stemCellStub) ID() string { return "stub" }

func (h *harness) stemCell(ref uint64, kind string, memMB int64, expires time.Time) {
	h.t.Helper()
	res, err := h.sys.Root.RequestFuture(h.pool.PID(), &actors.ReserveMemory{Ref: ref, Kind: kind, Memory: config.ByteSize(memMB) * mb}, waitFor).Result()
	if err != nil || !res.(*actors.ReserveMemoryReply).Granted {
		h.t.Fatalf("reserve %d: %v %+v", ref, err, res)
	}
	h.sys.Root.Send(h.pool.PID(), &actors.StemCellReady{Ref: ref, Kind: kind, Memory: config.ByteSize(memMB) * mb,
		Container: stemCellStub{}, Created: h.clock.Now(), Expires: expires})
	h.sync()
}

func TestPlacementPrefersWarmedOverWarmingOverWarmingCold(t *testing.T) {
	h := newHarness(t, testConfig(1024))
	conc := func(a actors.Activation) actors.Activation { a.Action.Limits.MaxConcurrency = 2; return a }
	h.run(conc(act("a1", "ns", "f", 256)))
	h.run(conc(act("a2", "ns", "f", 256))) // joins the warming-cold container
	h.sync()
	if n := h.numContainers(); n != 1 {
		t.Fatalf("%d containers, want 1: a2 joins a1's cold container", n)
	}
	h.stemCell(1, "js:goja", 256, time.Time{})
	h.run(conc(act("a3", "ns", "f", 256))) // c0 is full: takes the stem cell
	h.sync()
	c0, c1 := h.container(0), h.container(1)
	h.run(conc(act("a4", "ns", "f", 256))) // joins the warming stem cell
	h.sync()
	h.do(c0, &ready{})
	h.do(c0, &complete{ID: "a1"})
	h.do(c1, &complete{ID: "a3"}) // c1 warmed too now, with a4 on it
	h.do(c0, &complete{ID: "a2"})
	// Both warmed; c1 has a4 running. Make c1 warming again is impossible, so
	// check the other order with a fresh identity below.
	h.run(conc(act("a5", "ns", "f", 256)))
	h.sync()
	ps := h.placed()
	want := []struct {
		id        string
		container *actor.PID
		kind      actors.StartKind
	}{{"a1", c0, actors.StartCold}, {"a2", c0, actors.StartWarm}, {"a3", c1, actors.StartPrewarmed}, {"a4", c1, actors.StartWarm}}
	for i, w := range want {
		if ps[i].ID != w.id || ps[i].Container != w.container.Id || ps[i].Kind != w.kind {
			t.Fatalf("placement %d = %+v, want %s on %s as %s", i, ps[i], w.id, w.container.Id, w.kind)
		}
	}
	if !h.prewarmGot(func(m any) bool {
		tk, ok := m.(*actors.StemCellTaken)
		return ok && tk.Ref == 1 && tk.Memory == 256*mb
	}) {
		t.Fatalf("prewarm got %v, want StemCellTaken{Ref 1}", h.sentToPrewarm())
	}

	// Warmed beats warming: g on c2 warmed and idle, then a stem cell taken
	// by g while c2 is full; the next g goes to c2, not the warming one.
	// Runs of g are long, so g2 starts a container rather than wait for c2
	// (scaleout.go).
	h.run(act("g1", "ns", "g", 256))
	h.sync()
	c2 := h.container(2)
	h.do(c2, &ready{})
	h.do(c2, &complete{ID: "g1", Run: time.Minute})
	h.run(act("g1b", "ns", "g", 256))
	h.run(act("g2", "ns", "g", 128)) // same identity: c2 is full, cold
	h.sync()
	h.do(c2, &complete{ID: "g1b"})
	h.run(act("g3", "ns", "g", 256))
	h.sync()
	last := h.placed()[len(h.placed())-1]
	if last.ID != "g3" || last.Container != c2.Id {
		t.Fatalf("g3 placed %+v, want on warmed %s rather than the warming-cold one", last, c2.Id)
	}
}

func TestStemCellMatchAndPromotion(t *testing.T) {
	for _, promotion := range []bool{false, true} {
		t.Run(map[bool]string{false: "exact", true: "promotion"}[promotion], func(t *testing.T) {
			cfg := testConfig(1024)
			cfg.ContainerPool.PrewarmPromotion = promotion
			h := newHarness(t, cfg)
			t0 := h.clock.Now()
			h.stemCell(1, "js:goja", 512, t0.Add(time.Minute))
			h.stemCell(2, "js:goja", 256, t0.Add(2*time.Minute))
			h.stemCell(3, "python:3", 128, time.Time{})
			h.run(act("small", "ns", "f", 128)) // no exact nodejs 128
			h.run(act("exact", "ns", "g", 512))
			s := h.sync()
			ps := h.placed()
			wantSmall := actors.StartCold
			if promotion {
				wantSmall = actors.StartPrewarmed
			}
			if ps[0].Kind != wantSmall || ps[1].Kind != actors.StartPrewarmed {
				t.Fatalf("placements %+v: want small as %s and exact as prewarmed", ps, wantSmall)
			}
			if promotion && ps[0].Container != h.container(1).Id {
				t.Fatalf("promotion took %s, want the 256 MB stem cell %s", ps[0].Container, h.container(1).Id)
			}
			left := config.ByteSize(128) * mb // python
			if !promotion {
				left += 256 * mb
			}
			if s.Prewarmed.Memory != left {
				t.Fatalf("prewarmed %+v, want %d MB left", s.Prewarmed, left.MBs())
			}
		})
	}
}

func TestEvictionLRUJustEnoughAndWaitForMemory(t *testing.T) {
	h := newHarness(t, testConfig(1024))
	h.autoRemove = false
	for i, name := range []string{"a", "b", "c", "d"} {
		h.run(act(name, "ns", name, 256))
		h.sync()
		c := h.container(i)
		h.do(c, &ready{})
		h.clock.Advance(time.Second)
	}
	// Idle in the order c, a, d, b: least recently used first is c.
	for _, i := range []int{2, 0, 3, 1} {
		h.do(h.container(i), &complete{})
		h.clock.Advance(time.Second)
	}
	h.run(act("big", "ns", "big", 512))
	s := h.sync()
	if s.Removing.Count != 2 || s.Removing.Memory != 512*mb || s.Idle.Count != 2 {
		t.Fatalf("snapshot %+v: want 2 evicted (512 MB removing), 2 idle", s)
	}
	for _, i := range []int{2, 0} {
		st := h.stateOf(h.container(i))
		if !st.removing {
			t.Fatalf("container %d not evicted; LRU order says c then a", i)
		}
	}
	if st := h.stateOf(h.container(3)); st.removing {
		t.Fatalf("container d evicted: more than needed")
	}
	h.wantPlacements("a", "b", "c", "d") // big waits for the memory
	h.do(h.container(2), &destroyed{})
	h.sync()
	h.wantPlacements("a", "b", "c", "d") // half the memory is back: still waits, and no new eviction
	if s := h.sync(); s.Removing.Count != 1 || s.Idle.Count != 2 {
		t.Fatalf("snapshot %+v: a second eviction happened", s)
	}
	h.do(h.container(0), &destroyed{})
	h.sync()
	h.wantPlacements("a", "b", "c", "d", "big")
	if k := h.placed()[4].Kind; k != actors.StartRecreated {
		t.Fatalf("big started %s, want recreated", k)
	}
}

func (h *harness) stateOf(c *actor.PID) *standinState {
	h.t.Helper()
	res, err := h.sys.Root.RequestFuture(c, &state{}, waitFor).Result()
	if err != nil {
		h.t.Fatalf("state of %s: %v", c.Id, err)
	}
	return res.(*standinState)
}

func TestNoEvictionWhenItWouldNotFit(t *testing.T) {
	h := newHarness(t, testConfig(1024))
	h.run(act("busy1", "ns", "x", 256))
	h.run(act("idle", "ns", "y", 256))
	h.run(act("busy2", "ns", "z", 512))
	h.sync()
	h.do(h.container(1), &ready{})
	h.do(h.container(1), &complete{})
	h.run(act("big", "ns", "big", 512)) // free 0, evictable 256 < 512
	s := h.sync()
	if s.Removing.Count != 0 || s.Idle.Count != 1 || s.Buffered.Count != 1 {
		t.Fatalf("snapshot %+v: want no eviction, big buffered", s)
	}
}

func TestFIFOLargeHeadBlocksSmallOnes(t *testing.T) {
	h := newHarness(t, testConfig(1024))
	h.run(act("hog", "ns", "hog", 768))
	h.sync()
	h.run(act("big", "ns", "big", 512))
	h.run(act("small1", "ns", "s1", 128)) // would fit, but big is ahead
	h.run(act("small2", "ns", "s2", 128))
	s := h.sync()
	h.wantPlacements("hog")
	if s.Buffered.Count != 3 || s.Buffered.Memory != 768*mb {
		t.Fatalf("buffered %+v, want 3 activations needing 768 MB", s.Buffered)
	}
	// Reservations wait behind the buffer too.
	res, _ := h.sys.Root.RequestFuture(h.pool.PID(), &actors.ReserveMemory{Ref: 9, Kind: "js:goja", Memory: 128 * mb}, waitFor).Result()
	if res.(*actors.ReserveMemoryReply).Granted {
		t.Fatalf("reservation granted while activations wait")
	}
	c0 := h.container(0)
	h.do(c0, &ready{})
	h.do(c0, &complete{}) // hog idle: evicted for big, then big, then the small ones
	h.sync()
	h.wantPlacements("hog", "big", "small1", "small2")
	h.wantOneResult("hog", factory.StatusSuccess)
	if !h.prewarmGot(func(m any) bool { _, ok := m.(*actors.CapacityChanged); return ok }) {
		t.Fatalf("prewarm never told capacity changed")
	}
}

func TestBufferHeadNeverSentTwice(t *testing.T) {
	h := newHarness(t, testConfig(512))
	conc := func(a actors.Activation) actors.Activation { a.Action.Limits.MaxConcurrency = 1; return a }
	h.run(conc(act("r1", "ns", "f", 256)))
	h.run(conc(act("r2", "ns", "g", 256)))
	h.sync()
	for i := range 10 {
		h.run(conc(act("w"+string(rune('0'+i)), "ns", "h", 512)))
	}
	// Many capacity events while the head waits.
	h.do(h.container(0), &ready{})
	h.do(h.container(1), &ready{})
	h.sync()
	h.do(h.container(0), &complete{}) // evicts c0 for the head; waits for c1's memory
	h.sync()
	for range 3 {
		h.sync()
		h.pool.root.Send(h.pool.PID(), &protocol.JobDone{Container: actor.NewPID("nonhost", "nobody")}) // unknown: ignored (§11.4)
	}
	h.do(h.container(1), &complete{}) // now both go for the head
	h.sync()
	c2 := h.container(2)
	h.do(c2, &ready{})
	for range 10 {
		h.do(c2, &complete{}) // each completion lets the next one in, warm
		h.sync()
	}
	seen := map[string]int{}
	h.mu.Lock()
	for _, got := range h.received {
		for _, id := range got {
			seen[id]++
		}
	}
	h.mu.Unlock()
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("activation %s sent to containers %d times", id, n)
		}
	}
	if len(seen) != 12 {
		t.Fatalf("%d activations reached a container, want 12", len(seen))
	}
	for i := range 10 {
		h.wantOneResult("w"+string(rune('0'+i)), factory.StatusSuccess)
	}
}

func TestConcurrencyCounting(t *testing.T) {
	h := newHarness(t, testConfig(256))
	for i := range 5 {
		a := act("j"+string(rune('0'+i)), "ns", "f", 256)
		a.Action.Limits.MaxConcurrency = 3
		h.run(a)
	}
	s := h.sync()
	if n := h.numContainers(); n != 1 {
		t.Fatalf("%d containers, want 1", n)
	}
	c0 := h.container(0)
	if st := h.stateOf(c0); st.jobs != 3 || s.Buffered.Count != 2 {
		t.Fatalf("container holds %d jobs, %d buffered; want 3 and 2", st.jobs, s.Buffered.Count)
	}
	h.do(c0, &ready{})
	h.do(c0, &complete{ID: "j0"})
	h.sync()
	if st := h.stateOf(c0); st.jobs != 3 {
		t.Fatalf("after one done the container holds %d jobs, want 3", st.jobs)
	}
	for range 4 {
		h.do(c0, &complete{})
		// The pool hands a buffered job over on this JobDone: let it reach
		// the stand-in before the next complete, or that one finds no job.
		h.sync()
	}
	s = h.sync()
	if s.Idle.Count != 1 || s.Buffered.Count != 0 {
		t.Fatalf("snapshot %+v: want one idle container, nothing buffered", s)
	}
	for i := range 5 {
		h.wantOneResult("j"+string(rune('0'+i)), factory.StatusSuccess)
	}
}

func TestRejections(t *testing.T) {
	// Behind the fifo buffer the huge job is not even tried; the fair rule
	// tries it, as nothing of its action waits, and refuses it for its size.
	for _, tc := range []struct {
		queue   string
		hugeErr error
		huge    string
	}{
		{config.QueueFIFO, ErrBufferFull, "buffer-size"},
		{config.QueueFair, ErrTooLarge, "exceeds container-pool.user-memory"},
	} {
		t.Run(tc.queue, func(t *testing.T) { testRejections(t, tc.queue, tc.hugeErr, tc.huge) })
	}
}

func testRejections(t *testing.T, queue string, hugeErr error, hugeText string) {
	cfg := testConfig(512)
	cfg.ContainerPool.BufferSize = 2
	cfg.ContainerPool.Queue = queue
	h := newHarness(t, cfg)
	h.run(act("hog", "ns", "hog", 512))
	h.run(act("b1", "ns", "x", 256))
	h.run(act("b2", "ns", "y", 256))
	h.run(act("b3", "ns", "z", 256))
	h.run(act("huge", "ns", "huge", 1024))
	bad := act("zero", "ns", "zero", 0)
	h.run(bad)
	h.sync()
	tests := []struct {
		id   string
		err  error
		text string
	}{
		{"b3", ErrBufferFull, "container-pool.buffer-size is 2"},
		{"huge", hugeErr, hugeText},
		{"zero", ErrInvalidActivation, "must be > 0"},
	}
	for _, tc := range tests {
		r := h.wantOneResult(tc.id, 0)
		if !errors.Is(r.Err, tc.err) || !strings.Contains(r.Err.Error(), tc.text) {
			t.Fatalf("%s: error %v, want %v containing %q", tc.id, r.Err, tc.err, tc.text)
		}
	}
	h2 := newHarness(t, testConfig(512))
	h2.run(act("huge", "ns", "huge", 1024))
	h2.sync()
	if r := h2.wantOneResult("huge", 0); !errors.Is(r.Err, ErrTooLarge) || !strings.Contains(r.Err.Error(), "container-pool.user-memory 512 MB") {
		t.Fatalf("huge: %v", r.Err)
	}
}

func TestRescheduledJobKeepsItsPlace(t *testing.T) {
	h := newHarness(t, testConfig(512))
	h.run(act("a0", "ns", "x", 256))
	h.run(act("a1", "ns", "y", 256))
	h.sync()
	h.run(act("b1", "ns", "z", 256))
	h.run(act("b2", "ns", "z", 256))
	h.sync()
	h.do(h.container(0), &bounce{}) // health error: a0 comes back, the container goes
	h.sync()
	// a0 goes first on the memory its old container gave back; b1 waits.
	h.wantPlacements("a0", "a1", "a0")
	if got := h.placed()[2].Kind; got != actors.StartCold {
		t.Fatalf("a0 restarted as %s, want cold", got)
	}
	if s := h.sync(); s.Buffered.Count != 2 {
		t.Fatalf("buffered %d, want b1 and b2", s.Buffered.Count)
	}
}

func TestReservationsAndStemCellRemoval(t *testing.T) {
	h := newHarness(t, testConfig(512))
	reserve := func(ref uint64, m int64) bool {
		res, err := h.sys.Root.RequestFuture(h.pool.PID(), &actors.ReserveMemory{Ref: ref, Kind: "js:goja", Memory: config.ByteSize(m) * mb}, waitFor).Result()
		if err != nil {
			t.Fatalf("reserve: %v", err)
		}
		return res.(*actors.ReserveMemoryReply).Granted
	}
	if !reserve(1, 256) || !reserve(2, 256) || reserve(3, 1) || reserve(1, 1) {
		t.Fatalf("want 1 and 2 granted, 3 (no room) and duplicate 1 refused")
	}
	if s := h.sync(); s.Starting.Count != 2 || s.Free != 0 {
		t.Fatalf("snapshot %+v: want 2 starting reservations, nothing free", s)
	}
	h.sys.Root.Send(h.pool.PID(), &actors.ReleaseMemory{Ref: 2})
	if s := h.sync(); s.Free != 256*mb {
		t.Fatalf("free %d MB after release, want 256", s.Free.MBs())
	}
	h.sys.Root.Send(h.pool.PID(), &actors.StemCellReady{Ref: 1, Kind: "js:goja", Memory: 256 * mb, Container: stemCellStub{}})
	h.stemCell(4, "js:goja", 256, time.Time{})
	h.run(act("a", "ns", "f", 256)) // takes one of them
	h.sync()
	taken := h.placed()[0].Container
	for _, ref := range []uint64{1, 4} {
		h.sys.Root.RequestWithCustomSender(h.pool.PID(), &actors.RemoveStemCell{Ref: ref, Reason: "expired"}, h.prewarm)
	}
	s := h.sync()
	if s.Prewarmed.Count != 0 || s.Free != 256*mb || s.Starting.Count != 1 {
		t.Fatalf("snapshot %+v: want the untaken stem cell removed and its memory back, the taken one starting", s)
	}
	h.prewarmGot(func(m any) bool { _, ok := m.(*actors.StemCellRemoved); return ok })
	var takenRef, removedRef uint64
	for _, m := range h.sentToPrewarm() {
		switch m := m.(type) {
		case *actors.StemCellTaken:
			takenRef = m.Ref
		case *actors.StemCellRemoved:
			removedRef = m.Ref
		}
	}
	if takenRef == 0 || removedRef == 0 || takenRef == removedRef {
		t.Fatalf("prewarm told taken %d and removed %d, want one of each (taken on %s)", takenRef, removedRef, taken)
	}
}

func TestMemorySyncPublishesToSubscribers(t *testing.T) {
	h := newHarness(t, testConfig(512))
	ch := make(chan *actors.MemorySnapshot, 8)
	sub := h.sys.Root.Spawn(actor.PropsFromFunc(func(c actor.Context) {
		if s, ok := c.Message().(*actors.MemorySnapshot); ok {
			ch <- s
		}
	}))
	defer func() { _ = h.sys.Root.StopFuture(sub).Wait() }()
	h.pool.Subscribe(sub)
	h.run(act("a", "ns", "f", 256))
	h.sync()
	h.clock.Advance(time.Second)
	select {
	case s := <-ch:
		if s.Starting.Count != 1 || s.Free != 256*mb || s.Total != 512*mb {
			t.Fatalf("published %+v: want 1 starting, 256 MB free of 512", s)
		}
	case <-time.After(waitFor):
		t.Fatalf("no snapshot published after memory-sync-interval")
	}
	h.pool.Unsubscribe(sub)
	h.sync()
	h.clock.Advance(time.Second)
	h.sync()
	select {
	case s := <-ch:
		t.Fatalf("snapshot %+v published after Unsubscribe", s)
	default:
	}
}

func TestShutdown(t *testing.T) {
	for _, abort := range []bool{false, true} {
		t.Run(map[bool]string{false: "graceful", true: "deadline"}[abort], func(t *testing.T) {
			h := newHarness(t, testConfig(512))
			h.run(act("running", "ns", "f", 512))
			h.run(act("buffered", "ns", "g", 256))
			h.sync()
			h.stemCellWontFit()
			deadline := h.clock.Now().Add(10 * time.Second)
			f := h.sys.Root.RequestFuture(h.pool.PID(), &actors.Shutdown{Deadline: deadline}, waitFor)
			h.run(act("late", "ns", "f", 256))
			h.sync()
			for _, id := range []string{"buffered", "late"} {
				if r := h.wantOneResult(id, 0); !errors.Is(r.Err, ErrShuttingDown) {
					t.Fatalf("%s: %v, want ErrShuttingDown", id, r.Err)
				}
			}
			if abort {
				h.clock.Advance(10 * time.Second)
				h.sync()
				h.wantOneResult("running", factory.StatusInternalError)
			} else {
				h.do(h.container(0), &complete{})
				h.wantOneResult("running", factory.StatusSuccess)
			}
			res, err := f.Result()
			if err != nil {
				t.Fatalf("shutdown: %v", err)
			}
			if d := res.(*actors.ShutdownDone); d.Err != nil {
				t.Fatalf("shutdown done with %v", d.Err)
			}
			for i := range h.numContainers() {
				id := h.container(i).Id
				h.mu.Lock()
				n := h.destroyed[id]
				h.mu.Unlock()
				if n != 1 {
					t.Fatalf("container %d destroyed %d times, want 1", i, n)
				}
			}
		})
	}
}

// stemCellWontFit checks a reservation is refused when full.
func (h *harness) stemCellWontFit() {
	h.t.Helper()
	res, _ := h.sys.Root.RequestFuture(h.pool.PID(), &actors.ReserveMemory{Ref: 77, Kind: "k", Memory: mb}, waitFor).Result()
	if res.(*actors.ReserveMemoryReply).Granted {
		h.t.Fatalf("reservation granted with no room")
	}
}

func TestCrashedContainerReleasesItsMemory(t *testing.T) {
	h := newHarness(t, testConfig(512))
	h.run(act("a", "ns", "f", 512))
	h.sync()
	h.do(h.container(0), &crash{})
	// The actor's stop reaches the pool as Terminated, asynchronously.
	deadline := time.Now().Add(waitFor)
	for h.sync().Free != 512*mb {
		if time.Now().After(deadline) {
			t.Fatalf("memory of the crashed container never came back: %+v", h.sync())
		}
		time.Sleep(time.Millisecond) // polling pace; the condition is the synchronisation
	}
	h.run(act("b", "ns", "g", 512))
	s := h.sync()
	if n := h.numContainers(); n != 2 || s.Starting.Count != 1 {
		t.Fatalf("%d containers, snapshot %+v: want b on a new container", n, s)
	}
}

func TestInvokeAndSnapshotAPI(t *testing.T) {
	h := newHarness(t, testConfig(512))
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		r, err := h.pool.Invoke(ctx, act("api", "ns", "f", 256))
		if err == nil && r.ActivationID != "api" {
			err = errors.New("wrong activation " + r.ActivationID)
		}
		done <- err
	}()
	for h.numContainers() == 0 {
		h.sync()
	}
	h.sync()
	h.do(h.container(0), &complete{})
	if err := <-done; err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	s, err := h.pool.Snapshot(ctx)
	if err != nil || s.Total != 512*mb {
		t.Fatalf("Snapshot = %+v, %v", s, err)
	}
	cctx, ccancel := context.WithCancel(context.Background())
	ccancel()
	if _, err := h.pool.Invoke(cctx, act("x", "ns", "f", 256)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Invoke with a cancelled context: %v", err)
	}
}
