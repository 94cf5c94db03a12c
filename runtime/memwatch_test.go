package runtime

import (
	"net/http"
	goruntime "runtime"
	"strings"
	"testing"
	"time"
)

// memHarness is a runtime watching a fake cgroup whose samples the test
// takes: each tick it sends is one sample.
type memHarness struct {
	*harness
	cg      *fakeCgroup
	ticks   chan time.Time
	started chan struct{} // one value per sampler start
}

// newMemHarness watches a fake 128 MiB v1 cgroup with the heap rule off;
// environ, when set, gives the actions' environment.
func newMemHarness(t *testing.T, environ func(*fakeCgroup) []string) *memHarness {
	t.Helper()
	cg := newFakeCgroup(t, false, "134217728")
	var env []string
	if environ != nil {
		env = environ(cg)
	}
	m, err := OpenMemory(cg.root)
	if err != nil {
		t.Fatal(err)
	}
	m.heap = func() heapStats { return heapStats{} }
	m.gc = func() {}
	h := &memHarness{cg: cg, ticks: make(chan time.Time), started: make(chan struct{}, 8)}
	h.harness = newHarness(t, Options{Memory: m, Environ: env})
	h.srv.mem.tickers = func(time.Duration) (<-chan time.Time, func()) {
		h.started <- struct{}{}
		return h.ticks, func() {}
	}
	return h
}

// runAsync posts /run on its own goroutine.
func (h *memHarness) runAsync(params any) <-chan response {
	done := make(chan response, 1)
	go func() { done <- h.run(params, "act-1") }()
	return done
}

// thrash feeds the sampler a second at the limit with code read back.
func (h *memHarness) thrash() {
	h.t.Helper()
	t0 := time.Now()
	for i, faults := range []int64{100, 5000} {
		at := t0.Add(time.Duration(i) * time.Second)
		h.cg.set(memSample{usage: 127 * mib, anon: 126 * mib, majFaults: faults})
		h.ticks <- at
		if i == 0 {
			// The sampler takes the next tick only when done with this
			// one: the files may change after that. A second sample at
			// the same instant changes nothing.
			h.ticks <- at
		}
	}
}

// await returns the answer, failing the test if none comes within a
// bound far above what the runtime needs.
func await(t *testing.T, done <-chan response) response {
	t.Helper()
	select {
	case r := <-done:
		return r
	case <-time.After(30 * time.Second):
		t.Fatal("no answer within 30 s")
		return response{}
	}
}

func assertMemoryExhausted(t *testing.T, r response) {
	t.Helper()
	if r.status != http.StatusBadGateway || r.header.Get(MemoryExhaustedHeader) != "true" || r.errorText() != msgMemoryExhausted {
		t.Fatalf("status %d, header %q, body %s; want 502 marked memory exhausted", r.status, r.header.Get(MemoryExhaustedHeader), r.body)
	}
}

func TestThrashingAbortsJavaScript(t *testing.T) {
	h := newMemHarness(t, nil)
	h.mustInitJS(`function main(p) { console.log("started"); while (true) {} }`)
	<-h.started // /init was watched; its sampler has stopped
	done := h.runAsync(map[string]any{})
	<-h.started
	h.thrash()
	assertMemoryExhausted(t, await(t, done))
	if errs := h.stderr.lines(); len(errs) < 2 || !strings.Contains(errs[len(errs)-2], "thrashing at the limit of 134217728 bytes") || errs[len(errs)-1] != Sentinel {
		t.Errorf("stderr = %q, want the reason, then the sentinel", errs)
	}
}

func TestThrashingKillsNativeAction(t *testing.T) {
	h := newMemHarness(t, nil)
	if r := h.initBinary(buildActionloop(t)); r.status != http.StatusOK {
		t.Fatalf("/init: %d %s", r.status, r.body)
	}
	<-h.started
	done := h.runAsync(map[string]any{"name": "hang"})
	<-h.started
	h.thrash()
	assertMemoryExhausted(t, await(t, done))
	// The child was killed, not left sleeping: the runtime refuses to
	// pair another activation with it.
	if r := h.run(map[string]any{"name": "x"}, "act-2"); r.status != http.StatusBadGateway || !strings.Contains(r.errorText(), "cannot run again") {
		t.Fatalf("next run: %d %s", r.status, r.body)
	}
}

// TestKernelKillOfNativeAction: a native action the kernel killed at the
// limit is out of memory; one that crashed on its own is not.
func TestKernelKillOfNativeAction(t *testing.T) {
	tests := []struct {
		name    string
		action  string
		wantOOM bool
	}{
		{name: "killed at the limit", action: "oomkill", wantOOM: true},
		{name: "crashed", action: "crash"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newMemHarness(t, func(cg *fakeCgroup) []string {
				path, after := cg.eventsFile(1)
				return []string{"OOM_EVENTS=" + path, "OOM_EVENTS_AFTER=" + after}
			})
			if r := h.initBinary(buildActionloop(t)); r.status != http.StatusOK {
				t.Fatalf("/init: %d %s", r.status, r.body)
			}
			r := h.run(map[string]any{"name": tt.action}, "act-1")
			if tt.wantOOM {
				assertMemoryExhausted(t, r)
				return
			}
			if r.status != http.StatusBadGateway || !strings.Contains(r.errorText(), "exited without a result") || r.header.Get(MemoryExhaustedHeader) != "" {
				t.Fatalf("%d %s, want the exit reported", r.status, r.body)
			}
		})
	}
}

// TestHeapRuleAbortsJavaScript runs the heap rule on this process's real
// heap: an action that keeps what it allocates is stopped once the live
// heap passes the limit set a little above what the test process holds.
func TestHeapRuleAbortsJavaScript(t *testing.T) {
	h := newMemHarness(t, nil)
	m := h.srv.opts.Memory
	goruntime.GC()
	base := readHeap().live
	m.heap, m.gc = readHeap, goruntime.GC
	m.heapAbort = int64(base) + 48*mib
	m.goLimit = m.heapAbort + 8*mib
	m.interval = 5 * time.Millisecond
	h.srv.mem.tickers = realTicker
	h.mustInitJS(`function main() { var keep = []; for (;;) { keep.push(new Float64Array(1e5).fill(1.5)); } }`)
	assertMemoryExhausted(t, h.run(map[string]any{}, "act-1"))
	if errs := strings.Join(h.stderr.lines(), "\n"); !strings.Contains(errs, "the live Go heap is") {
		t.Errorf("stderr = %q, want the heap rule's reason", errs)
	}
}
