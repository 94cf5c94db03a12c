package docker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
)

// The benchmarks run side by side in one invocation:
//
//	go test -run '^$' -bench . -benchtime 20x ./factory/docker
//
// BenchmarkColdStart/raw-sdk is the floor: create + start + inspect + the
// first answered POST /run, straight on the SDK. BenchmarkColdStart/factory
// is CreateContainer + the first /run through the Container, on the same
// image. BenchmarkColdStart/paired alternates the two in one loop and
// reports the ratio of their medians, which resists load drifting between
// sub-benchmarks on a shared machine; in the same loop, the raw sequence
// with the factory's settings, on the hardening profile's network and on
// the default bridge, tells the settings' cost from the network's.

func BenchmarkColdStart(b *testing.B) {
	if testEnv.skip != "" {
		b.Skip("no Docker Engine: " + testEnv.skip)
	}
	f := benchFactory(b)
	b.Run("raw-sdk", func(b *testing.B) {
		var lat []time.Duration
		for b.Loop() {
			d, id := rawColdStart(b, nil)
			lat = append(lat, d)
			b.StopTimer()
			_ = testEnv.eng.Remove(context.Background(), id)
			b.StartTimer()
		}
		reportPercentiles(b, "", lat)
	})
	b.Run("factory", func(b *testing.B) {
		var lat []time.Duration
		for b.Loop() {
			d, c := factoryColdStart(b, f)
			lat = append(lat, d)
			b.StopTimer()
			_ = c.Destroy(context.Background())
			b.StartTimer()
		}
		reportPercentiles(b, "", lat)
	})
	b.Run("paired", func(b *testing.B) {
		var raw, same, sameBridge, ours []time.Duration
		for b.Loop() {
			d, id := rawColdStart(b, nil)
			raw = append(raw, d)
			_ = testEnv.eng.Remove(context.Background(), id)
			// The same sequence with every setting the factory applies
			// (hardening, labels, env, log driver): what the settings cost.
			cs := f.containerSpec(specFor(f, testEnv.fakeImage, false, nil), testEnv.fakeImage)
			d, id = rawColdStart(b, &cs)
			same = append(same, d)
			_ = testEnv.eng.Remove(context.Background(), id)
			// Those settings on the default bridge instead of the
			// hardening profile's network: what that network costs.
			onBridge := cs
			onBridge.Network = defaultBridge
			d, id = rawColdStart(b, &onBridge)
			sameBridge = append(sameBridge, d)
			_ = testEnv.eng.Remove(context.Background(), id)
			d, c := factoryColdStart(b, f)
			ours = append(ours, d)
			_ = c.Destroy(context.Background())
		}
		reportPercentiles(b, "raw-", raw)
		reportPercentiles(b, "raw-same-settings-", same)
		reportPercentiles(b, "raw-same-settings-bridge-", sameBridge)
		reportPercentiles(b, "factory-", ours)
		b.ReportMetric(float64(median(ours))/float64(median(raw)), "factory/raw")
		b.ReportMetric(float64(median(ours))/float64(median(same)), "factory/raw-same-settings")
		b.ReportMetric(float64(median(sameBridge))/float64(median(raw)), "settings-on-bridge/raw")
		b.ReportMetric(float64(median(same))/float64(median(sameBridge)), "network/bridge")
	})
}

// BenchmarkWarmRun is one /run on an initialized container, with a new
// connection per request (akka-client false, the default) and with pooled
// keep-alive connections (akka-client true).
func BenchmarkWarmRun(b *testing.B) {
	if testEnv.skip != "" {
		b.Skip("no Docker Engine: " + testEnv.skip)
	}
	for _, pooled := range []bool{false, true} {
		b.Run(fmt.Sprintf("pooled=%v", pooled), func(b *testing.B) {
			f := benchFactory(b)
			f.cfg.ContainerPool.AkkaClient = pooled
			c := benchContainer(b, f)
			var lat []time.Duration
			for b.Loop() {
				start := time.Now()
				mustRun(b, c)
				lat = append(lat, time.Since(start))
			}
			reportPercentiles(b, "", lat)
		})
	}
}

// BenchmarkResumeRun times Resume + the next /run on a suspended container,
// paired in each iteration with its floor: an unpause + a POST /run on the
// same container without the factory. The floor goes through the adapter's
// pause/unpause, which are the bare SDK calls plus the stale-flag repair
// (engine_sdk.go) that only runs when the engine refuses: without it the
// bare sequence itself fails now and then under load ("is not paused").
func BenchmarkResumeRun(b *testing.B) {
	if testEnv.skip != "" {
		b.Skip("no Docker Engine: " + testEnv.skip)
	}
	f := benchFactory(b)
	c := benchContainer(b, f)
	ctx := context.Background()
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	var ours, raw []time.Duration
	for b.Loop() {
		b.StopTimer()
		if err := c.Suspend(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		if err := c.Resume(ctx); err != nil {
			b.Fatal(err)
		}
		mustRun(b, c)
		ours = append(ours, time.Since(start))

		b.StopTimer()
		if err := testEnv.eng.Pause(ctx, c.ID()); err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		if err := testEnv.eng.Unpause(ctx, c.ID()); err != nil {
			b.Fatal(err)
		}
		resp, err := hc.Post("http://"+c.Addr()+"/run", "application/json", bytes.NewReader([]byte(`{"value":{"name":"bench"}}`)))
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		raw = append(raw, time.Since(start))
		b.StartTimer()
	}
	reportPercentiles(b, "", ours)
	reportPercentiles(b, "raw-", raw)
	b.ReportMetric(float64(median(ours))/float64(median(raw)), "factory/raw")
}

func benchFactory(b *testing.B) *Factory {
	b.Helper()
	cfg := testConfig(b)
	f, err := NewWithOptions(cfg, zerolog.Nop(), Options{BinaryPath: testEnv.binary, RuntimeImages: []string{testEnv.runtimeImage}, ActionNetwork: testEnv.network})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := f.Cleanup(context.Background()); err != nil {
			b.Error(err)
		}
		_ = f.Close()
	})
	return f
}

// benchContainer is a JavaScript action, initialized.
func benchContainer(b *testing.B, f *Factory) *Container {
	b.Helper()
	c, err := f.CreateContainer(context.Background(), specFor(f, testEnv.runtimeImage, false, nil))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Destroy(context.Background()) })
	out, err := c.Initialize(context.Background(), initReq(`function main(p) { return {greeting: "hello " + p.name}; }`, false))
	if err != nil || out.Status != factory.StatusSuccess {
		b.Fatalf("init: %v %s", err, out.Result)
	}
	return c.(*Container)
}

func mustRun(b *testing.B, c factory.Container) {
	out, err := c.Run(context.Background(), runReq(`{"name":"bench"}`))
	if err != nil || out.Status != factory.StatusSuccess {
		b.Fatalf("run: %v %s", err, out.Result)
	}
}

// factoryColdStart times CreateContainer plus the first answered /run.
func factoryColdStart(b *testing.B, f *Factory) (time.Duration, factory.Container) {
	start := time.Now()
	c, err := f.CreateContainer(context.Background(), specFor(f, testEnv.fakeImage, false, nil))
	if err != nil {
		b.Fatal(err)
	}
	mustRun(b, c)
	return time.Since(start), c
}

// rawColdStart times the bare SDK sequence on the same image with the same
// memory, on the default bridge; with cs, through the adapter's create
// with exactly the factory's settings (its network too) instead.
func rawColdStart(b *testing.B, cs *createSpec) (time.Duration, string) {
	ctx := context.Background()
	cli := testEnv.eng.cli
	name := "t-bench-raw-" + randomSuffix()
	start := time.Now()
	var cr container.CreateResponse
	var err error
	if cs != nil {
		cr.ID, err = testEnv.eng.Create(ctx, *cs)
	} else {
		cr, err = cli.ContainerCreate(ctx,
			&container.Config{Image: testEnv.fakeImage, Labels: map[string]string{LabelManaged: "true"}},
			&container.HostConfig{NetworkMode: "bridge", Resources: container.Resources{Memory: 128 << 20, MemorySwap: 128 << 20}},
			&network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{"bridge": {}}}, nil, name)
	}
	if err != nil {
		b.Fatal(err)
	}
	if err := cli.ContainerStart(ctx, cr.ID, container.StartOptions{}); err != nil {
		_ = testEnv.eng.Remove(ctx, cr.ID)
		b.Fatal(err)
	}
	ins, err := cli.ContainerInspect(ctx, cr.ID)
	if err != nil {
		_ = testEnv.eng.Remove(ctx, cr.ID)
		b.Fatal(err)
	}
	// The factory's settings put the container on the hardening
	// profile's network, which it may name by ID.
	nw, ip := "bridge", ""
	if cs != nil {
		nw = cs.Network
	}
	for name, ep := range ins.NetworkSettings.Networks {
		if ep != nil && (name == nw || ep.NetworkID == nw) {
			ip = ep.IPAddress
		}
	}
	url := "http://" + net.JoinHostPort(ip, "8080") + "/run"
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for {
		resp, err := hc.Post(url, "application/json", bytes.NewReader([]byte(`{"value":{"name":"bench"}}`)))
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("raw /run: %s", resp.Status)
			}
			break
		}
		if !errors.Is(err, syscall.ECONNREFUSED) || time.Since(start) > time.Minute {
			_ = testEnv.eng.Remove(ctx, cr.ID)
			b.Fatal(err)
		}
		time.Sleep(time.Millisecond) // the runtime is not listening yet: poll
	}
	return time.Since(start), cr.ID
}

func median(d []time.Duration) time.Duration { return percentile(d, 50) }

func percentile(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[min(max(i-1, 0), len(s)-1)]
}

func reportPercentiles(b *testing.B, prefix string, lat []time.Duration) {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(percentile(lat, 50)), prefix+"p50-ms")
	b.ReportMetric(ms(percentile(lat, 99)), prefix+"p99-ms")
}

// BenchmarkRunLogs is a warm /run followed by the collection of its logs
// (both sentinels), three ways in one loop: from the tap on the
// container's attachment (the default), and, on a second container created
// without one, the tail read of the engine's log and the full "since" read
// it falls back to (the only read before), whose cost grows with the log.
//
//	go test -run '^$' -bench RunLogs -benchtime 300x ./factory/docker
func BenchmarkRunLogs(b *testing.B) {
	if testEnv.skip != "" {
		b.Skip("no Docker Engine: " + testEnv.skip)
	}
	f := benchFactory(b)
	ctx := context.Background()
	newJS := func() *Container {
		fc, err := f.CreateContainer(ctx, specFor(f, testEnv.runtimeImage, false, nil))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = fc.Destroy(context.Background()) })
		c := fc.(*Container)
		if out, err := c.Initialize(ctx, initReq(jsHello, false)); err != nil || out.Status != factory.StatusSuccess {
			b.Fatalf("init: %v %s", err, out.Result)
		}
		return c
	}
	tapped := newJS()
	f.noTap = true
	c := newJS()
	if tapped.tap == nil || c.tap != nil {
		b.Fatal("want one container with a tap and one without")
	}
	req := factory.LogRequest{Limit: 10 * config.MB, WaitForSentinel: true}
	collect := func(c *Container, full bool) time.Duration {
		mustRun(b, c)
		saved := c.logSizes
		if full {
			c.logSizes = logSizes{} // no window: the full read
		}
		start := time.Now()
		lines, err := c.Logs(ctx, req)
		took := time.Since(start)
		if full {
			c.logSizes.total += saved.total
		}
		if err != nil || len(lines) != 2 || !strings.Contains(strings.Join(lines, "\n"), "stdout: hi bench") {
			b.Fatalf("logs: %v %q", err, lines)
		}
		return took
	}
	collect(c, true)
	collect(tapped, false)
	var tap, tail, full []time.Duration
	misses := c.logTailMisses
	for b.Loop() {
		tap = append(tap, collect(tapped, false))
		tail = append(tail, collect(c, false))
		full = append(full, collect(c, true))
	}
	reportPercentiles(b, "tap-", tap)
	reportPercentiles(b, "tail-", tail)
	reportPercentiles(b, "full-", full)
	b.ReportMetric(float64(median(tail))/float64(median(full)), "tail/full")
	b.ReportMetric(float64(c.logTailMisses-misses), "tail-misses")
}
