package prewarm_test

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory/docker"
	"github.com/stemcell-io/stemcell/internal/enginetest"
	"github.com/stemcell-io/stemcell/pool"
)

// The engine tests run the real pool, with this scheduler as its child, on
// the real Docker Engine, with the runtime image built from this tree's
// invoker binary under a tag unique to the process (enginetest).

// engineConfig is the default configuration with a unique invoker name and
// a manifest whose js:goja kind runs this run's runtime image.
func engineConfig(tb testing.TB, cells ...config.StemCell) *config.Config {
	cfg := config.Default()
	cfg.Invoker.Name = enginetest.UniqueName(tb.Name())
	img := enginetest.ImageName(enginetest.RuntimeImageRef())
	cfg.RuntimesManifest.Manifest = config.Manifest{
		Runtimes:   map[string][]config.RuntimeKind{"nodejs": {{Kind: "js:goja", Default: true, Image: img, StemCells: cells}}},
		Blackboxes: []config.ImageName{img},
	}
	cfg.ContainerPool.UserMemory = 4096 * config.MB
	return cfg
}

// enginePool spawns a pool with the Docker factory on cfg; everything is
// shut down, and the engine checked for leftovers, when tb ends.
func enginePool(tb testing.TB, cfg *config.Config) *pool.Pool {
	tb.Helper()
	f, err := docker.NewWithOptions(cfg, testLog(), docker.Options{
		BinaryPath: enginetest.InvokerBinary(tb), RuntimeImages: []string{enginetest.RuntimeImageRef()},
	})
	if err != nil {
		tb.Fatalf("docker factory: %v", err)
	}
	sys := actors.NewSystem(zerolog.Nop(), actor.WithDeadLetterThrottleInterval(10*time.Millisecond))
	p, err := pool.Spawn(sys.Root, pool.Options{Config: cfg, Factory: f, Log: testLog()})
	if err != nil {
		_ = f.Close()
		tb.Fatalf("pool.Spawn: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := p.Shutdown(ctx); err != nil {
			tb.Errorf("pool shutdown: %v", err)
		}
		ours := docker.LabelInvoker + "=" + cfg.Invoker.Name
		if left := enginetest.Containers(tb, ours); len(left) > 0 {
			tb.Errorf("%d containers of invoker %s left after shutdown: %v", len(left), cfg.Invoker.Name, left)
			enginetest.RemoveContainers(ours)
		}
		_ = f.Close()
	})
	return p
}

// engineContainers lists the sorted IDs of invoker's containers on the
// engine that carry the given role label.
func engineContainers(tb testing.TB, invoker, role string) []string {
	tb.Helper()
	return enginetest.Containers(tb, docker.LabelInvoker+"="+invoker, docker.LabelRole+"="+role)
}

// eventually polls the engine (it has no event we could wait on that
// covers every case) until cond holds, or fails after timeout.
func eventually(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline.C:
			tb.Fatalf("after %v: %s", timeout, what)
		}
	}
}

const jsAction = `function main(params) { return {greeting: "hello " + (params.name || "world")}; }`

func jsActivation(name string, mem config.ByteSize) actors.Activation {
	return actors.Activation{
		ID:                  "act-" + enginetest.Suffix(),
		TransactionID:       "tid-" + enginetest.Suffix(),
		InvocationNamespace: "guest",
		Action: actors.Action{
			Namespace: "guest", Name: name, Version: "0.0.1", Digest: "sha-" + name,
			Kind: "js:goja", Image: enginetest.ImageName(enginetest.RuntimeImageRef()), Main: "main", Code: jsAction,
			Limits: actors.ActionLimits{Memory: mem, Timeout: 30 * time.Second, MaxConcurrency: 1, Logs: config.MB},
		},
		Params: []byte(`{"name":"prewarm"}`),
	}
}

func invoke(tb testing.TB, p *pool.Pool, a actors.Activation) actors.Result {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := p.Invoke(ctx, a)
	if err != nil {
		tb.Fatalf("invoke %s: %v", a.Action.Name, err)
	}
	if res.Status != 0 || !strings.Contains(string(res.Response), "hello prewarm") {
		tb.Fatalf("invoke %s: status %d, response %s", a.Action.Name, res.Status, res.Response)
	}
	return res
}

func prewarmedCount(tb testing.TB, p *pool.Pool) int {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := p.Snapshot(ctx)
	if err != nil {
		tb.Fatalf("snapshot: %v", err)
	}
	return s.Prewarmed.Count
}

func diff(a, b []string) []string {
	in := map[string]bool{}
	for _, x := range b {
		in[x] = true
	}
	var out []string
	for _, x := range a {
		if !in[x] {
			out = append(out, x)
		}
	}
	return out
}

// TestEngineTakenStemCellIsReplaced: stem cells run on the engine with the
// prewarm label; an activation of their kind and memory starts prewarmed,
// and a replacement container appears.
func TestEngineTakenStemCellIsReplaced(t *testing.T) {
	enginetest.Require(t)
	cfg := engineConfig(t, config.StemCell{InitialCount: 2, Memory: 256 * config.MB})
	p := enginePool(t, cfg)
	name := cfg.Invoker.Name
	eventually(t, time.Minute, "2 stem cells ready", func() bool { return prewarmedCount(t, p) == 2 })
	before := engineContainers(t, name, "prewarm")
	if len(before) != 2 {
		t.Fatalf("%d containers labelled %s=prewarm on the engine, want 2", len(before), docker.LabelRole)
	}
	res := invoke(t, p, jsActivation("hello", 256*config.MB))
	if res.StartKind != actors.StartPrewarmed {
		t.Fatalf("start kind %q, want %q", res.StartKind, actors.StartPrewarmed)
	}
	taken := -1
	for i, id := range before {
		if strings.HasPrefix(id, res.ContainerID) || strings.HasPrefix(res.ContainerID, id) {
			taken = i
		}
	}
	if taken < 0 {
		t.Fatalf("the activation ran in %s, not in one of the stem cells %v", res.ContainerID, before)
	}
	eventually(t, time.Minute, "a replacement stem cell", func() bool {
		return prewarmedCount(t, p) == 2 && len(diff(engineContainers(t, name, "prewarm"), before)) == 1
	})
	// Another memory size has no stem cell: that start is cold.
	if res := invoke(t, p, jsActivation("big", 512*config.MB)); res.StartKind != actors.StartCold {
		t.Errorf("512 MB start kind %q, want %q", res.StartKind, actors.StartCold)
	}
}

// TestEngineExpiredStemCellsComeBack: with a short TTL, expired stem cells
// disappear from the engine and are replaced up to the reactive minimum.
func TestEngineExpiredStemCellsComeBack(t *testing.T) {
	enginetest.Require(t)
	cfg := engineConfig(t, config.StemCell{InitialCount: 2, Memory: 256 * config.MB,
		Reactive: &config.ReactiveConfig{MinCount: 1, MaxCount: 2, TTL: 2 * time.Second, Threshold: 1, Increment: 1}})
	cfg.ContainerPool.PrewarmExpirationCheckInitDelay = time.Second
	cfg.ContainerPool.PrewarmExpirationCheckInterval = time.Second
	variance := 500 * time.Millisecond
	cfg.ContainerPool.PrewarmExpirationCheckIntervalVariance = &variance
	p := enginePool(t, cfg)
	name := cfg.Invoker.Name
	var first []string
	eventually(t, time.Minute, "the initial 2 stem cells on the engine", func() bool {
		first = engineContainers(t, name, "prewarm")
		return len(first) == 2
	})
	eventually(t, time.Minute, "the initial stem cells removed and 1 new one (the minimum) ready", func() bool {
		now := engineContainers(t, name, "prewarm")
		return len(diff(first, now)) == 2 && len(now) == 1 && prewarmedCount(t, p) == 1
	})
	// Recycled once more: the replacement expires too and comes back.
	second := engineContainers(t, name, "prewarm")
	eventually(t, time.Minute, "the replacement recycled", func() bool {
		now := engineContainers(t, name, "prewarm")
		return len(diff(second, now)) == 1 && len(now) == 1 && prewarmedCount(t, p) == 1
	})
}

// BenchmarkFirstCallJS measures, in one run, a JavaScript action's first
// call on a prewarmed container against one on a cold container. Every
// iteration calls a new action, so no warm container can serve it.
//
//	go test -run '^$' -bench FirstCallJS -benchtime 20x ./prewarm/
func BenchmarkFirstCallJS(b *testing.B) {
	enginetest.Require(b)
	p50 := map[string]time.Duration{}
	for _, mode := range []string{"prewarmed", "cold"} {
		b.Run(mode, func(b *testing.B) {
			var cfg *config.Config
			want := actors.StartCold
			if mode == "prewarmed" {
				cfg = engineConfig(b, config.StemCell{InitialCount: 1, Memory: 256 * config.MB})
				want = actors.StartPrewarmed
			} else {
				cfg = engineConfig(b)
			}
			cfg.ContainerPool.UserMemory = 64 * 1024 * config.MB
			// Used containers go away quickly and do not crowd the engine.
			cfg.ContainerProxy.Timeouts.PauseGrace = 100 * time.Millisecond
			cfg.ContainerProxy.Timeouts.IdleContainer = time.Second
			p := enginePool(b, cfg)
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				if mode == "prewarmed" {
					eventually(b, time.Minute, "a stem cell ready", func() bool { return prewarmedCount(b, p) >= 1 })
				}
				a := jsActivation(fmt.Sprintf("bench%d", i), 256*config.MB)
				b.StartTimer()
				start := time.Now()
				res := invoke(b, p, a)
				lat = append(lat, time.Since(start))
				b.StopTimer()
				if res.StartKind != want {
					b.Fatalf("iteration %d: start kind %q, want %q", i, res.StartKind, want)
				}
				b.StartTimer()
			}
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			p50[mode] = lat[len(lat)/2]
			b.ReportMetric(float64(p50[mode].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*9/10].Microseconds())/1000, "p90-ms")
		})
	}
	if p50["cold"] > 0 {
		b.Logf("first call p50: prewarmed %v, cold %v, ratio %.3f (target <= 0.1)",
			p50["prewarmed"], p50["cold"], float64(p50["prewarmed"])/float64(p50["cold"]))
	}
}

// testLog writes to stderr when STEMCELL_TEST_LOG is set, for debugging.
func testLog() zerolog.Logger {
	if os.Getenv("STEMCELL_TEST_LOG") == "" {
		return zerolog.Nop()
	}
	return zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr}).With().Timestamp().Logger()
}

// TestEngineUnhealthyStemCellIsReplaced: a stem cell whose runtime dies
// fails its TCP checks; after max-fails it is removed from the engine and
// a new one takes its place. The healthy one is left alone.
func TestEngineUnhealthyStemCellIsReplaced(t *testing.T) {
	cli := enginetest.Require(t)
	cfg := engineConfig(t, config.StemCell{InitialCount: 2, Memory: 256 * config.MB})
	cfg.ContainerProxy.ActionHealthCheck = config.ActionHealthCheck{Enabled: true, CheckPeriod: 200 * time.Millisecond, MaxFails: 3}
	p := enginePool(t, cfg)
	name := cfg.Invoker.Name
	var before []string
	eventually(t, time.Minute, "2 stem cells ready", func() bool {
		before = engineContainers(t, name, "prewarm")
		return prewarmedCount(t, p) == 2 && len(before) == 2
	})
	// An absence can only be seen over a window: 5 check periods, each
	// of which would count a failure against a stem cell that did not
	// answer.
	<-time.After(5 * cfg.ContainerProxy.ActionHealthCheck.CheckPeriod)
	if now := engineContainers(t, name, "prewarm"); len(diff(before, now)) != 0 {
		t.Fatalf("healthy stem cells were replaced: before %v, now %v", before, now)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cli.ContainerKill(ctx, before[0], "KILL"); err != nil {
		t.Fatalf("killing stem cell %s: %v", before[0], err)
	}
	eventually(t, time.Minute, "the dead stem cell removed and replaced", func() bool {
		now := engineContainers(t, name, "prewarm")
		gone := diff(before, now)
		return len(now) == 2 && len(gone) == 1 && gone[0] == before[0] && prewarmedCount(t, p) == 2
	})
}
