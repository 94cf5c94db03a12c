package pool

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/factory/fake"
	"github.com/stemcell-io/stemcell/internal/protocol"
)

// The container gives a job's capacity back (JobDone to the pool) before
// its caller has the result, on every path that answers. The stand-in pool
// is also the caller here, so the order it receives is the order of
// sending: were the result first, a caller that invokes again at once
// could reach the pool before the capacity and miss the warm container.
func TestContainerCapacityBackBeforeResult(t *testing.T) {
	outcome := func(st factory.Status) func(context.Context, factory.RunRequest) (factory.Outcome, error) {
		return func(context.Context, factory.RunRequest) (factory.Outcome, error) {
			return factory.Outcome{Status: st, Result: json.RawMessage(`{}`)}, nil
		}
	}
	tests := []struct {
		name   string
		run    func(context.Context, factory.RunRequest) (factory.Outcome, error) // nil: success
		status factory.Status
		gone   bool // the outcome removes the container
	}{
		// The first job answers through the actor (after ContainerReady),
		// the later ones from their I/O goroutine.
		{name: "success", status: factory.StatusSuccess},
		{name: "application error keeps the container", run: outcome(factory.StatusApplicationError), status: factory.StatusApplicationError},
		// A failure answers through the actor.
		{name: "developer error", run: outcome(factory.StatusDeveloperError), status: factory.StatusDeveloperError, gone: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newCtEnv(t)
			c := newCtFake("c1", e.clock)
			c.runFn = func(ctx context.Context, req factory.RunRequest) (factory.Outcome, error) {
				if req.ActivationID != "first" && tc.run != nil {
					return tc.run(ctx, req)
				}
				return factory.Outcome{Status: factory.StatusSuccess, Result: json.RawMessage(`{}`)}, nil
			}
			pid := e.stemCell(c)
			act := ctAction(1)
			e.job(pid, "first", act, actors.StartPrewarmed)
			ctNext[*protocol.ContainerReady](e)
			if r := e.result(pid); r.ActivationID != "first" || r.Status != factory.StatusSuccess {
				t.Fatalf("first result %+v", r)
			}
			n := 5
			if tc.gone {
				n = 1
			}
			for i := range n {
				e.job(pid, "later", act, actors.StartWarm)
				if tc.gone {
					ctNext[*protocol.ContainerRemoving](e)
				}
				if r := e.result(pid); r.Status != tc.status {
					t.Fatalf("job %d: status %d, want %d", i, r.Status, tc.status)
				}
			}
			if tc.gone {
				e.removed(pid, true)
			}
		})
	}
}

// A caller that invokes again as soon as it has a result always gets a
// warm start after the first, through the real container actor.
func TestSequentialCallerAlwaysWarm(t *testing.T) {
	p, _ := startPool(t, Options{Config: steadyConfig(256), Factory: fake.New(fake.Options{})}, hooks{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a := act("s", "ns", "seq", 128)
	a.Action.Code = "x"
	const calls = 2000
	for i := range calls {
		r, err := p.Invoke(ctx, a)
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		want := actors.StartWarm
		if i == 0 {
			want = actors.StartCold
		}
		if r.StartKind != want {
			t.Fatalf("call %d started %s, want %s", i, r.StartKind, want)
		}
		// The capacity is back by the time the caller has its result.
		s, err := p.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if s.Busy.Count != 0 || s.Idle.Count != 1 {
			t.Fatalf("call %d: after the result busy %d idle %d, want 0 and 1", i, s.Busy.Count, s.Idle.Count)
		}
	}
}
