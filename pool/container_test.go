package pool

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/internal/protocol"
)

func TestContainerColdStartBuffersJobsUntilInit(t *testing.T) {
	e := newCtEnv(t)
	c := newCtFake("c1", e.clock)
	gate := make(chan struct{})
	f := &ctFactory{gate: gate, results: []ctCreate{{c: c}}}
	pid := e.cold(f)
	act := ctAction(1)
	for _, id := range []string{"a1", "a2", "a3"} {
		e.job(pid, id, act, actors.StartCold)
	}
	e.sync(pid)
	e.quiet()
	e.clock.Advance(2 * time.Second) // the creation takes 2 s
	close(gate)

	ready := ctNext[*protocol.ContainerReady](e)
	if !ready.Container.Equal(pid) || ready.ID != "c1" {
		t.Fatalf("ContainerReady %+v", ready)
	}
	for _, id := range []string{"a1", "a2", "a3"} {
		r := e.result(pid)
		if r.ActivationID != id || r.Status != factory.StatusSuccess || r.ContainerID != "c1" || r.StartKind != actors.StartCold {
			t.Fatalf("result %+v, want %s success on c1", r, id)
		}
		if r.WaitTime != 2*time.Second {
			t.Fatalf("%s: wait %v, want 2s (arrival to start of init or run)", id, r.WaitTime)
		}
	}
	if n := c.count("init"); n != 1 {
		t.Fatalf("%d inits, want 1", n)
	}
	if c.maxRunning != 1 {
		t.Fatalf("%d runs at once with max concurrency 1", c.maxRunning)
	}
	if len(f.specs) != 1 || f.specs[0].Name != "t_cold" {
		t.Fatalf("factory specs %+v", f.specs)
	}
	e.sync(pid)
	e.quiet()
}

func TestContainerInitAndRunPayloads(t *testing.T) {
	e := newCtEnv(t)
	c := newCtFake("c1", e.clock)
	c.initFn = func(ctx context.Context, req factory.InitRequest) (factory.Outcome, error) {
		start := e.clock.Now()
		return factory.Outcome{Start: start, End: start.Add(300 * time.Millisecond), Status: factory.StatusSuccess}, nil
	}
	c.runFn = func(ctx context.Context, req factory.RunRequest) (factory.Outcome, error) {
		start := e.clock.Now().Add(400 * time.Millisecond)
		return factory.Outcome{Start: start, End: start.Add(50 * time.Millisecond), Status: factory.StatusSuccess, Result: json.RawMessage(`{}`)}, nil
	}
	pid := e.stemCell(c)
	act := ctAction(4)
	act.Limits.Logs = 10 * config.MB
	c.logs = []string{"hello"}
	now := e.clock.Now()
	j := e.job(pid, "a1", act, actors.StartPrewarmed)
	ctNext[*protocol.ContainerReady](e)
	r := e.result(pid)

	in := c.inits[0]
	wantEnv := map[string]string{
		"INIT_KEY": "v", "__OW_NAMESPACE": "guest", "__OW_ACTION_NAME": "/guest/pkg/hello",
		"__OW_ACTION_VERSION": "0.0.1", "__OW_ACTIVATION_ID": "a1", "__OW_TRANSACTION_ID": "tx-a1",
		"__OW_API_KEY": "key-1", "__OW_DEADLINE": "1772366460000", // now + 1 min, epoch ms
	}
	if len(in.Env) != len(wantEnv) {
		t.Errorf("init env %v, want %v", in.Env, wantEnv)
	}
	for k, v := range wantEnv {
		if in.Env[k] != v {
			t.Errorf("init env %s = %q, want %q", k, in.Env[k], v)
		}
	}
	if in.Name != "hello" || in.Main != "handler" || in.Code != act.Code || in.Timeout != time.Minute || in.MaxConcurrency != 4 {
		t.Errorf("init request %+v", in)
	}
	run := c.runs[0]
	if string(run.Params) != string(j.Activation.Params) || run.Namespace != "guest" || run.ActionName != "/guest/pkg/hello" ||
		run.ActionVersion != "0.0.1" || run.ActivationID != "a1" || run.TransactionID != "tx-a1" || run.APIKey != "key-1" ||
		run.Timeout != time.Minute || !run.Deadline.Equal(now.Add(time.Minute)) || run.MaxPayload != config.MB || run.Truncation != config.MB {
		t.Errorf("run request %+v", run)
	}
	// With init: Start = run start - init duration; wait = arrival to init start.
	runStart := now.Add(400 * time.Millisecond)
	if r.InitTime != 300*time.Millisecond || !r.Start.Equal(runStart.Add(-300*time.Millisecond)) ||
		!r.End.Equal(runStart.Add(50*time.Millisecond)) || r.WaitTime != 0 || r.StartKind != actors.StartPrewarmed {
		t.Errorf("result times %+v", r)
	}
	if len(r.Logs) != 1 || r.Logs[0] != "hello" || !c.logReqs[0].WaitForSentinel || c.logReqs[0].Limit != 10*config.MB {
		t.Errorf("logs %v, request %+v", r.Logs, c.logReqs)
	}

	// A warm job: no init, its own interval.
	e.job(pid, "a2", act, actors.StartWarm)
	r = e.result(pid)
	if c.count("init") != 1 || r.InitTime != 0 || !r.Start.Equal(runStart) || r.StartKind != actors.StartWarm {
		t.Errorf("warm result %+v after %d inits", r, c.count("init"))
	}
}

// Every failure rule of reference §4.1/§4.3: what the job gets, what the
// jobs buffered behind it get, and whether the container goes.
func TestContainerFailureRules(t *testing.T) {
	outcome := func(st factory.Status, body string) func(context.Context) (factory.Outcome, error) {
		return func(context.Context) (factory.Outcome, error) {
			return factory.Outcome{Status: st, Result: json.RawMessage(body)}, nil
		}
	}
	health := func(context.Context) (factory.Outcome, error) { return factory.Outcome{}, factory.ErrHealth }
	tests := []struct {
		name     string
		init     func(context.Context) (factory.Outcome, error) // nil: success
		run      func(context.Context) (factory.Outcome, error) // nil: success
		logsErr  error
		first    string         // "result" or "reschedule"
		status   factory.Status // of the first job's result
		response string
		buffered string // what the job queued behind gets: "same", "reschedule", "runs"
		destroy  bool
	}{
		{name: "init developer error", init: outcome(factory.StatusDeveloperError, `{"error":"bad code"}`),
			first: "result", status: factory.StatusDeveloperError, response: `{"error":"bad code"}`, buffered: "same", destroy: true},
		{name: "init health error", init: health, first: "reschedule", buffered: "reschedule", destroy: true},
		{name: "run application error keeps the container", run: outcome(factory.StatusApplicationError, `{"error":"no"}`),
			first: "result", status: factory.StatusApplicationError, response: `{"error":"no"}`, buffered: "runs", destroy: false},
		{name: "run developer error", run: outcome(factory.StatusDeveloperError, `{"error":"crashed"}`),
			first: "result", status: factory.StatusDeveloperError, response: `{"error":"crashed"}`, buffered: "reschedule", destroy: true},
		{name: "run internal error", run: outcome(factory.StatusInternalError, `{"error":"whisk"}`),
			first: "result", status: factory.StatusInternalError, response: `{"error":"whisk"}`, buffered: "reschedule", destroy: true},
		{name: "run health error", run: health, first: "reschedule", buffered: "reschedule", destroy: true},
		{name: "unexpected run error", run: func(context.Context) (factory.Outcome, error) { return factory.Outcome{}, errCtBoom },
			first: "result", status: factory.StatusInternalError, response: `{"error":"` + msgAbnormalRun + `"}`, buffered: "reschedule", destroy: true},
		{name: "log collection error", logsErr: errCtBoom,
			first: "result", status: factory.StatusSuccess, buffered: "reschedule", destroy: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newCtEnv(t)
			c := newCtFake("c1", e.clock)
			release := make(chan struct{})
			if tc.init != nil {
				c.initFn = func(ctx context.Context, _ factory.InitRequest) (factory.Outcome, error) {
					<-release
					return tc.init(ctx)
				}
			}
			c.runFn = func(ctx context.Context, req factory.RunRequest) (factory.Outcome, error) {
				if req.ActivationID == "a1" {
					<-release
					if tc.run != nil {
						return tc.run(ctx)
					}
				}
				return factory.Outcome{Status: factory.StatusSuccess, Result: json.RawMessage(`{"ok":1}`)}, nil
			}
			c.logsErr = tc.logsErr
			pid := e.stemCell(c)
			act := ctAction(1)
			if tc.logsErr != nil {
				act.Limits.Logs = config.MB
			}
			e.job(pid, "a1", act, actors.StartPrewarmed)
			e.job(pid, "a2", act, actors.StartWarm) // waits behind a1 (max concurrency 1)
			if tc.init == nil {
				ctNext[*protocol.ContainerReady](e)
			}
			e.sync(pid)
			close(release)

			if tc.destroy {
				if m := ctNext[*protocol.ContainerRemoving](e); !m.Container.Equal(pid) {
					t.Fatalf("ContainerRemoving from %v", m.Container)
				}
			}
			// Both jobs end before the container goes; their order depends
			// on the rule, so collect them by activation.
			got := map[string]string{}
			results := map[string]actors.Result{}
			for len(got) < 2 {
				switch m := e.next().(type) {
				case *protocol.JobDone:
					r := ctNext[*actors.RunResult](e)
					got[r.Result.ActivationID] = "result"
					results[r.Result.ActivationID] = r.Result
				case *protocol.Reschedule:
					if !m.Container.Equal(pid) {
						t.Fatalf("Reschedule from %v", m.Container)
					}
					got[m.Job.Activation.ID] = "reschedule"
				case *protocol.ContainerReady:
					if tc.init != nil {
						t.Fatal("ContainerReady after a failed init")
					}
				default:
					t.Fatalf("unexpected %T %+v", m, m)
				}
			}
			if got["a1"] != tc.first {
				t.Fatalf("first job: %s, want %s", got["a1"], tc.first)
			}
			if tc.first == "result" {
				r := results["a1"]
				if r.Status != tc.status || (tc.response != "" && string(r.Response) != tc.response) {
					t.Fatalf("first result %d %s, want %d %s", r.Status, r.Response, tc.status, tc.response)
				}
			}
			switch tc.buffered {
			case "same":
				r := results["a2"]
				if got["a2"] != "result" || r.Status != tc.status || string(r.Response) != tc.response {
					t.Fatalf("buffered job got %s %+v, want the init error", got["a2"], r)
				}
			case "reschedule":
				if got["a2"] != "reschedule" {
					t.Fatalf("buffered job: %s, want reschedule", got["a2"])
				}
			case "runs":
				if got["a2"] != "result" || results["a2"].Status != factory.StatusSuccess {
					t.Fatalf("buffered job: %s %+v, want it run", got["a2"], results["a2"])
				}
			}
			if tc.logsErr != nil {
				logs := results["a1"].Logs
				if len(logs) == 0 || !isAddedLogLine(logs[len(logs)-1], factory.MsgLogsIncomplete) {
					t.Fatalf("logs %v lack %q", logs, factory.MsgLogsIncomplete)
				}
			}
			if !tc.destroy {
				e.sync(pid)
				e.quiet()
				if c.count("destroy") != 0 {
					t.Fatal("container destroyed after an application error")
				}
				return
			}
			e.removed(pid, true)
			if n := c.count("destroy"); n != 1 {
				t.Fatalf("%d destroys, want 1", n)
			}
		})
	}
}

func TestContainerColdCreateFailure(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status factory.Status
		msg    string
	}{
		{"user error", &factory.StartupError{Msg: "Failed to pull container image 'x'.", UserError: true, Err: errCtBoom},
			factory.StatusDeveloperError, "Failed to pull container image 'x'."},
		{"engine error", &factory.StartupError{Msg: "docker run failed", Err: errCtBoom},
			factory.StatusInternalError, msgProvisionError},
		{"other error", errCtBoom, factory.StatusInternalError, msgProvisionError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newCtEnv(t)
			gate := make(chan struct{})
			pid := e.cold(&ctFactory{gate: gate, results: []ctCreate{{err: tc.err}}})
			act := ctAction(2)
			e.job(pid, "a1", act, actors.StartCold)
			e.job(pid, "a2", act, actors.StartCold)
			e.sync(pid)
			close(gate)
			ctNext[*protocol.ContainerRemoving](e)
			for _, id := range []string{"a1", "a2"} {
				r := e.result(pid)
				want := `{"error":"` + tc.msg + `"}`
				if r.ActivationID != id || r.Status != tc.status || string(r.Response) != want {
					t.Fatalf("got %s %d %s, want %s %d %s", r.ActivationID, r.Status, r.Response, id, tc.status, want)
				}
			}
			e.removed(pid, true) // the actor stops (reference §11.5)
		})
	}
}

func TestContainerMaxConcurrency(t *testing.T) {
	e := newCtEnv(t)
	c := newCtFake("c1", e.clock)
	release := make(chan struct{})
	c.runFn = func(ctx context.Context, req factory.RunRequest) (factory.Outcome, error) {
		<-release
		return factory.Outcome{Status: factory.StatusSuccess, Result: json.RawMessage(`{}`)}, nil
	}
	pid := e.stemCell(c)
	act := ctAction(3)
	for i := 0; i < 7; i++ {
		e.job(pid, "a"+string(rune('0'+i)), act, actors.StartWarm)
	}
	ctNext[*protocol.ContainerReady](e)
	for i := 0; i < 3; i++ {
		waitEvent(t, c, "run")
	}
	e.sync(pid)
	c.mu.Lock()
	running := c.running
	c.mu.Unlock()
	if running != 3 {
		t.Fatalf("%d runs in flight, want 3 (max concurrency)", running)
	}
	close(release)
	// Concurrent jobs answer from their own goroutines: results and
	// JobDones interleave.
	seen := map[string]bool{}
	done := 0
	for i := 0; i < 14; i++ {
		switch m := e.next().(type) {
		case *actors.RunResult:
			seen[m.Result.ActivationID] = true
		case *protocol.JobDone:
			done++
		default:
			t.Fatalf("unexpected %T", m)
		}
	}
	if done != 7 {
		t.Fatalf("%d JobDone for 7 jobs", done)
	}
	if len(seen) != 7 || c.maxRunning != 3 || c.count("init") != 1 {
		t.Fatalf("answered %d distinct, max running %d, inits %d", len(seen), c.maxRunning, c.count("init"))
	}
}

// Pause after pause-grace in Ready, destroy after idle-container in Paused,
// each to the nanosecond on the fake clock.
func TestContainerPauseAndIdleRemovalTiming(t *testing.T) {
	e := newCtEnv(t)
	c := newCtFake("c1", e.clock)
	pid := e.stemCell(c)
	act := ctAction(1)
	e.job(pid, "a1", act, actors.StartPrewarmed)
	ctNext[*protocol.ContainerReady](e)
	e.result(pid)
	e.sync(pid) // Ready, pause timer armed

	e.clock.Advance(e.cfg.ContainerProxy.Timeouts.PauseGrace - time.Nanosecond)
	e.sync(pid)
	if c.count("suspend") != 0 || e.clock.Pending() != 1 {
		t.Fatalf("pause timer fired before pause-grace (%d suspends, %d timers pending)", c.count("suspend"), e.clock.Pending())
	}
	e.clock.Advance(time.Nanosecond)
	e.suspended(pid) // Paused, idle timer armed

	e.clock.Advance(e.cfg.ContainerProxy.Timeouts.IdleContainer - time.Nanosecond)
	e.sync(pid)
	if e.clock.Pending() != 1 {
		t.Fatalf("idle timer fired before idle-container (%d timers pending)", e.clock.Pending())
	}
	e.quiet()
	e.clock.Advance(time.Nanosecond)
	ctNext[*protocol.ContainerRemoving](e)
	// Idle expiry frees the memory with ContainerRemoved (reference §11.3)
	// and asks for no prewarm backfill.
	e.removed(pid, false)
	if c.count("resume") != 1 || c.count("destroy") != 1 {
		t.Fatalf("resume %d, destroy %d: want a resume before the one destroy", c.count("resume"), c.count("destroy"))
	}
	if i, j := indexOf(c, "resume"), indexOf(c, "destroy"); i > j {
		t.Fatalf("destroy before resume: %v", c.calls)
	}
}

func indexOf(c *ctFake, call string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, x := range c.calls {
		if x == call {
			return i
		}
	}
	return -1
}

func TestContainerResumesForAJobWhilePaused(t *testing.T) {
	e := newCtEnv(t)
	c := newCtFake("c1", e.clock)
	pid := e.stemCell(c)
	act := ctAction(1)
	e.job(pid, "a1", act, actors.StartPrewarmed)
	ctNext[*protocol.ContainerReady](e)
	e.result(pid)
	e.sync(pid)
	e.clock.Advance(e.cfg.ContainerProxy.Timeouts.PauseGrace)
	e.suspended(pid)

	e.job(pid, "a2", act, actors.StartWarm)
	r := e.result(pid)
	if r.ActivationID != "a2" || r.Status != factory.StatusSuccess || c.count("resume") != 1 || c.count("init") != 1 {
		t.Fatalf("result %+v, resumes %d, inits %d", r, c.count("resume"), c.count("init"))
	}
	// The idle timer of the paused state is gone; the grace starts again.
	e.sync(pid)
	e.clock.Advance(e.cfg.ContainerProxy.Timeouts.IdleContainer)
	e.suspended(pid)
	e.quiet()
	if c.count("destroy") != 0 {
		t.Fatal("destroyed by the stale idle timer")
	}
}

func TestContainerJobDuringPausingWaitsAndResumes(t *testing.T) {
	e := newCtEnv(t)
	c := newCtFake("c1", e.clock)
	c.suspendGate = make(chan struct{})
	pid := e.stemCell(c)
	act := ctAction(1)
	e.job(pid, "a1", act, actors.StartPrewarmed)
	ctNext[*protocol.ContainerReady](e)
	e.result(pid)
	e.sync(pid)
	e.clock.Advance(e.cfg.ContainerProxy.Timeouts.PauseGrace) // Suspend starts and blocks
	e.sync(pid)
	e.job(pid, "a2", act, actors.StartWarm)
	e.sync(pid)
	e.quiet()
	close(c.suspendGate)
	r := e.result(pid)
	if r.ActivationID != "a2" || c.count("resume") != 1 {
		t.Fatalf("result %+v after %d resumes", r, c.count("resume"))
	}
}

func TestContainerPauseOrResumeFailureRemoves(t *testing.T) {
	tests := []struct {
		name       string
		suspendErr error
		resumeErr  error
	}{
		{"pause fails", errCtBoom, nil},
		{"resume fails", nil, errCtBoom},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newCtEnv(t)
			c := newCtFake("c1", e.clock)
			c.suspendErr, c.resumeErr = tc.suspendErr, tc.resumeErr
			pid := e.stemCell(c)
			act := ctAction(1)
			e.job(pid, "a1", act, actors.StartPrewarmed)
			ctNext[*protocol.ContainerReady](e)
			e.result(pid)
			e.sync(pid)
			e.clock.Advance(e.cfg.ContainerProxy.Timeouts.PauseGrace)
			if tc.resumeErr != nil {
				e.suspended(pid)
				e.job(pid, "a2", act, actors.StartWarm)
			} else {
				e.sawSuspend() // the failed pause removes the container: no sync point
			}
			ctNext[*protocol.ContainerRemoving](e)
			if tc.resumeErr != nil {
				if m := ctNext[*protocol.Reschedule](e); m.Job.Activation.ID != "a2" {
					t.Fatalf("rescheduled %s", m.Job.Activation.ID)
				}
			}
			e.removed(pid, true)
			if c.count("destroy") != 1 {
				t.Fatalf("%d destroys", c.count("destroy"))
			}
		})
	}
}

func TestContainerRemoveWaitsForRunningJob(t *testing.T) {
	e := newCtEnv(t)
	c := newCtFake("c1", e.clock)
	release := make(chan struct{})
	c.runFn = func(ctx context.Context, req factory.RunRequest) (factory.Outcome, error) {
		<-release
		return factory.Outcome{Status: factory.StatusSuccess, Result: json.RawMessage(`{}`)}, nil
	}
	pid := e.stemCell(c)
	act := ctAction(1)
	e.job(pid, "a1", act, actors.StartPrewarmed)
	e.job(pid, "a2", act, actors.StartWarm) // accepted before Remove: still runs
	ctNext[*protocol.ContainerReady](e)
	waitEvent(t, c, "run")
	e.sys.Root.Send(pid, &protocol.Remove{})
	e.job(pid, "a3", act, actors.StartWarm) // after Remove: bounced
	if m := ctNext[*protocol.Reschedule](e); m.Job.Activation.ID != "a3" {
		t.Fatalf("rescheduled %s, want a3", m.Job.Activation.ID)
	}
	e.sync(pid)
	if c.count("destroy") != 0 {
		t.Fatal("destroyed while a job runs")
	}
	close(release)
	for _, id := range []string{"a1", "a2"} {
		if r := e.result(pid); r.ActivationID != id || r.Status != factory.StatusSuccess {
			t.Fatalf("result %+v, want %s success", r, id)
		}
	}
	// The pool asked for the removal: no ContainerRemoving, no backfill.
	e.removed(pid, false)
	if c.count("destroy") != 1 {
		t.Fatalf("%d destroys", c.count("destroy"))
	}
}

func TestContainerRemoveAbort(t *testing.T) {
	e := newCtEnv(t)
	c := newCtFake("c1", e.clock)
	c.runFn = func(ctx context.Context, req factory.RunRequest) (factory.Outcome, error) {
		<-ctx.Done()
		return factory.Outcome{}, ctx.Err()
	}
	pid := e.stemCell(c)
	act := ctAction(2)
	for _, id := range []string{"a1", "a2", "a3"} {
		e.job(pid, id, act, actors.StartWarm)
	}
	ctNext[*protocol.ContainerReady](e)
	waitEvent(t, c, "run")
	waitEvent(t, c, "run")
	e.sys.Root.Send(pid, &protocol.Remove{Abort: true})
	seen := map[string]bool{}
	for i := 0; i < 3; i++ {
		r := e.result(pid)
		if r.Status != factory.StatusInternalError || string(r.Response) != `{"error":"`+msgShutdown+`"}` {
			t.Fatalf("result %+v", r)
		}
		seen[r.ActivationID] = true
	}
	if len(seen) != 3 {
		t.Fatalf("answered %v", seen)
	}
	e.removed(pid, false)
	if c.count("destroy") != 1 || c.count("run") != 2 {
		t.Fatalf("destroys %d, runs %d", c.count("destroy"), c.count("run"))
	}
}

func TestContainerRemoveIdle(t *testing.T) {
	tests := []struct {
		name   string
		paused bool
	}{{"ready", false}, {"paused", true}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newCtEnv(t)
			c := newCtFake("c1", e.clock)
			pid := e.stemCell(c)
			e.job(pid, "a1", ctAction(1), actors.StartPrewarmed)
			ctNext[*protocol.ContainerReady](e)
			e.result(pid)
			e.sync(pid)
			if tc.paused {
				e.clock.Advance(e.cfg.ContainerProxy.Timeouts.PauseGrace)
				e.suspended(pid)
			}
			e.sys.Root.Send(pid, &protocol.Remove{})
			e.removed(pid, false)
			wantResume := 0
			if tc.paused {
				wantResume = 1
			}
			if c.count("destroy") != 1 || c.count("resume") != wantResume {
				t.Fatalf("destroys %d, resumes %d", c.count("destroy"), c.count("resume"))
			}
			if e.clock.Pending() != 0 {
				t.Fatalf("%d timers left after removal", e.clock.Pending())
			}
		})
	}
}

func TestContainerRemoveStemCellUnused(t *testing.T) {
	e := newCtEnv(t)
	c := newCtFake("c1", e.clock)
	pid := e.stemCell(c)
	e.sys.Root.Send(pid, &protocol.Remove{})
	e.removed(pid, false)
	if c.count("destroy") != 1 || c.count("init") != 0 {
		t.Fatalf("calls %v", c.calls)
	}
}

func TestContainerBouncesOtherIdentity(t *testing.T) {
	e := newCtEnv(t)
	c := newCtFake("c1", e.clock)
	pid := e.stemCell(c)
	e.job(pid, "a1", ctAction(1), actors.StartPrewarmed)
	ctNext[*protocol.ContainerReady](e)
	e.result(pid)
	other := ctAction(1)
	other.Digest = "d2"
	e.job(pid, "b1", other, actors.StartWarm)
	if m := ctNext[*protocol.Reschedule](e); m.Job.Activation.ID != "b1" {
		t.Fatalf("rescheduled %s", m.Job.Activation.ID)
	}
	if c.count("run") != 1 {
		t.Fatalf("%d runs", c.count("run"))
	}
}

func TestContainerDeveloperErrorLogs(t *testing.T) {
	e := newCtEnv(t)
	c := newCtFake("c1", e.clock)
	c.logs = []string{"stderr: oops"}
	c.runFn = func(context.Context, factory.RunRequest) (factory.Outcome, error) {
		return factory.Outcome{Status: factory.StatusDeveloperError, Result: json.RawMessage(`{"error":"x"}`)}, nil
	}
	pid := e.stemCell(c)
	act := ctAction(1)
	act.Limits.Logs = config.MB
	e.job(pid, "a1", act, actors.StartPrewarmed)
	ctNext[*protocol.ContainerReady](e)
	ctNext[*protocol.ContainerRemoving](e)
	r := e.result(pid)
	if len(r.Logs) != 2 || r.Logs[0] != "stderr: oops" || !isAddedLogLine(r.Logs[1], msgDeveloperLogWarn) || c.logReqs[0].WaitForSentinel {
		t.Fatalf("logs %q, request %+v", r.Logs, c.logReqs[0])
	}
	e.removed(pid, true)
}

func TestContainerColdWithoutFactory(t *testing.T) {
	e := newCtEnv(t)
	p := e.params()
	p.Spec = factory.ContainerSpec{Name: "t_nofactory"}
	pid := e.spawn(p)
	ctNext[*protocol.ContainerRemoving](e)
	e.removed(pid, true)
}

// A failure while draining for the pool's Remove: the jobs still buffered
// go back to the pool instead of running on the failed container.
func TestContainerFailureWhileDraining(t *testing.T) {
	e := newCtEnv(t)
	c := newCtFake("c1", e.clock)
	release := make(chan struct{})
	c.runFn = func(ctx context.Context, req factory.RunRequest) (factory.Outcome, error) {
		<-release
		return factory.Outcome{Status: factory.StatusDeveloperError, Result: json.RawMessage(`{"error":"x"}`)}, nil
	}
	pid := e.stemCell(c)
	act := ctAction(1)
	e.job(pid, "a1", act, actors.StartPrewarmed)
	e.job(pid, "a2", act, actors.StartWarm)
	ctNext[*protocol.ContainerReady](e)
	waitEvent(t, c, "run")
	e.sys.Root.Send(pid, &protocol.Remove{})
	e.sync(pid)
	close(release)
	if r := e.result(pid); r.ActivationID != "a1" || r.Status != factory.StatusDeveloperError {
		t.Fatalf("result %+v", r)
	}
	if m := ctNext[*protocol.Reschedule](e); m.Job.Activation.ID != "a2" {
		t.Fatalf("rescheduled %s", m.Job.Activation.ID)
	}
	e.removed(pid, true)
	if c.count("run") != 1 || c.count("destroy") != 1 {
		t.Fatalf("runs %d, destroys %d", c.count("run"), c.count("destroy"))
	}
}

// isAddedLogLine says whether line is text as a stderr log line in
// OpenWhisk's format (a time padded to 30 characters first), as the lines
// the invoker adds must be.
func isAddedLogLine(line, text string) bool {
	stamp, rest, ok := strings.Cut(line, " stderr: ")
	if !ok || rest != text || len(stamp) != 30 {
		return false
	}
	_, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(stamp))
	return err == nil
}
