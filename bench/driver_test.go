package main

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stemcell-io/stemcell/bench/report"
	"github.com/stemcell-io/stemcell/bench/workload"
)

// gatedTarget holds arrival 0 until arrival `release` has been invoked: a
// driver that waited for earlier activations would never get there.
type gatedTarget struct {
	release  int
	released chan struct{}
	once     sync.Once
	first    chan struct{} // closed by the first invoke
	firstO   sync.Once
	samples  atomic.Int32
}

func newGatedTarget(release int) *gatedTarget {
	return &gatedTarget{release: release, released: make(chan struct{}), first: make(chan struct{})}
}

func (g *gatedTarget) invoke(ctx context.Context, i int, a workload.Arrival) outcome {
	g.firstO.Do(func() { close(g.first) })
	if i == g.release {
		g.once.Do(func() { close(g.released) })
	}
	if i == 0 {
		select {
		case <-g.released:
		case <-ctx.Done():
			return outcome{Status: statusTimeout}
		}
		return outcome{StartKind: "cold", Status: "success", Wait: 5 * time.Millisecond}
	}
	return outcome{StartKind: "warm", Status: "success"}
}

func (g *gatedTarget) memory(context.Context) (report.MemoryPoint, bool) {
	g.samples.Add(1)
	return report.MemoryPoint{InUseMB: 256, BusyMB: 256}, true
}

func (g *gatedTarget) evictions(context.Context) (int, error) { return 0, nil }
func (g *gatedTarget) close(context.Context) error            { return nil }

func TestDriveIsOpenLoop(t *testing.T) {
	w := &workload.Workload{Functions: []workload.Function{{Name: "f", MemoryMB: 256}}}
	for i := range 5 {
		w.Arrivals = append(w.Arrivals, workload.Arrival{At: time.Duration(i) * 20 * time.Millisecond, Exec: time.Millisecond})
	}
	tg := newGatedTarget(4)
	r := drive(context.Background(), tg, w, driveOptions{SampleEvery: 10 * time.Millisecond, InvokeTimeout: 5 * time.Second})
	if len(r.Samples) != 5 {
		t.Fatalf("%d samples, want 5", len(r.Samples))
	}
	first := r.Samples[0]
	if first.Status != "success" || first.StartKind != "cold" || first.Wait != 5*time.Millisecond {
		t.Fatalf("arrival 0 = %+v: it should have finished once arrival 4 was sent", first)
	}
	// Arrival 0 waited for arrival 4, which fires 80 ms in.
	if first.Latency < 80*time.Millisecond {
		t.Errorf("arrival 0 latency %s, want >= 80 ms (it was held until arrival 4)", first.Latency)
	}
	for i, s := range r.Samples {
		if s.Arrived != w.Arrivals[i].At || s.Function != 0 {
			t.Errorf("sample %d = %+v: arrival offset or function not carried over", i, s)
		}
	}
	if r.Wall < 80*time.Millisecond {
		t.Errorf("wall %s: the arrivals span 80 ms", r.Wall)
	}
	if len(r.Memory) < 2 || r.Memory[0].InUseMB != 256 {
		t.Errorf("memory samples %+v: want at least the first and the last", r.Memory)
	}
	for i := 1; i < len(r.Memory); i++ {
		if r.Memory[i].At < r.Memory[i-1].At {
			t.Fatalf("memory samples out of time order: %+v", r.Memory)
		}
	}
}

func TestDriveStopsSchedulingWhenCancelled(t *testing.T) {
	w := &workload.Workload{Functions: []workload.Function{{Name: "f"}}}
	for i := range 3 {
		w.Arrivals = append(w.Arrivals, workload.Arrival{At: time.Duration(i) * time.Hour})
	}
	ctx, cancel := context.WithCancel(context.Background())
	tg := newGatedTarget(1)
	done := make(chan run, 1)
	go func() { done <- drive(ctx, tg, w, driveOptions{SampleEvery: time.Hour, InvokeTimeout: time.Hour}) }()
	// Arrival 0 is in flight and held; the next one is an hour away.
	select {
	case <-tg.first:
	case <-time.After(10 * time.Second):
		t.Fatal("arrival 0 was never sent")
	}
	cancel()
	select {
	case r := <-done:
		if len(r.Samples) != 1 || r.Samples[0].Status != statusTimeout {
			t.Errorf("samples %+v: want the one arrival sent, ended by the cancel", r.Samples)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("drive did not return after its context was cancelled")
	}
}
