package pool

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/internal/protocol"
)

// nopContainer answers every call at once, so a benchmark measures the
// container actor, not the container.
type nopContainer struct{}

var nopBody = json.RawMessage(`{}`)

func (nopContainer) ID() string   { return "nop" }
func (nopContainer) Addr() string { return "127.0.0.1:0" }
func (nopContainer) Initialize(context.Context, factory.InitRequest) (factory.Outcome, error) {
	return factory.Outcome{Status: factory.StatusSuccess}, nil
}
func (nopContainer) Run(context.Context, factory.RunRequest) (factory.Outcome, error) {
	return factory.Outcome{Status: factory.StatusSuccess, Result: nopBody}, nil
}
func (nopContainer) Suspend(context.Context) error { return nil }
func (nopContainer) Resume(context.Context) error  { return nil }
func (nopContainer) Logs(context.Context, factory.LogRequest) ([]string, error) {
	return nil, nil
}
func (nopContainer) Destroy(context.Context) error { return nil }

// BenchmarkContainerWarmJob is one warm job through the container actor
// (Job in, RunResult out through a future, JobDone to a sink), next to its
// baseline: a bare protoactor request/response through a future.
//
//	go test -run NONE -bench ContainerWarmJob -count 5 ./pool/
func BenchmarkContainerWarmJob(b *testing.B) {
	sys := actors.NewSystem(zerolog.Nop())
	sink := sys.Root.Spawn(actor.PropsFromFunc(func(actor.Context) {}))
	defer func() { _ = sys.Root.PoisonFuture(sink).Wait() }()

	b.Run("baseline=echo", func(b *testing.B) {
		echo := sys.Root.Spawn(actor.PropsFromFunc(func(c actor.Context) {
			if _, ok := c.Message().(*protocol.Job); ok {
				c.Respond(&actors.RunResult{})
			}
		}))
		defer func() { _ = sys.Root.PoisonFuture(echo).Wait() }()
		job := &protocol.Job{}
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if _, err := sys.Root.RequestFuture(echo, job, time.Second).Result(); err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("container", func(b *testing.B) {
		cfg := ctConfig()
		cfg.ContainerProxy.Timeouts.PauseGrace = time.Hour
		pid := sys.Root.Spawn(newContainerProps(containerParams{
			Pool: sink, StemCell: nopContainer{}, Config: cfg, Clock: actors.RealClock{}, Log: zerolog.Nop(),
		}))
		defer func() { _ = sys.Root.PoisonFuture(pid).Wait() }()
		act := actors.Activation{ID: "a", InvocationNamespace: "guest", Action: ctAction(1)}
		run := func() {
			f := actor.NewFuture(sys, time.Second)
			sys.Root.Send(pid, &protocol.Job{Activation: act, ReplyTo: f.PID(), StartKind: actors.StartWarm})
			res, err := f.Result()
			if err != nil {
				b.Fatal(err)
			}
			if r := res.(*actors.RunResult); r.Result.Status != factory.StatusSuccess {
				b.Fatalf("status %d", r.Result.Status)
			}
		}
		run() // the first job initialises
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			run()
		}
	})
}
