// Package sim replays a workload against the real pool, container and
// prewarm actors on the fake engine under a discrete-event clock: a day of
// traffic for hundreds of actions runs in minutes of CPU, and the same
// inputs give the same figures.
//
// How: Run must be called inside a testing/synctest bubble. The pool, the
// fake engine and the driver share one event list (Clock). The driver takes
// the earliest event (an arrival or a timer), moves virtual time to it,
// lets it act, and calls synctest.Wait, which returns only once every
// goroutine of the bubble (every actor, every engine call) is blocked:
// the consequences of one event have all happened before the next one
// fires. The bubble's own clock (time.Now, time.Sleep) is kept equal to the
// event clock, so times the engine stamps with time.Now agree with the
// pool's.
package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/bench/workload"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/factory/fake"
	"github.com/stemcell-io/stemcell/pool"
)

// Spec is one simulated run.
type Spec struct {
	// Config is the pool's configuration (user-memory is the budget, the
	// policy keys choose the policy). Required, validated.
	Config *config.Config
	// Functions are the workload's actions; Next gives its arrivals in
	// time order, one at a time, so a long run never holds them all.
	Functions []workload.Function
	Next      func() (workload.Arrival, bool)
	// Horizon is the workload's length: wasted memory is integrated up to
	// it (or to the last result, if later).
	Horizon time.Duration
	// Warmup leaves out of every figure the activations that arrive before
	// it, and the memory time, evictions and creations before it (they
	// still run): policies that learn (a histogram) start measured from the
	// same prefix as the others (reference/policies.md §5.2). 0: none.
	Warmup time.Duration
	// Kind is the runtime kind of every action (from the manifest).
	Kind string
	// ActionTimeout is every action's time limit (default 1 min).
	ActionTimeout time.Duration
	// Engine is the engine's latencies: only Fixed counts (Jitter and Dist
	// must be unset: they draw from one source in whatever order concurrent
	// calls come); the operations done for an activation add a jitter
	// below 1 ms drawn from a hash of its id (engine.go). Logs take no time.
	Engine fake.Latencies
	// InitCost is function i's own initialisation time, added to /init on
	// top of Engine.Init: what a cold (and a prewarmed) start costs beyond
	// the engine's work. Nil: none.
	InitCost func(i int) time.Duration
	// Log receives the pool's logs.
	Log zerolog.Logger
}

// simNamespace is the invocation namespace of every activation.
const simNamespace = "guest"

// Run simulates spec. It must be called inside a synctest bubble (from the
// bubble's root goroutine) and leaves no goroutine behind.
func Run(spec Spec) (Result, error) {
	if err := spec.check(); err != nil {
		return Result{}, err
	}
	start := time.Now() // the bubble's epoch
	clock := NewClock(start)
	acts, byName, err := actions(spec)
	if err != nil {
		return Result{}, err
	}
	ff := fake.New(fake.Options{Clock: clock, Run: execRun(clock)})
	ledger := &memoryLedger{}
	eng := &engine{inner: ff, clock: clock, latency: spec.Engine, ledger: ledger, initCost: func(name string) time.Duration {
		if i, ok := byName[name]; ok && spec.InitCost != nil {
			return spec.InitCost(i)
		}
		return 0
	}}
	sys := actors.NewSystem(spec.Log)
	defer sys.Shutdown()
	reg := prometheus.NewRegistry()
	p, err := pool.Spawn(sys.Root, pool.Options{Config: spec.Config, Factory: eng, Log: spec.Log, Clock: clock, Registerer: reg, Name: "sim"})
	if err != nil {
		return Result{}, err
	}
	d := &driver{clock: clock, start: start, pool: p, acts: acts, warmup: spec.Warmup,
		rec: newRecorder(len(spec.Functions), spec.Engine.Create.Fixed)}
	// What the warm-up leaves out, taken as the clock reaches its end.
	var before struct {
		loaded, wasted     float64
		evicted, creations int
		scaleOut           int
		err                error
	}
	d.endWarmup = func(t time.Time) {
		before.loaded, before.wasted, _ = ledger.totals(t)
		before.evicted, before.err = Counter(reg, "stemcell_pool_evictions_total")
		before.creations, before.scaleOut = eng.creationCounts()
	}
	synctest.Wait()
	runErr := d.replay(spec.Next)
	end := start.Add(spec.Horizon)
	if runErr == nil {
		d.runUntil(end)
		end = later(end, clock.Now())
	}
	loaded, wasted, peak := ledger.totals(end)
	evicted, cerr := Counter(reg, "stemcell_pool_evictions_total")
	serr := d.shutdown()
	if err := errors.Join(runErr, cerr, before.err, serr); err != nil {
		return Result{}, err
	}
	if v := ff.Violations(); len(v) > 0 {
		return Result{}, fmt.Errorf("the fake engine saw the pool misuse it: %w", errors.Join(v...))
	}
	res := d.rec.result()
	loaded, wasted = loaded-before.loaded, wasted-before.wasted
	res.LoadedGBs, res.WastedGBs, res.PeakMemMB = loaded/1024, wasted/1024, peak
	res.SimulatedS = end.Sub(start.Add(spec.Warmup)).Seconds()
	if res.SimulatedS > 0 {
		res.MeanWasteMB = wasted / res.SimulatedS
	}
	res.Evictions = evicted - before.evicted
	creations, scaleOut := eng.creationCounts()
	res.Creations = creations - before.creations
	if res.Creations > 0 {
		res.ScaleOutPercent = 100 * float64(scaleOut-before.scaleOut) / float64(res.Creations)
	}
	return res, nil
}

func (s Spec) check() error {
	if s.Config == nil || s.Next == nil || len(s.Functions) == 0 {
		return errors.New("sim: a spec needs a configuration, functions and arrivals")
	}
	if s.Horizon <= 0 {
		return fmt.Errorf("sim: horizon %s is invalid: must be > 0", s.Horizon)
	}
	if s.Warmup < 0 || s.Warmup >= s.Horizon {
		return fmt.Errorf("sim: warm-up %s is invalid: must be >= 0 and shorter than the horizon %s", s.Warmup, s.Horizon)
	}
	for _, l := range []fake.Latency{s.Engine.Create, s.Engine.Init, s.Engine.Run, s.Engine.Suspend, s.Engine.Resume, s.Engine.Logs, s.Engine.Destroy} {
		if l.Jitter != 0 || l.Dist != nil {
			return errors.New("sim: engine latencies must be fixed (no jitter): a shared random source would break determinism")
		}
	}
	return nil
}

// actions makes one action per function, of the spec's kind, with the
// function's memory; byName maps an action's name to its function.
func actions(spec Spec) ([]actors.Action, map[string]int, error) {
	rk, err := spec.Config.RuntimesManifest.Manifest.ResolveKind(spec.Kind)
	if err != nil {
		return nil, nil, fmt.Errorf("sim: kind %q: %w", spec.Kind, err)
	}
	timeout := spec.ActionTimeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	out := make([]actors.Action, len(spec.Functions))
	byName := make(map[string]int, len(spec.Functions))
	for i, f := range spec.Functions {
		out[i] = actors.Action{
			Namespace: simNamespace, Name: f.Name, Version: "0.0.1", Digest: "sim",
			Kind: rk.Kind, Image: rk.Image, Main: "main", Code: "// simulated",
			Limits: actors.ActionLimits{
				Memory: config.ByteSize(f.MemoryMB) * config.MB, Timeout: timeout,
				MaxConcurrency: 1, Logs: config.MB,
			},
		}
		byName[f.Name] = i
	}
	return out, byName, nil
}

// driver feeds the arrivals and the clock's events to the pool, one event
// at a time, and records the answers.
type driver struct {
	clock    *Clock
	start    time.Time
	pool     *pool.Pool
	acts     []actors.Action
	rec      *recorder
	inflight atomic.Int64
	sent     int
	// warmup ends at start+warmup: endWarmup runs then, once, with every
	// goroutine settled.
	warmup    time.Duration
	endWarmup func(time.Time)
	warmedUp  bool
}

// passWarmup ends the warm-up when the next event, due at t, lies at or
// after its end: time moves to the end first, so the figures left out
// stop exactly there.
func (d *driver) passWarmup(t time.Time) {
	end := d.start.Add(d.warmup)
	if d.warmedUp || t.Before(end) {
		return
	}
	d.warmedUp = true
	d.sleepTo(end)
	d.clock.advanceTo(end)
	d.endWarmup(end)
}

// replay runs every arrival and every event until the last answer.
func (d *driver) replay(next func() (workload.Arrival, bool)) error {
	a, more := next()
	for {
		at, pending := d.clock.next()
		if more && (!pending || !d.start.Add(a.At).After(at)) {
			d.passWarmup(d.start.Add(a.At))
			d.sleepTo(d.start.Add(a.At))
			d.clock.advanceTo(d.start.Add(a.At))
			d.fire(a)
			synctest.Wait()
			a, more = next()
			continue
		}
		if !more && d.inflight.Load() == 0 {
			return nil
		}
		if !pending {
			return fmt.Errorf("sim: %d activations unanswered and no event pending: the pool is stuck", d.inflight.Load())
		}
		d.step(at)
	}
}

// step fires the clock's next event, due at at, and lets it settle.
func (d *driver) step(at time.Time) {
	d.passWarmup(at)
	d.sleepTo(at)
	d.clock.fireNext()
	synctest.Wait()
}

// runUntil fires the events due up to end (the pool's timers after the
// last answer: pauses, removals, prewarm checks).
func (d *driver) runUntil(end time.Time) {
	for {
		at, ok := d.clock.next()
		if !ok || at.After(end) {
			d.passWarmup(end)
			d.sleepTo(end)
			d.clock.advanceTo(end)
			return
		}
		d.step(at)
	}
}

// sleepTo keeps the bubble's clock with the event clock: every goroutine
// is blocked when it is called, so the bubble jumps to t at once.
func (d *driver) sleepTo(t time.Time) {
	if wait := t.Sub(time.Now()); wait > 0 {
		time.Sleep(wait)
	}
}

func (d *driver) fire(a workload.Arrival) {
	id := "s" + strconv.Itoa(d.sent)
	d.sent++
	arrived := d.clock.Now()
	measured := a.At >= d.warmup
	ch := d.pool.Submit(pool.Activation{
		ID: id, TransactionID: id, InvocationNamespace: simNamespace, Action: d.acts[a.Function],
		Params: execParams(a.Exec), Arrived: arrived,
	})
	d.inflight.Add(1)
	go func() {
		rr := <-ch
		if measured {
			d.rec.record(a.Function, a.Exec, d.clock.Now().Sub(arrived), rr.Result, rr.Err)
		}
		d.inflight.Add(-1)
	}()
}

// shutdown stops the pool, firing the clock's events (container removals)
// until it has.
func (d *driver) shutdown() error {
	done := make(chan error, 1)
	go func() { done <- d.pool.Shutdown(context.Background()) }()
	synctest.Wait()
	for {
		select {
		case err := <-done:
			return err
		default:
		}
		at, ok := d.clock.next()
		if !ok {
			return errors.New("sim: the pool did not shut down and no event is pending")
		}
		d.step(at)
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// execParams carries the arrival's execution time to the fake run.
func execParams(d time.Duration) json.RawMessage {
	return append(strconv.AppendInt([]byte(`{"exec_ns":`), int64(d), 10), '}')
}

var okResult = json.RawMessage(`{"ok":true}`)

// execRun makes a fake run last its exec_ns on the event clock.
func execRun(clock *Clock) fake.RunFunc {
	return func(_ *fake.Container, req factory.RunRequest) factory.Outcome {
		start := clock.Now()
		var p struct {
			ExecNS int64 `json:"exec_ns"`
		}
		if err := json.Unmarshal(req.Params, &p); err != nil {
			return factory.Outcome{Start: start, End: start, Status: factory.StatusApplicationError,
				Result: json.RawMessage(`{"error":"sim: params must be {\"exec_ns\": N}"}`)}
		}
		if p.ExecNS > 0 {
			<-clock.After(time.Duration(p.ExecNS))
		}
		return factory.Outcome{Start: start, End: clock.Now(), Status: factory.StatusSuccess, Result: okResult}
	}
}

// Counter sums every series of the counter name in reg: the pool's
// evictions, for the simulation and for the bench's in-process targets.
func Counter(reg prometheus.Gatherer, name string) (int, error) {
	mfs, err := reg.Gather()
	if err != nil {
		return 0, fmt.Errorf("gathering %s: %w", name, err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		var sum float64
		for _, m := range mf.GetMetric() {
			sum += m.GetCounter().GetValue()
		}
		return int(sum), nil
	}
	return 0, fmt.Errorf("counter %s is not registered", name)
}
