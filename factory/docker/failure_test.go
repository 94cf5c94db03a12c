package docker

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stemcell-io/stemcell/factory"
)

// faultyEngine wraps the real engine to fail or observe chosen calls.
type faultyEngine struct {
	engine
	startErr   error
	noIP       bool
	afterStart func() // runs after a successful start
	// abandonCreate, when set, runs after the engine created the container
	// and before the create returns (the caller gives up meanwhile).
	abandonCreate func()
	// createStarted, when set, receives once per Create before it reaches
	// the engine; createGate, when set, holds it there until closed.
	createStarted chan<- struct{}
	createGate    <-chan struct{}

	mu               sync.Mutex
	starting, maxCon int
	removed          []string
}

func (e *faultyEngine) Create(ctx context.Context, s createSpec) (string, error) {
	e.mu.Lock()
	e.starting++
	e.maxCon = max(e.maxCon, e.starting)
	e.mu.Unlock()
	if e.createStarted != nil {
		e.createStarted <- struct{}{}
	}
	if e.createGate != nil {
		<-e.createGate
	}
	id, err := e.engine.Create(ctx, s)
	if err == nil && e.abandonCreate != nil {
		e.abandonCreate()
	}
	if err != nil {
		e.done()
	}
	return id, err
}

func (e *faultyEngine) done() {
	e.mu.Lock()
	e.starting--
	e.mu.Unlock()
}

func (e *faultyEngine) Start(ctx context.Context, id string) error {
	defer e.done()
	if e.startErr != nil {
		return e.startErr
	}
	if err := e.engine.Start(ctx, id); err != nil {
		return err
	}
	if e.afterStart != nil {
		e.afterStart()
	}
	return nil
}

func (e *faultyEngine) Inspect(ctx context.Context, id string) (containerInfo, error) {
	info, err := e.engine.Inspect(ctx, id)
	if e.noIP {
		info.IPs = map[string]string{}
	}
	return info, err
}

func (e *faultyEngine) Remove(ctx context.Context, id string) error {
	e.mu.Lock()
	e.removed = append(e.removed, id)
	e.mu.Unlock()
	return e.engine.Remove(ctx, id)
}

func TestCreateFailuresLeaveNothingBehind(t *testing.T) {
	needEngine(t)
	tests := []struct {
		name     string
		image    string
		user     bool
		fault    func(e *faultyEngine, cancel context.CancelFunc)
		wantMsg  string
		wantUser bool
	}{
		{name: "user image without its executable", image: testEnv.imageNoExec, user: true,
			wantMsg: "executable file not found in image " + testEnv.imageNoExec, wantUser: true},
		{name: "runtime exits at once", image: testEnv.imageExit, wantMsg: msgProvision},
		{name: "engine fails start", image: testEnv.fakeImage, wantMsg: msgProvision,
			fault: func(e *faultyEngine, _ context.CancelFunc) { e.startErr = errors.New("injected start failure") }},
		{name: "no address on the network", image: testEnv.fakeImage, wantMsg: msgProvision,
			fault: func(e *faultyEngine, _ context.CancelFunc) { e.noIP = true }},
		{name: "caller gives up during create", image: testEnv.fakeImage, wantMsg: msgProvision,
			fault: func(e *faultyEngine, cancel context.CancelFunc) { e.abandonCreate = cancel }},
		{name: "caller gives up after start", image: testEnv.fakeImage, wantMsg: msgProvision,
			fault: func(e *faultyEngine, cancel context.CancelFunc) { e.afterStart = cancel }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newTestFactory(t, testConfig(t))
			fe := &faultyEngine{engine: f.eng}
			f.eng = fe
			ctx, cancel := context.WithCancel(testCtx(t))
			defer cancel()
			if tt.fault != nil {
				tt.fault(fe, cancel)
			}
			start := time.Now()
			c, err := f.CreateContainer(ctx, specFor(f, tt.image, tt.user, nil))
			if err == nil {
				_ = c.Destroy(context.Background())
				t.Fatal("CreateContainer succeeded")
			}
			var se *factory.StartupError
			if !errors.As(err, &se) || se.Msg != tt.wantMsg || se.UserError != tt.wantUser {
				t.Fatalf("err = %v, want StartupError{Msg: %q, UserError: %v}", err, tt.wantMsg, tt.wantUser)
			}
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("failing took %v; it must not wait out docker.timeouts.run", d)
			}
			// An abandoned create removes what it made in the background.
			if err := f.detached.wait(testCtx(t)); err != nil {
				t.Fatal(err)
			}
			if len(fe.removed) != 1 {
				t.Errorf("removed %v, want the one container created", fe.removed)
			}
			left, lerr := testEnv.eng.List(testCtx(t), map[string]string{LabelInvoker: f.invoker}, "")
			if lerr != nil || len(left) != 0 {
				t.Fatalf("containers left behind: %v %v", left, lerr)
			}
		})
	}
}

// TestAbandonedCreateFinishesInTheBackground gives up on a create while the
// engine call has not returned: CreateContainer returns at once, the call
// completes, holding its start slot until then, and what it made is
// removed.
func TestAbandonedCreateFinishesInTheBackground(t *testing.T) {
	needEngine(t)
	cfg := testConfig(t)
	cfg.Docker.ParallelRuns = 1
	f := newTestFactory(t, cfg)
	started, gate := make(chan struct{}, 1), make(chan struct{})
	var openGate sync.Once
	defer openGate.Do(func() { close(gate) }) // a failed test must not leave creates hanging
	fe := &faultyEngine{engine: f.eng, createStarted: started, createGate: gate}
	f.eng = fe
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		c, err := f.CreateContainer(ctx, specFor(f, testEnv.fakeImage, false, nil))
		if err == nil {
			_ = c.Destroy(context.Background())
		}
		errc <- err
	}()
	deadline := time.After(30 * time.Second)
	select {
	case <-started:
	case <-deadline:
		t.Fatal("the create never reached the engine")
	}
	cancel()
	select {
	case err := <-errc:
		var se *factory.StartupError
		if !errors.As(err, &se) || se.Msg != msgProvision || !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want the provisioning StartupError wrapping context.Canceled", err)
		}
	case <-deadline:
		t.Fatal("CreateContainer waited for an engine call its caller had given up on")
	}
	fe.mu.Lock()
	early := len(fe.removed)
	fe.mu.Unlock()
	if early != 0 {
		t.Fatalf("removed %v before the engine made the container", fe.removed)
	}
	// The abandoned create still holds the only start slot.
	second := make(chan error, 1)
	go func() {
		c, err := f.CreateContainer(testCtx(t), specFor(f, testEnv.fakeImage, false, nil))
		if err == nil {
			err = c.Destroy(context.Background())
		}
		second <- err
	}()
	select {
	case <-started:
		t.Fatal("a second create reached the engine while the abandoned one held the only slot")
	case <-time.After(300 * time.Millisecond):
	}
	openGate.Do(func() { close(gate) }) // the engine now makes the container
	if err := f.detached.wait(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	fe.mu.Lock()
	removed := slices.Clone(fe.removed)
	fe.mu.Unlock()
	if len(removed) != 1 {
		t.Errorf("removed %v, want the one container the abandoned create made", removed)
	}
	select {
	case <-started:
	case <-deadline:
		t.Fatal("the second create never got the slot")
	}
	if err := <-second; err != nil {
		t.Fatalf("second create: %v", err)
	}
	left, err := testEnv.eng.List(testCtx(t), map[string]string{LabelInvoker: f.invoker}, "")
	if err != nil || len(left) != 0 {
		t.Fatalf("containers left behind: %v %v", left, err)
	}
}

func TestDetachedCallsWait(t *testing.T) {
	var d detachedCalls
	if err := d.wait(context.Background()); err != nil {
		t.Fatalf("wait with none running: %v", err)
	}
	d.add()
	d.add()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := d.wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("wait with two running and an ended ctx: %v, want context.Canceled", err)
	}
	waited := make(chan error, 1)
	go func() { waited <- d.wait(context.Background()) }()
	d.done()
	if err := d.wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("wait with one running and an ended ctx: %v, want context.Canceled", err)
	}
	d.done()
	if err := <-waited; err != nil {
		t.Fatal(err)
	}
	d.add() // from zero again, after a wait
	d.done()
	if err := d.wait(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestParallelRunsBoundsStarts(t *testing.T) {
	needEngine(t)
	cfg := testConfig(t)
	cfg.Docker.ParallelRuns = 1
	f := newTestFactory(t, cfg)
	fe := &faultyEngine{engine: f.eng}
	f.eng = fe
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for range 3 {
		wg.Go(func() {
			c, err := f.CreateContainer(testCtx(t), specFor(f, testEnv.fakeImage, false, nil))
			if err == nil {
				err = c.Destroy(context.Background())
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if fe.maxCon != 1 {
		t.Fatalf("%d create+start at once, want at most docker.parallel-runs = 1", fe.maxCon)
	}
}

func TestSuspendResumeAfterDestroyFail(t *testing.T) {
	needEngine(t)
	f := newTestFactory(t, testConfig(t))
	c := create(t, f, specFor(f, testEnv.fakeImage, false, nil))
	if err := c.Destroy(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	for name, op := range map[string]func(context.Context) error{"suspend": c.Suspend, "resume": c.Resume} {
		if err := op(testCtx(t)); err == nil || !strings.Contains(err.Error(), "already destroyed") {
			t.Errorf("%s after destroy: err = %v, want already destroyed", name, err)
		}
	}
}

func TestEngineToleratesStalePausedFlag(t *testing.T) {
	needEngine(t)
	f := newTestFactory(t, testConfig(t))
	c := create(t, f, specFor(f, testEnv.fakeImage, false, nil))
	defer c.Destroy(context.Background())
	ctx, cli, eng := testCtx(t), testEnv.eng.cli, testEnv.eng
	steps := []struct {
		name string
		// raw puts the container where op would: the engine refuses op
		// for a second (as it does for a flag a late event made stale),
		// then op reports success.
		raw        func() error
		op         func() error
		wantPaused bool
	}{
		{name: "pause of a paused container", raw: func() error { return cli.ContainerPause(ctx, c.ID()) },
			op: func() error { return eng.Pause(ctx, c.ID()) }, wantPaused: true},
		{name: "unpause of a running container", raw: func() error { return cli.ContainerUnpause(ctx, c.ID()) },
			op: func() error { return eng.Unpause(ctx, c.ID()) }, wantPaused: false},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if err := s.raw(); err != nil {
				t.Fatal(err)
			}
			if err := s.op(); err != nil {
				t.Fatalf("err = %v, want the conflict repaired", err)
			}
			info, err := eng.Inspect(ctx, c.ID())
			if err != nil || info.Paused != s.wantPaused {
				t.Fatalf("paused = %v, want %v (err %v)", info.Paused, s.wantPaused, err)
			}
		})
	}
	out, err := c.Run(ctx, runReq(`{"alive":true}`))
	if err != nil || out.Status != factory.StatusSuccess {
		t.Fatalf("run after the repairs: %v %s", err, out.Result)
	}
}

func TestNameWithoutPrefixIsRefused(t *testing.T) {
	needEngine(t)
	f := newTestFactory(t, testConfig(t))
	fe := &faultyEngine{engine: f.eng}
	f.eng = fe
	for _, name := range []string{"", "other_1_a_b", f.namePrefix} {
		spec := specFor(f, testEnv.fakeImage, false, nil)
		spec.Name = name
		_, err := f.CreateContainer(testCtx(t), spec)
		var se *factory.StartupError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), "must start with") {
			t.Errorf("name %q: err = %v, want the prefix rule", name, err)
		}
	}
	if fe.maxCon != 0 {
		t.Errorf("the engine was asked to create %d containers", fe.maxCon)
	}
}
