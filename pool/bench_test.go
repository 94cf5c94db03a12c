package pool

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/factory/fake"
	"github.com/stemcell-io/stemcell/internal/protocol"
)

// benchPoolWith lets a benchmark put a minimal container actor in place of
// the real one, to measure the pool alone.
func benchPoolWith(b *testing.B, containers int, h hooks) (*Pool, *actor.ActorSystem) {
	b.Helper()
	cfg := steadyConfig(int64(containers+1) * 128)
	cfg.ContainerPool.BufferSize = 100000
	return startPool(b, Options{Config: cfg, Factory: fake.New(fake.Options{})}, h)
}

func benchAct(i int) actors.Activation {
	a := act(fmt.Sprintf("b%d", i), "ns", fmt.Sprintf("f%d", i), 128)
	a.Action.Code = "x"
	return a
}

// warm makes n warm containers, one per action f0..f(n-1).
func warm(b *testing.B, p *Pool, n int) {
	b.Helper()
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 256)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if _, err := p.Invoke(ctx, benchAct(i)); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	s, err := p.Snapshot(ctx)
	if err != nil || s.Idle.Count != n {
		b.Fatalf("after warming: %+v, %v; want %d idle", s, err, n)
	}
}

type echo struct{}

// BenchmarkWarmHit compares a warm activation through the pool (caller ->
// pool -> container actor -> caller, on a zero-latency fake container) with
// a bare protoactor request/response to an echo actor.
func BenchmarkWarmHit(b *testing.B) {
	b.Run("bare-request-response", func(b *testing.B) {
		sys := actors.NewSystem(zerolog.Nop())
		pid := sys.Root.Spawn(actor.PropsFromFunc(func(c actor.Context) {
			if _, ok := c.Message().(*echo); ok {
				c.Respond(&echo{})
			}
		}))
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if _, err := sys.Root.RequestFuture(pid, &echo{}, time.Second).Result(); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		_ = sys.Root.StopFuture(pid).Wait()
		sys.Shutdown()
	})
	for _, variant := range []struct {
		name string
		h    hooks
	}{{"pool+container-actor", hooks{}}, {"pool+minimal-container", hooks{container: minimalContainer}}} {
		b.Run(variant.name, func(b *testing.B) {
			p, _ := benchPoolWith(b, 1, variant.h)
			warm(b, p, 1)
			ctx := context.Background()
			a := benchAct(0)
			cold := 0
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				r, err := p.Invoke(ctx, a)
				if err != nil {
					b.Fatal(err)
				}
				if r.StartKind != actors.StartWarm {
					cold++
				}
			}
			b.StopTimer()
			// The container sends JobDone before the result, so a caller
			// that invokes again at once finds its warm container free; a
			// non-zero fraction here would show that order broken.
			b.ReportMetric(float64(cold)/float64(b.N), "not-warm/op")
		})
	}
}

// BenchmarkWarmHitAmong measures a warm hit with 10 and with 10,000 warm
// containers of other actions in the pool: placement must not scan them.
func BenchmarkWarmHitAmong(b *testing.B) {
	for _, n := range []int{10, 10000} {
		b.Run(fmt.Sprintf("containers=%d", n), func(b *testing.B) {
			p, _ := benchPoolWith(b, n, hooks{container: minimalContainer})
			warm(b, p, n)
			ctx := context.Background()
			a := benchAct(n / 2)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if _, err := p.Invoke(ctx, a); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
		})
	}
}

// BenchmarkThroughput64 runs 64 concurrent callers, each on its own warm
// action, and reports activations per second.
func BenchmarkThroughput64(b *testing.B) {
	b.Run("pool+container-actor", func(b *testing.B) { throughput(b, hooks{}) })
	b.Run("pool+minimal-container", func(b *testing.B) { throughput(b, hooks{container: minimalContainer}) })
}

func throughput(b *testing.B, h hooks) {
	const callers = 64
	p, _ := benchPoolWith(b, callers, h)
	warm(b, p, callers)
	ctx := context.Background()
	var next atomic.Int64
	var failed atomic.Value
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	per := b.N/callers + 1
	start := time.Now()
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := benchAct(int(next.Add(1) - 1))
			for range per {
				if _, err := p.Invoke(ctx, a); err != nil {
					failed.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if err := failed.Load(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(per*callers)/elapsed.Seconds(), "activations/s")
}

// minimalContainer is the least a container actor must do: answer each job
// at once, telling the pool first so that its capacity is back before the
// caller can send more. It never creates anything, so what a benchmark
// measures with it is the pool.
func minimalContainer(p containerParams) *actor.Props {
	return actor.PropsFromFunc(func(c actor.Context) {
		switch m := c.Message().(type) {
		case *protocol.Job:
			c.Send(p.Pool, &protocol.JobDone{Container: c.Self()})
			p.Results.inc(factory.StatusSuccess)
			c.Send(m.ReplyTo, &actors.RunResult{Result: actors.Result{ActivationID: m.Activation.ID, StartKind: m.StartKind}})
		case *protocol.Remove:
			c.Send(p.Pool, &protocol.ContainerRemoved{Container: c.Self()})
		}
	})
}

// BenchmarkWarmLookup is the data-structure half of a warm hit, without
// actors: find the identity's best warm container, take a slot, give it
// back. With 10 and 10,000 warm containers of other identities.
func BenchmarkWarmLookup(b *testing.B) {
	for _, n := range []int{10, 10000} {
		b.Run(fmt.Sprintf("containers=%d", n), func(b *testing.B) {
			cfg := testConfig(int64(n) * 128)
			p := newPoolActor(cfg, zerolog.Nop(), actors.RealClock{}, nil, hooks{}, nil)
			idents := make([]actors.Identity, n)
			for i := range n {
				a := benchAct(i)
				idents[i] = a.Identity()
				e := &entry{pid: actor.NewPID("nonhost", fmt.Sprintf("c%d", i)), ident: idents[i], kind: "js:goja",
					mem: 128 * config.MB, maxConc: 1, phase: phaseWarmed, availTier: tierNone}
				if err := p.ledger.add(memIdle, e.mem); err != nil {
					b.Fatal(err)
				}
				p.registered(e)
				p.join(e)
				p.change(e, func() {})
			}
			id := idents[n/2]
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				_, e := p.byIdent[id].best()
				before := e.memState()
				e.active++
				p.settle(e, before)
				before = e.memState()
				e.active--
				p.settle(e, before)
			}
		})
	}
}
