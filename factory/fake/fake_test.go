package fake_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rs/zerolog"
	"go.uber.org/goleak"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/factory/fake"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const mb = config.ByteSize(1 << 20)

func spec(name string) factory.ContainerSpec {
	return factory.ContainerSpec{Name: name, Kind: "js:goja", Memory: 256 * mb}
}

func mustCreate(t *testing.T, f *fake.Factory, name string) *fake.Container {
	t.Helper()
	c, err := f.CreateContainer(context.Background(), spec(name))
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return c.(*fake.Container)
}

func mustInit(t *testing.T, c *fake.Container, maxConc int) {
	t.Helper()
	out, err := c.Initialize(context.Background(), factory.InitRequest{Name: "a", Timeout: time.Second, MaxConcurrency: maxConc})
	if err != nil || out.Status != factory.StatusSuccess {
		t.Fatalf("init %s: %+v %s, %v", c.ID(), out, out.Result, err)
	}
}

func runReq(params string) factory.RunRequest {
	return factory.RunRequest{Params: json.RawMessage(params), Timeout: time.Second}
}

func TestLifecycleAndCounters(t *testing.T) {
	f := fake.New(fake.Options{})
	ctx := context.Background()
	c := mustCreate(t, f, "inv_1_guest_a")
	mustInit(t, c, 1)
	for i := range 3 {
		out, err := c.Run(ctx, runReq(fmt.Sprintf(`{"i":%d}`, i)))
		if err != nil || out.Status != factory.StatusSuccess || string(out.Result) != fmt.Sprintf(`{"i":%d}`, i) {
			t.Fatalf("run %d: %+v %s, %v", i, out, out.Result, err)
		}
		if out.Start.IsZero() || out.End.Before(out.Start) {
			t.Errorf("run %d interval [%v, %v]", i, out.Start, out.End)
		}
	}
	if err := c.Suspend(ctx); err != nil || !c.Paused() {
		t.Fatalf("suspend: %v, paused %v", err, c.Paused())
	}
	if err := c.Resume(ctx); err != nil || c.Paused() {
		t.Fatalf("resume: %v, paused %v", err, c.Paused())
	}
	c.Log("hello", "world")
	if lines, err := c.Logs(ctx, factory.LogRequest{}); err != nil || strings.Join(lines, ",") != "hello,world" {
		t.Fatalf("logs = %q, %v", lines, err)
	}
	if lines, _ := c.Logs(ctx, factory.LogRequest{}); len(lines) != 0 {
		t.Fatalf("second logs = %q, want none", lines)
	}
	if got := len(f.Live()); got != 1 {
		t.Fatalf("%d live containers before destroy, want 1", got)
	}
	if err := c.Destroy(ctx); err != nil || !c.Destroyed() {
		t.Fatalf("destroy: %v", err)
	}
	want := map[fake.Op]uint64{fake.OpCreate: 1, fake.OpInit: 1, fake.OpRun: 3, fake.OpSuspend: 1, fake.OpResume: 1, fake.OpLogs: 2, fake.OpDestroy: 1}
	for op, n := range want {
		if got := f.Calls(op); got != n {
			t.Errorf("Calls(%s) = %d, want %d", op, got, n)
		}
	}
	if err := f.Verify(); err != nil {
		t.Errorf("Verify after a clean life: %v", err)
	}
	if len(f.Live()) != 0 || len(f.Created()) != 1 || f.LiveMemory() != 0 {
		t.Errorf("after destroy: %d live, %d created, %d B live memory", len(f.Live()), len(f.Created()), f.LiveMemory())
	}
}

func TestDefaultAndCustomRun(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		run    fake.RunFunc
		params string
		status factory.Status
		result string
	}{
		{"echo params", nil, `{"a":1}`, factory.StatusSuccess, `{"a":1}`},
		{"echo array", nil, `[1,2]`, factory.StatusSuccess, `[1,2]`},
		{"no params", nil, ``, factory.StatusSuccess, `{"ok":true}`},
		{"custom", func(c *fake.Container, req factory.RunRequest) factory.Outcome {
			return factory.Outcome{Status: factory.StatusApplicationError, Result: json.RawMessage(`{"error":"` + c.Spec().Name + `"}`)}
		}, `{}`, factory.StatusApplicationError, `{"error":"custom"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fake.New(fake.Options{Run: tt.run})
			c := mustCreate(t, f, "custom")
			mustInit(t, c, 1)
			out, err := c.Run(ctx, runReq(tt.params))
			if err != nil || out.Status != tt.status || string(out.Result) != tt.result {
				t.Fatalf("run = %+v %s, %v; want %d %s", out, out.Result, err, tt.status, tt.result)
			}
			if out.Start.IsZero() || out.End.IsZero() {
				t.Errorf("run interval not filled in: %+v", out)
			}
		})
	}
}

func TestCreateFaults(t *testing.T) {
	tests := []struct {
		fault    fake.Fault
		userErr  bool
		contains string
	}{
		{fake.FaultError, false, "injected create failure"},
		{fake.FaultUserError, true, "injected create failure"},
		{fake.FaultCrash, false, "injected create failure"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.fault), func(t *testing.T) {
			f := fake.New(fake.Options{Faults: fake.Always(fake.OpCreate, tt.fault)})
			c, err := f.CreateContainer(context.Background(), spec("x"))
			var se *factory.StartupError
			if c != nil || !errors.As(err, &se) || se.UserError != tt.userErr || !strings.Contains(err.Error(), tt.contains) {
				t.Fatalf("create = %v, %v; want StartupError(user=%v)", c, err, tt.userErr)
			}
			if len(f.Live()) != 0 || f.LiveMemory() != 0 || f.PeakMemory() != int64(256*mb) {
				t.Errorf("after failed create: %d live, %d B live, %d B peak", len(f.Live()), f.LiveMemory(), f.PeakMemory())
			}
			if err := f.Verify(); err != nil {
				t.Errorf("Verify: %v", err)
			}
		})
	}
}

func TestInitAndRunFaults(t *testing.T) {
	const (
		abnormalInit = `{"error":"The action did not initialize and exited unexpectedly."}`
		abnormalRun  = `{"error":"The action did not produce a valid response and exited unexpectedly."}`
		oom          = `{"error":"The action exhausted its memory and was aborted."}`
	)
	tests := []struct {
		name     string
		op       fake.Op
		fault    fake.Fault
		health   bool
		status   factory.Status
		result   string
		timedOut bool
		dead     bool
	}{
		{name: "init developer error", op: fake.OpInit, fault: fake.FaultDeveloperError, status: factory.StatusDeveloperError, result: `{"error":"fake: injected init failure"}`},
		{name: "init crash", op: fake.OpInit, fault: fake.FaultCrash, status: factory.StatusDeveloperError, result: abnormalInit, dead: true},
		{name: "init oom", op: fake.OpInit, fault: fake.FaultOOM, status: factory.StatusDeveloperError, result: oom, dead: true},
		{name: "init timeout", op: fake.OpInit, fault: fake.FaultTimeout, status: factory.StatusDeveloperError,
			result: `{"error":"The action exceeded its time limits of 1000 milliseconds during initialization."}`, timedOut: true},
		{name: "init health", op: fake.OpInit, fault: fake.FaultHealth, health: true},
		{name: "run developer error", op: fake.OpRun, fault: fake.FaultDeveloperError, status: factory.StatusDeveloperError, result: `{"error":"fake: injected run failure"}`},
		{name: "run application error", op: fake.OpRun, fault: fake.FaultApplicationError, status: factory.StatusApplicationError, result: `{"error":"fake: injected application error"}`},
		{name: "run crash", op: fake.OpRun, fault: fake.FaultCrash, status: factory.StatusDeveloperError, result: abnormalRun, dead: true},
		{name: "run oom", op: fake.OpRun, fault: fake.FaultOOM, status: factory.StatusDeveloperError, result: oom, dead: true},
		{name: "run timeout", op: fake.OpRun, fault: fake.FaultTimeout, status: factory.StatusDeveloperError,
			result: `{"error":"The action exceeded its time limits of 1000 milliseconds."}`, timedOut: true},
		{name: "run health", op: fake.OpRun, fault: fake.FaultHealth, health: true},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fake.New(fake.Options{Faults: fake.Nth(tt.op, 1, tt.fault)})
			c := mustCreate(t, f, "x")
			var out factory.Outcome
			var err error
			if tt.op == fake.OpInit {
				out, err = c.Initialize(ctx, factory.InitRequest{Timeout: time.Second})
			} else {
				mustInit(t, c, 1)
				out, err = c.Run(ctx, runReq(`{}`))
			}
			if tt.health {
				if !errors.Is(err, factory.ErrHealth) {
					t.Fatalf("%s = %+v, %v; want ErrHealth", tt.op, out, err)
				}
			} else if err != nil || out.Status != tt.status || string(out.Result) != tt.result || out.TimedOut != tt.timedOut {
				t.Fatalf("%s = (%d, %s, timedOut %v), %v; want (%d, %s, %v)", tt.op, out.Status, out.Result, out.TimedOut, err, tt.status, tt.result, tt.timedOut)
			}
			if c.Dead() != tt.dead {
				t.Errorf("Dead() = %v, want %v", c.Dead(), tt.dead)
			}
			if tt.dead {
				// A dead runtime stays dead: the next run fails the same way
				// although the injector fires only once.
				out, err := c.Run(ctx, runReq(`{}`))
				if err != nil || out.Status != factory.StatusDeveloperError || string(out.Result) != abnormalRun {
					t.Errorf("run on a dead container = %+v %s, %v", out, out.Result, err)
				}
			}
			if err := c.Destroy(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestLifecycleFaults(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		op     fake.Op
		fault  fake.Fault
		health bool
	}{
		{"suspend fails", fake.OpSuspend, fake.FaultError, false},
		{"resume fails", fake.OpResume, fake.FaultError, false},
		{"resume health", fake.OpResume, fake.FaultHealth, true},
		{"logs fail", fake.OpLogs, fake.FaultError, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fake.New(fake.Options{Faults: fake.Always(tt.op, tt.fault)})
			c := mustCreate(t, f, "x")
			mustInit(t, c, 1)
			var err error
			switch tt.op {
			case fake.OpSuspend:
				err = c.Suspend(ctx)
				if c.Paused() {
					t.Error("a failed suspend left the container paused")
				}
			case fake.OpResume:
				f.SetFaults(nil)
				if err := c.Suspend(ctx); err != nil {
					t.Fatal(err)
				}
				f.SetFaults(fake.Always(tt.op, tt.fault))
				err = c.Resume(ctx)
				if !c.Paused() {
					t.Error("a failed resume unpaused the container")
				}
				f.SetFaults(nil)
				if err := c.Resume(ctx); err != nil {
					t.Fatal(err)
				}
			case fake.OpLogs:
				_, err = c.Logs(ctx, factory.LogRequest{})
			}
			if err == nil || errors.Is(err, factory.ErrHealth) != tt.health || !strings.Contains(err.Error(), c.ID()) {
				t.Fatalf("%s error = %v, want one naming %s (ErrHealth %v)", tt.op, err, c.ID(), tt.health)
			}
			if err := c.Destroy(ctx); err != nil {
				t.Fatal(err)
			}
			if err := f.Verify(); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestDestroyFailureKeepsContainer(t *testing.T) {
	ctx := context.Background()
	f := fake.New(fake.Options{Faults: fake.Nth(fake.OpDestroy, 1, fake.FaultError)})
	c := mustCreate(t, f, "x")
	if err := c.Destroy(ctx); err == nil {
		t.Fatal("injected destroy failure did not fail")
	}
	if c.Destroyed() || len(f.Live()) != 1 || f.LiveMemory() != int64(256*mb) {
		t.Fatalf("after a failed destroy: destroyed %v, %d live, %d B", c.Destroyed(), len(f.Live()), f.LiveMemory())
	}
	if err := f.Verify(); err == nil || !strings.Contains(err.Error(), "never destroyed") {
		t.Fatalf("Verify with a live container = %v", err)
	}
	if err := c.Destroy(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.Verify(); err != nil {
		t.Fatalf("Verify after retrying the destroy: %v", err)
	}
}

func TestInjectors(t *testing.T) {
	call := func(op fake.Op, seq uint64) fake.Call { return fake.Call{Op: op, Seq: seq} }
	tests := []struct {
		name string
		i    fake.Injector
		c    fake.Call
		want fake.Fault
	}{
		{"always hits", fake.Always(fake.OpRun, fake.FaultCrash), call(fake.OpRun, 9), fake.FaultCrash},
		{"always other op", fake.Always(fake.OpRun, fake.FaultCrash), call(fake.OpInit, 1), fake.FaultNone},
		{"nth hits", fake.Nth(fake.OpCreate, 2, fake.FaultError), call(fake.OpCreate, 2), fake.FaultError},
		{"nth misses", fake.Nth(fake.OpCreate, 2, fake.FaultError), call(fake.OpCreate, 3), fake.FaultNone},
		{"firstN inside", fake.FirstN(fake.OpRun, 2, fake.FaultOOM), call(fake.OpRun, 2), fake.FaultOOM},
		{"firstN after", fake.FirstN(fake.OpRun, 2, fake.FaultOOM), call(fake.OpRun, 3), fake.FaultNone},
		{"every hits", fake.Every(fake.OpRun, 3, fake.FaultHealth), call(fake.OpRun, 6), fake.FaultHealth},
		{"every misses", fake.Every(fake.OpRun, 3, fake.FaultHealth), call(fake.OpRun, 7), fake.FaultNone},
		{"every zero", fake.Every(fake.OpRun, 0, fake.FaultHealth), call(fake.OpRun, 3), fake.FaultNone},
		{"combine first wins", fake.Combine(fake.Nth(fake.OpRun, 1, fake.FaultCrash), fake.Always(fake.OpRun, fake.FaultOOM)), call(fake.OpRun, 1), fake.FaultCrash},
		{"combine falls through", fake.Combine(fake.Nth(fake.OpRun, 1, fake.FaultCrash), fake.Always(fake.OpRun, fake.FaultOOM)), call(fake.OpRun, 2), fake.FaultOOM},
	}
	for _, tt := range tests {
		if got := tt.i(tt.c); got != tt.want {
			t.Errorf("%s: fault %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestInjectorSequence(t *testing.T) {
	f := fake.New(fake.Options{Faults: fake.Every(fake.OpRun, 2, fake.FaultApplicationError)})
	c := mustCreate(t, f, "x")
	mustInit(t, c, 1)
	var got []factory.Status
	for range 4 {
		out, err := c.Run(context.Background(), runReq(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, out.Status)
	}
	if fmt.Sprint(got) != "[0 1 0 1]" {
		t.Errorf("statuses %v, want every second run to fail", got)
	}
	_ = c.Destroy(context.Background())
}

func TestViolations(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		do   func(t *testing.T, c *fake.Container)
		want string
	}{
		{"destroy twice", func(t *testing.T, c *fake.Container) {
			_ = c.Destroy(ctx)
			if err := c.Destroy(ctx); err == nil {
				t.Error("second destroy succeeded")
			}
		}, "destroyed twice"},
		{"run after destroy", func(t *testing.T, c *fake.Container) {
			mustInit(t, c, 1)
			_ = c.Destroy(ctx)
			if _, err := c.Run(ctx, runReq(`{}`)); err == nil {
				t.Error("run after destroy succeeded")
			}
		}, "after it was destroyed"},
		{"suspend after destroy", func(t *testing.T, c *fake.Container) {
			_ = c.Destroy(ctx)
			_ = c.Suspend(ctx)
		}, "after it was destroyed"},
		{"run while paused", func(t *testing.T, c *fake.Container) {
			mustInit(t, c, 1)
			_ = c.Suspend(ctx)
			if _, err := c.Run(ctx, runReq(`{}`)); err == nil {
				t.Error("run while paused succeeded")
			}
			_ = c.Destroy(ctx)
		}, "while paused"},
		{"suspend twice", func(t *testing.T, c *fake.Container) {
			_ = c.Suspend(ctx)
			_ = c.Suspend(ctx)
			_ = c.Destroy(ctx)
		}, "already paused"},
		{"resume while running", func(t *testing.T, c *fake.Container) {
			_ = c.Resume(ctx)
			_ = c.Destroy(ctx)
		}, "not paused"},
		{"init twice", func(t *testing.T, c *fake.Container) {
			mustInit(t, c, 1)
			_, _ = c.Initialize(ctx, factory.InitRequest{Timeout: time.Second})
			_ = c.Destroy(ctx)
		}, "already initialised"},
		{"run before init", func(t *testing.T, c *fake.Container) {
			_, _ = c.Run(ctx, runReq(`{}`))
			_ = c.Destroy(ctx)
		}, "before init"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fake.New(fake.Options{})
			tt.do(t, mustCreate(t, f, "x"))
			v := f.Violations()
			if len(v) != 1 || !strings.Contains(v[0].Error(), tt.want) {
				t.Fatalf("violations %v, want one containing %q", v, tt.want)
			}
			if err := f.Verify(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Verify = %v, want it to report %q", err, tt.want)
			}
		})
	}
}

func TestConcurrencyViolation(t *testing.T) {
	for _, maxConc := range []int{1, 2} {
		t.Run(fmt.Sprint("max ", maxConc), func(t *testing.T) {
			inside := make(chan struct{}, 2)
			release := make(chan struct{})
			f := fake.New(fake.Options{Run: func(*fake.Container, factory.RunRequest) factory.Outcome {
				inside <- struct{}{}
				<-release
				return factory.Outcome{Status: factory.StatusSuccess}
			}})
			c := mustCreate(t, f, "x")
			mustInit(t, c, maxConc)
			var wg sync.WaitGroup
			for range 2 {
				wg.Go(func() { _, _ = c.Run(context.Background(), runReq(`{}`)) })
			}
			<-inside
			<-inside
			close(release)
			wg.Wait()
			_ = c.Destroy(context.Background())
			got := len(f.Violations())
			want := 0
			if maxConc == 1 {
				want = 1
			}
			if got != want {
				t.Errorf("two overlapping runs at max concurrency %d: %d violations %v, want %d", maxConc, got, f.Violations(), want)
			}
		})
	}
}

func TestCleanupSweeps(t *testing.T) {
	ctx := context.Background()
	f := fake.New(fake.Options{})
	a, b := mustCreate(t, f, "a"), mustCreate(t, f, "b")
	if err := a.Destroy(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	if s := f.Swept(); len(s) != 1 || s[0] != b || !b.Destroyed() {
		t.Fatalf("Swept = %v, want [b]", s)
	}
	if err := b.Destroy(ctx); !errors.Is(err, fake.ErrGone) {
		t.Fatalf("destroy after cleanup = %v, want ErrGone", err)
	}
	if err := f.Verify(); err != nil || f.LiveMemory() != 0 || f.CleanupCalls() != 1 {
		t.Fatalf("after cleanup: Verify %v, %d B live, %d cleanups", err, f.LiveMemory(), f.CleanupCalls())
	}
	if err := f.Init(ctx); err != nil || f.InitCalls() != 1 {
		t.Fatalf("Init: %v, %d calls", err, f.InitCalls())
	}
}

func TestMemoryAccounting(t *testing.T) {
	ctx := context.Background()
	f := fake.New(fake.Options{})
	a := mustCreate(t, f, "a")
	b := mustCreate(t, f, "b")
	_ = a.Destroy(ctx)
	c := mustCreate(t, f, "c")
	if f.LiveMemory() != int64(512*mb) || f.PeakMemory() != int64(512*mb) {
		t.Fatalf("live %d, peak %d; want 512 MiB each", f.LiveMemory(), f.PeakMemory())
	}
	_ = b.Destroy(ctx)
	_ = c.Destroy(ctx)
	if f.LiveMemory() != 0 || f.PeakMemory() != int64(512*mb) {
		t.Fatalf("live %d, peak %d after destroying all", f.LiveMemory(), f.PeakMemory())
	}
}

func TestGateHoldsCreate(t *testing.T) {
	f := fake.New(fake.Options{})
	g := f.Gate(fake.OpCreate)
	if f.Gate(fake.OpCreate) != g {
		t.Fatal("a second Gate call installed a new gate")
	}
	type created struct {
		c   factory.Container
		err error
	}
	done := make(chan created, 2)
	for _, n := range []string{"first", "second"} {
		go func() {
			c, err := f.CreateContainer(context.Background(), spec(n))
			done <- created{c, err}
		}()
	}
	for range 2 {
		select {
		case call := <-g.Arrived():
			if call.Op != fake.OpCreate || call.Spec == nil {
				t.Fatalf("arrival %+v", call)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("creates did not reach the gate")
		}
	}
	select {
	case r := <-done:
		t.Fatalf("a create passed a closed gate: %+v", r)
	default:
	}
	if len(f.Live()) != 0 || f.LiveMemory() != int64(512*mb) {
		t.Fatalf("while held: %d live, %d B (creating counts)", len(f.Live()), f.LiveMemory())
	}
	g.Release(1)
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	select {
	case r := <-done:
		t.Fatalf("Release(1) let two creates through: %+v", r)
	default:
	}
	f.Ungate(fake.OpCreate)
	r2 := <-done
	if r2.err != nil {
		t.Fatal(r2.err)
	}
	for _, c := range []factory.Container{r.c, r2.c} {
		_ = c.Destroy(context.Background())
	}
	// With the gate gone, creates go straight through.
	c := mustCreate(t, f, "third")
	_ = c.Destroy(context.Background())
	if err := f.Verify(); err != nil {
		t.Fatal(err)
	}
}

func TestGateRespectsContext(t *testing.T) {
	f := fake.New(fake.Options{})
	c := mustCreate(t, f, "x")
	g := f.Gate(fake.OpDestroy)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- c.Destroy(ctx) }()
	<-g.Arrived()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("destroy held at a gate, then cancelled = %v", err)
	}
	if c.Destroyed() {
		t.Fatal("a cancelled destroy destroyed the container")
	}
	g.Open()
	if err := c.Destroy(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := f.Verify(); err != nil {
		t.Fatal(err)
	}
}

// signalClock is a FakeClock that reports each timer it is asked for.
type signalClock struct {
	*actors.FakeClock
	timers chan time.Duration
}

func (c signalClock) AfterFunc(d time.Duration, f func()) func() bool {
	stop := c.FakeClock.AfterFunc(d, f)
	c.timers <- d
	return stop
}

func TestLatencyOnClock(t *testing.T) {
	clock := signalClock{actors.NewFakeClock(time.Unix(0, 0)), make(chan time.Duration, 4)}
	f := fake.New(fake.Options{Clock: clock, Latency: fake.Latencies{Run: fake.Latency{Fixed: 100 * time.Millisecond}}})
	c := mustCreate(t, f, "x") // zero create latency: no timer
	mustInit(t, c, 1)
	select {
	case d := <-clock.timers:
		t.Fatalf("zero-latency create or init asked for a %v timer", d)
	default:
	}

	type ran struct {
		out factory.Outcome
		err error
	}
	run := func(timeout time.Duration) <-chan ran {
		ch := make(chan ran, 1)
		go func() {
			out, err := c.Run(context.Background(), factory.RunRequest{Timeout: timeout})
			ch <- ran{out, err}
		}()
		return ch
	}

	done := run(time.Second)
	if d := <-clock.timers; d != 100*time.Millisecond {
		t.Fatalf("run timer %v, want 100ms", d)
	}
	clock.Advance(99 * time.Millisecond)
	select {
	case r := <-done:
		t.Fatalf("run finished 1 ms early: %+v", r)
	default:
	}
	clock.Advance(time.Millisecond)
	if r := <-done; r.err != nil || r.out.Status != factory.StatusSuccess {
		t.Fatalf("run after its latency: %+v, %v", r.out, r.err)
	}

	// A run slower than its timeout waits only the timeout.
	done = run(50 * time.Millisecond)
	if d := <-clock.timers; d != 50*time.Millisecond {
		t.Fatalf("timed-out run waited %v, want the 50ms timeout", d)
	}
	clock.Advance(50 * time.Millisecond)
	r := <-done
	want := `{"error":"The action exceeded its time limits of 50 milliseconds."}`
	if r.err != nil || !r.out.TimedOut || string(r.out.Result) != want || r.out.End.Sub(r.out.Start) != 50*time.Millisecond {
		t.Fatalf("slow run = %+v %s, %v; want %s", r.out, r.out.Result, r.err, want)
	}
	_ = c.Destroy(context.Background())
}

func TestLatencyOnRealTimer(t *testing.T) {
	f := fake.New(fake.Options{Latency: fake.Latencies{Destroy: fake.Latency{Fixed: 20 * time.Millisecond}}})
	c := mustCreate(t, f, "x")
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	if err := c.Destroy(ctx); !errors.Is(err, context.DeadlineExceeded) || c.Destroyed() {
		t.Fatalf("slow destroy past its context = %v (destroyed %v)", err, c.Destroyed())
	}
	start := time.Now()
	if err := c.Destroy(context.Background()); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 20*time.Millisecond {
		t.Fatalf("destroy with 20ms latency took %v", took)
	}
}

func TestJitterIsSeeded(t *testing.T) {
	draws := func(seed uint64) []time.Duration {
		clock := signalClock{actors.NewFakeClock(time.Unix(0, 0)), make(chan time.Duration, 1)}
		f := fake.New(fake.Options{Seed: seed, Clock: clock,
			Latency: fake.Latencies{Suspend: fake.Latency{Fixed: 10 * time.Millisecond, Jitter: 5 * time.Millisecond}}})
		c := mustCreate(t, f, "x")
		var out []time.Duration
		for range 8 {
			errc := make(chan error, 1)
			go func() { errc <- c.Suspend(context.Background()) }()
			d := <-clock.timers
			clock.Advance(d)
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			_ = c.Resume(context.Background())
			out = append(out, d)
		}
		_ = c.Destroy(context.Background())
		return out
	}
	a, b, other := draws(1), draws(1), draws(2)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("same seed, different draws: %v vs %v", a, b)
	}
	if fmt.Sprint(a) == fmt.Sprint(other) {
		t.Errorf("seeds 1 and 2 drew the same: %v", a)
	}
	for _, d := range a {
		if d < 10*time.Millisecond || d >= 15*time.Millisecond {
			t.Errorf("draw %v outside [10ms, 15ms)", d)
		}
	}
}

func TestProviderRegistered(t *testing.T) {
	cfg := &config.Config{}
	cfg.ContainerFactory.Provider = fake.ProviderName
	f, err := factory.New(cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f.(*fake.Factory); !ok {
		t.Fatalf("provider %q built %T", fake.ProviderName, f)
	}
}

func TestConcurrentUse(t *testing.T) {
	f := fake.New(fake.Options{
		Latency: fake.Latencies{Create: fake.Latency{Jitter: time.Millisecond}},
		Faults:  fake.Every(fake.OpRun, 7, fake.FaultApplicationError),
	})
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 10 {
				c, err := f.CreateContainer(ctx, spec(fmt.Sprintf("w%d_%d", w, i)))
				if err != nil {
					t.Error(err)
					return
				}
				fc := c.(*fake.Container)
				if _, err := c.Initialize(ctx, factory.InitRequest{Timeout: time.Second, MaxConcurrency: 4}); err != nil {
					t.Error(err)
				}
				var rg sync.WaitGroup
				for range 4 {
					rg.Go(func() { _, _ = c.Run(ctx, runReq(`{}`)) })
				}
				rg.Wait()
				if err := fc.Destroy(ctx); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if err := f.Verify(); err != nil {
		t.Fatal(err)
	}
	if f.Calls(fake.OpCreate) != 80 || f.Calls(fake.OpRun) != 320 || f.Calls(fake.OpDestroy) != 80 || len(f.Created()) != 80 {
		t.Fatalf("counters: %d creates, %d runs, %d destroys", f.Calls(fake.OpCreate), f.Calls(fake.OpRun), f.Calls(fake.OpDestroy))
	}
}

// The pool's randomized tests compare LiveMemory with the pool's ledger:
// a container's memory must stay live until its destroy succeeded.
func TestLiveMemoryUntilDestroyReturns(t *testing.T) {
	tests := []struct {
		name     string
		fault    fake.Fault
		wantLive int64 // after the destroy returned
	}{
		{"destroy succeeds", fake.FaultNone, 0},
		{"destroy fails", fake.FaultError, int64(256 * mb)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := fake.New(fake.Options{Faults: fake.Always(fake.OpDestroy, tc.fault)})
				g := f.Gate(fake.OpDestroy)
				c := mustCreate(t, f, "held")
				done := make(chan error, 1)
				go func() { done <- c.Destroy(context.Background()) }()
				synctest.Wait()
				if got := f.LiveMemory(); got != int64(256*mb) {
					t.Fatalf("while the destroy is held: live %d B, want %d", got, 256*mb)
				}
				g.Release(1)
				err := <-done
				if (err != nil) != (tc.fault != fake.FaultNone) {
					t.Fatalf("destroy: %v", err)
				}
				if got := f.LiveMemory(); got != tc.wantLive {
					t.Fatalf("after the destroy: live %d B, want %d", got, tc.wantLive)
				}
			})
		})
	}
}
