package runtime

import (
	"errors"
	"fmt"
	goruntime "runtime"
	"runtime/metrics"
	"time"
)

// MemoryExhaustedHeader marks a /init or /run answer (502) given because the
// action exhausted the container's memory, so the invoker reports OpenWhisk's
// out-of-memory error and does not reuse the container.
const MemoryExhaustedHeader = "Stemcell-Memory-Exhausted"

// msgMemoryExhausted is OpenWhisk's text, also the body of such an answer
// for clients that do not know the header.
const msgMemoryExhausted = "The action exhausted its memory and was aborted."

// errMemoryExhausted is the cancellation cause of activations aborted for
// memory.
var errMemoryExhausted = errors.New(msgMemoryExhausted)

// Memory is the container's memory budget and the rules that decide it is
// exhausted. A container at its cgroup limit whose processes keep their
// memory is not always killed by the kernel: with no swap, reclaim evicts
// the page cache instead, that is the runtime's and the action's own code,
// which is read back at the next instruction. Everything then runs at disk
// speed until the time limit. Two rules catch it early:
//
//   - JavaScript lives in the Go heap. The Go runtime is told to keep its
//     memory under GoMemoryLimit, which leaves room for the code, and an
//     activation is aborted when the live heap, measured by the collector,
//     still fills most of that.
//   - For everything else (native actions, memory outside the heap) the
//     cgroup is sampled: usage at the limit, anonymous memory filling it and
//     code being read back for a whole window is thrashing.
//
// A process the kernel does kill (a native action's child, usually) is
// recognised by the cgroup's OOM kill count.
type Memory struct {
	cg        *memCgroup
	limit     int64 // the cgroup's limit in bytes
	goLimit   int64 // the Go runtime's soft memory limit
	heapAbort int64 // live Go heap at which activations are aborted
	thrash    thrashRule
	interval  time.Duration // between samples while activations run
	// heap reads the Go heap and gc runs a collection; tests replace them.
	heap func() heapStats
	gc   func()
}

// thrashRule says when cgroup samples show thrashing.
type thrashRule struct {
	limit int64
	// slack: usage within slack of the limit is at the limit (the kernel
	// keeps a little headroom while it reclaims).
	slack int64
	// anonFloor: anonymous memory above limit-anonFloor leaves too little
	// for the code the processes run.
	anonFloor int64
	// window: how long the container must stay at the limit, reading back
	// at least minFaults pages, before it counts as thrashing.
	window    time.Duration
	minFaults int64
}

// heapStats is what the heap rule reads from the Go runtime.
type heapStats struct {
	live    uint64 // heap reachable at the end of the last collection
	objects uint64 // heap objects now, garbage not yet swept included
	cycles  uint64 // completed collections
}

// OpenMemory reads the memory limit of the cgroup under root (CgroupRoot in
// a container) and derives the budget. It fails when there is no memory
// cgroup or no limit: then nothing is watched.
func OpenMemory(root string) (*Memory, error) {
	cg, err := openMemCgroup(root)
	if err != nil {
		return nil, err
	}
	limit, err := cg.limit()
	if err != nil {
		return nil, err
	}
	if limit == 0 {
		return nil, fmt.Errorf("%s: %w", cg.dir, errNoMemoryLimit)
	}
	return newMemory(cg, limit), nil
}

// newMemory sets the budget for a limit. The reserve keeps room outside the
// Go heap for the code of the runtime and the action, the stacks and the
// kernel's own charges: 16 MiB plus a sixteenth of the limit, 24 MiB of a
// 128 MiB container.
func newMemory(cg *memCgroup, limit int64) *Memory {
	reserve := 16<<20 + limit/16
	goLimit := max(limit-reserve, limit/2)
	return &Memory{
		cg:        cg,
		limit:     limit,
		goLimit:   goLimit,
		heapAbort: goLimit / 10 * 9,
		thrash: thrashRule{
			limit:     limit,
			slack:     max(limit/64, 1<<20),
			anonFloor: limit / 8,
			window:    time.Second,
			minFaults: 256, // a MiB of code read back in the window
		},
		interval: 100 * time.Millisecond,
		heap:     readHeap,
		gc:       goruntime.GC,
	}
}

// Limit is the container's memory limit in bytes.
func (m *Memory) Limit() int64 { return m.limit }

// GoMemoryLimit is the soft limit for the Go runtime (debug.SetMemoryLimit)
// of the runtime process, below the container's limit.
func (m *Memory) GoMemoryLimit() int64 { return m.goLimit }

var heapMetrics = []string{"/gc/heap/live:bytes", "/memory/classes/heap/objects:bytes", "/gc/cycles/total:gc-cycles"}

func readHeap() heapStats {
	s := make([]metrics.Sample, len(heapMetrics))
	for i, name := range heapMetrics {
		s[i].Name = name
	}
	metrics.Read(s)
	var h heapStats
	for i, dst := range []*uint64{&h.live, &h.objects, &h.cycles} {
		if s[i].Value.Kind() == metrics.KindUint64 {
			*dst = s[i].Value.Uint64()
		}
	}
	return h
}

// thrashState follows one run of samples at the limit.
type thrashState struct {
	rule thrashRule
	// pinned are the samples since the container reached the limit, the
	// oldest kept being the newest one at least a window old.
	pinned []timedSample
}

type timedSample struct {
	at     time.Time
	faults int64
}

// observe adds a sample and reports whether the container is thrashing:
// at the limit for a whole window, and reading back minFaults pages within
// the last window.
func (t *thrashState) observe(at time.Time, s memSample) bool {
	r := t.rule
	if s.usage < r.limit-r.slack || s.anon < r.limit-r.anonFloor {
		t.pinned = t.pinned[:0]
		return false
	}
	t.pinned = append(t.pinned, timedSample{at: at, faults: s.majFaults})
	// Drop what the newest sample a window old makes unnecessary.
	drop := 0
	for drop+1 < len(t.pinned) && at.Sub(t.pinned[drop+1].at) >= r.window {
		drop++
	}
	t.pinned = append(t.pinned[:0], t.pinned[drop:]...)
	base := t.pinned[0]
	return at.Sub(base.at) >= r.window && s.majFaults-base.faults >= r.minFaults
}

// heapWatch is the heap rule's memory between samples.
type heapWatch struct {
	startCycles uint64 // collections completed when watching began
	prevCycles  uint64 // at the previous sample
}

func (m *Memory) newHeapWatch() heapWatch {
	c := m.heap().cycles
	return heapWatch{startCycles: c, prevCycles: c}
}

// heapExhausted applies the heap rule. The live heap counts only when a
// collection measured it since watching began: an earlier figure may still
// hold an aborted activation's garbage. A collection is forced when the
// heap is large and no such measure exists, or when it grew past the Go
// limit and no collection ran since the last sample (one huge allocation
// followed by no other triggers none).
func (m *Memory) heapExhausted(hw *heapWatch) (bool, heapStats) {
	h := m.heap()
	fresh := h.cycles != hw.startCycles
	stalled := h.objects >= uint64(m.goLimit) && h.cycles == hw.prevCycles
	if h.objects >= uint64(m.heapAbort) && (!fresh || stalled) {
		m.gc()
		h = m.heap()
		fresh = h.cycles != hw.startCycles
	}
	hw.prevCycles = h.cycles
	return fresh && h.live >= uint64(m.heapAbort), h
}
