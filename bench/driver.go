package main

import (
	"context"
	"sync"
	"time"

	"github.com/stemcell-io/stemcell/bench/report"
	"github.com/stemcell-io/stemcell/bench/workload"
)

// target is what the driver sends arrivals to: a pool in this process or a
// daemon over HTTP.
type target interface {
	// invoke runs arrival i and returns how it went; the driver fills in
	// the timing fields it measures itself.
	invoke(ctx context.Context, i int, a workload.Arrival) outcome
	// memory reads the pool's memory now; ok is false when it could not.
	memory(ctx context.Context) (report.MemoryPoint, bool)
	// evictions is how many idle containers the pool evicted so far.
	evictions(ctx context.Context) (int, error)
	// close releases everything the target started.
	close(ctx context.Context) error
}

// outcome is what a target learned about one activation.
type outcome struct {
	StartKind string // "" when the activation never started
	Status    string
	Wait      time.Duration
}

// Statuses of a sample besides OpenWhisk's four.
const (
	statusRejected = "rejected" // the pool or daemon refused the activation
	statusTimeout  = "timeout"  // no result within --invoke-timeout
)

// driveOptions tune the driver.
type driveOptions struct {
	// SampleEvery is the memory sampling period.
	SampleEvery time.Duration
	// InvokeTimeout bounds each activation from its arrival.
	InvokeTimeout time.Duration
	// Done is called after each activation (the progress bar); it must be
	// safe for concurrent use. Nil: nothing.
	Done func()
}

// run is what the driver measured.
type run struct {
	Samples []report.Sample
	Memory  []report.MemoryPoint
	Wall    time.Duration
}

// drive replays w against tg in real time, open loop: each arrival fires at
// its offset on its own goroutine and never waits for earlier ones, so a
// slow pool shows up as latency instead of slowing the offered load down.
// Latency counts from the scheduled arrival, not from when the goroutine got
// to send it. Memory is sampled every SampleEvery until the last
// activation finishes.
func drive(ctx context.Context, tg target, w *workload.Workload, opts driveOptions) run {
	samples := make([]report.Sample, len(w.Arrivals))
	start := time.Now()

	var memory []report.MemoryPoint
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(opts.SampleEvery)
		defer tick.Stop()
		take := func() {
			mctx, cancel := context.WithTimeout(ctx, max(opts.SampleEvery, time.Second))
			p, ok := tg.memory(mctx)
			cancel()
			if ok {
				p.At = time.Since(start)
				memory = append(memory, p)
			}
		}
		take()
		for {
			select {
			case <-tick.C:
				take()
			case <-stopSampling:
				take()
				return
			}
		}
	}()

	var wg sync.WaitGroup
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	sent := len(w.Arrivals)
schedule:
	for i, a := range w.Arrivals {
		if wait := time.Until(start.Add(a.At)); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
				sent = i
				break schedule
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			samples[i] = fire(ctx, tg, start, i, a, opts.InvokeTimeout)
			if opts.Done != nil {
				opts.Done()
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	close(stopSampling)
	<-sampled
	return run{Samples: samples[:sent], Memory: memory, Wall: wall}
}

func fire(ctx context.Context, tg target, start time.Time, i int, a workload.Arrival, timeout time.Duration) report.Sample {
	arrived := start.Add(a.At)
	ictx, cancel := context.WithDeadline(ctx, arrived.Add(timeout))
	defer cancel()
	o := tg.invoke(ictx, i, a)
	return report.Sample{
		Function:  a.Function,
		Arrived:   a.At,
		Latency:   time.Since(arrived),
		Wait:      o.Wait,
		StartKind: o.StartKind,
		Status:    o.Status,
	}
}
