package pool

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/factory/fake"
)

// lateLogsPool runs a pool on a fake factory whose runs write one log line
// naming their activation.
func lateLogsPool(t *testing.T, opts fake.Options) (*Pool, *fake.Factory, context.Context) {
	t.Helper()
	opts.Run = func(c *fake.Container, req factory.RunRequest) factory.Outcome {
		c.Log("ran " + req.ActivationID)
		return factory.Outcome{Status: factory.StatusSuccess, Result: []byte(`{}`)}
	}
	f := fake.New(opts)
	p, _ := startPool(t, Options{Config: steadyConfig(256), Factory: f}, hooks{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return p, f, ctx
}

func lateAct(id string) actors.Activation {
	a := act(id, "ns", "late", 128)
	a.Action.Limits.Logs = 10 * config.MB
	a.LogsAfterResult = true
	return a
}

// A warm activation that asks for it is answered before its logs are
// collected; the logs follow on LateLogs, and the next activation runs in
// the same container only after them.
func TestResultBeforeLogs(t *testing.T) {
	p, f, ctx := lateLogsPool(t, fake.Options{})
	first, err := p.Invoke(ctx, lateAct("a1"))
	if err != nil {
		t.Fatal(err)
	}
	// The first run (with /init) is answered through the actor, logs in.
	if first.LateLogs != nil || !slices.Equal(first.Logs, []string{"ran a1"}) {
		t.Fatalf("first result: logs %q, late %v; want its logs and no LateLogs", first.Logs, first.LateLogs)
	}
	gate := f.Gate(fake.OpLogs)
	// Returns while Logs waits at the gate; without the early answer it
	// would wait for the gate.
	early, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	res, err := p.Invoke(early, lateAct("a2"))
	if err != nil {
		t.Fatal(err)
	}
	if res.StartKind != actors.StartWarm || res.Logs != nil || res.LateLogs == nil {
		t.Fatalf("second result: start %s, logs %q, late %v; want warm, no logs yet, LateLogs", res.StartKind, res.Logs, res.LateLogs)
	}
	<-gate.Arrived()
	// The capacity is back, so a third activation goes to the same
	// container, where it waits for a2's logs.
	third := make(chan actors.Result, 1)
	go func() {
		r, err := p.Invoke(ctx, lateAct("a3"))
		if err != nil {
			t.Error(err)
		}
		third <- r
	}()
	select {
	case r := <-third:
		t.Fatalf("a3 finished (%+v) while a2's logs were held", r)
	case <-time.After(50 * time.Millisecond):
	}
	f.Ungate(fake.OpLogs)
	if logs := <-res.LateLogs; !slices.Equal(logs, []string{"ran a2"}) {
		t.Fatalf("a2's late logs = %q, want [ran a2]", logs)
	}
	r3 := <-third
	if r3.StartKind != actors.StartWarm {
		t.Fatalf("a3 started %s, want warm", r3.StartKind)
	}
	if logs := <-r3.LateLogs; !slices.Equal(logs, []string{"ran a3"}) {
		t.Fatalf("a3's late logs = %q, want [ran a3]", logs)
	}
	if n := len(f.Created()); n != 1 {
		t.Fatalf("%d containers created, want 1", n)
	}
}

// Without LogsAfterResult, or with a log limit of 0, nothing changes: the
// result carries its logs.
func TestResultWithLogsByDefault(t *testing.T) {
	p, _, ctx := lateLogsPool(t, fake.Options{})
	for i, a := range []actors.Activation{lateAct("a1"), act("a2", "ns", "late", 128), lateAct("a3")} {
		if i == 2 {
			a.Action.Limits.Logs = 0
		}
		if i == 1 {
			a.Action.Limits.Logs = 10 * config.MB
		}
		r, err := p.Invoke(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		if r.LateLogs != nil {
			t.Fatalf("%s: LateLogs set", a.ID)
		}
		want := []string{"ran " + a.ID}
		if a.Action.Limits.Logs == 0 {
			want = nil
		}
		if !slices.Equal(r.Logs, want) {
			t.Fatalf("%s: logs %q, want %q", a.ID, r.Logs, want)
		}
	}
}

// Logs that fail after the result went out still remove the container:
// the late logs say so, and the next activation gets a new container.
func TestLateLogsFailureRemovesTheContainer(t *testing.T) {
	p, f, ctx := lateLogsPool(t, fake.Options{Faults: fake.Nth(fake.OpLogs, 2, fake.FaultError)})
	if _, err := p.Invoke(ctx, lateAct("a1")); err != nil {
		t.Fatal(err)
	}
	res, err := p.Invoke(ctx, lateAct("a2"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != factory.StatusSuccess || res.LateLogs == nil {
		t.Fatalf("a2: %+v, want a success answered before its logs", res)
	}
	logs := <-res.LateLogs
	if len(logs) == 0 || !isAddedLogLine(logs[len(logs)-1], factory.MsgLogsIncomplete) {
		t.Fatalf("a2's late logs = %q, want them to end with %q", logs, factory.MsgLogsIncomplete)
	}
	r3, err := p.Invoke(ctx, lateAct("a3"))
	if err != nil {
		t.Fatal(err)
	}
	if r3.StartKind != actors.StartCold {
		t.Fatalf("a3 started %s, want cold: the container whose logs failed must be gone", r3.StartKind)
	}
	if n := len(f.Created()); n != 2 {
		t.Fatalf("%d containers created, want 2", n)
	}
}
