package docker

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stemcell-io/stemcell/factory"
)

// TestOutOfMemoryIsReportedQuickly: actions that fill their 128 MiB get
// OpenWhisk's out-of-memory error within a few seconds of filling it, not
// the time-limit error a minute later, and their container is removed once.
// Without detection the JavaScript ones thrash at the limit until the time
// limit (the kernel keeps evicting the runtime's code instead of killing).
func TestOutOfMemoryIsReportedQuickly(t *testing.T) {
	needEngine(t)
	f := newTestFactory(t, testConfig(t))
	tests := []struct {
		name   string
		init   factory.InitRequest
		params string
	}{
		{name: "javascript objects",
			init: initReq(`function main() { var a = []; for (var i = 0; i < 1e8; i++) { a.push({i: i}); } return {n: a.length}; }`, false)},
		{name: "javascript array buffer",
			init: initReq(`function main() { var b = new ArrayBuffer(300 * 1024 * 1024); new Uint8Array(b).fill(1); return {n: b.byteLength}; }`, false)},
		{name: "native", init: initReq(base64.StdEncoding.EncodeToString(testEnv.native), true), params: `{"hog":true}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := create(t, f, specFor(f, testEnv.runtimeImage, false, nil))
			defer c.Destroy(context.Background())
			expect(t, factory.StatusSuccess)(c.Initialize(testCtx(t), tt.init))
			params := tt.params
			if params == "" {
				params = `{}`
			}
			req := runReq(params)
			req.Timeout = time.Minute // OpenWhisk's default time limit

			filled := watchMemoryFilled(t, c.ID(), 128<<20)
			out, err := c.Run(testCtx(t), req)
			reached := filled()
			res := resultOf(t, out, err, factory.StatusDeveloperError)
			if res["error"] != "The action exhausted its memory and was aborted." || out.TimedOut {
				t.Fatalf("result %v (timed out %v), want the out-of-memory error", res, out.TimedOut)
			}
			late, seen := out.End.Sub(reached), !reached.IsZero()
			if !seen {
				// Aborted before a sample saw it near the limit: the
				// whole run is the bound.
				late = out.End.Sub(out.Start)
			}
			t.Logf("answered %v after the start of /run; memory seen near the limit: %v", out.End.Sub(out.Start).Round(time.Millisecond), seen)
			if late > 5*time.Second {
				t.Errorf("out of memory reported %v after the memory was filled, want within 5 s", late)
			}
			// A container that exhausted its memory is not reused: it
			// goes, once.
			if err := c.Destroy(testCtx(t)); err != nil {
				t.Fatal(err)
			}
			if err := c.Destroy(testCtx(t)); err != nil {
				t.Fatalf("second Destroy: %v", err)
			}
			if _, err := testEnv.eng.Inspect(testCtx(t), c.ID()); err == nil {
				t.Errorf("container %s still exists after Destroy", c.Name())
			}
		})
	}
}

// watchMemoryFilled samples the container's memory usage through the
// engine until the returned function is called, which gives the time of
// the first sample at 80% of limit or more (zero if none was). The heap
// rule stops JavaScript at about 90% of the container's limit, so a fuller
// mark would not be reached by every case.
func watchMemoryFilled(t *testing.T, id string, limit uint64) func() time.Time {
	ctx, cancel := context.WithCancel(context.Background())
	var (
		wg      sync.WaitGroup
		reached time.Time
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			// The time the request left: a slow answer makes the
			// measured delay longer, never shorter.
			at := time.Now()
			usage, err := memoryUsage(ctx, id)
			if err == nil && usage >= limit/10*8 {
				reached = at
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return func() time.Time {
		cancel()
		wg.Wait()
		return reached
	}
}

// memoryUsage reads the container's memory usage once from the engine.
func memoryUsage(ctx context.Context, id string) (uint64, error) {
	resp, err := testEnv.eng.cli.ContainerStatsOneShot(ctx, id)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var stats struct {
		MemoryStats struct {
			Usage uint64 `json:"usage"`
		} `json:"memory_stats"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&stats); err != nil {
		return 0, err
	}
	return stats.MemoryStats.Usage, nil
}
