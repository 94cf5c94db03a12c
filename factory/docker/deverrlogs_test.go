package docker

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
)

// devErrorRounds is how many developer errors each case provokes; none may
// lose a line.
const devErrorRounds = 50

// TestDeveloperErrorLogsAreKept: a runtime writes the reason of a failed
// /init or /run on both streams (and, as OpenWhisk's runtimes do, both
// sentinels) just before it answers the error; the answer can overtake
// those lines on their way through the engine. Logs without
// WaitForSentinel, as the pool asks after a developer error, must still
// return them, every time. One container per case: a failed /init leaves
// both runtimes ready for another /init, a failed /run for another /run.
func TestDeveloperErrorLogsAreKept(t *testing.T) {
	needEngine(t)
	f := newTestFactory(t, testConfig(t))
	native := base64.StdEncoding.EncodeToString(testEnv.native)
	jsFailingRun := `function main(p) {
  console.log("reason " + p.tag);
  console.error("reason " + p.tag);
  return 42;
}`
	tests := []struct {
		name  string
		image string
		setup *factory.InitRequest // an /init that succeeds first
		// fail provokes round tag's developer error.
		fail func(ctx context.Context, c *Container, tag string) (factory.Outcome, error)
		// sentinels: the runtime writes them before the error answer, so
		// the call ends at them rather than at the grace bound.
		sentinels bool
		// extra: what the runtime itself writes after the action's
		// "reason" lines: its error on stderr, held as a substring.
		extra func(tag string) string
	}{
		{name: "init, runtime writing reason and sentinels", image: testEnv.imageDevErr, sentinels: true,
			fail: func(ctx context.Context, c *Container, tag string) (factory.Outcome, error) {
				req := initReq("", false)
				req.Name = tag
				return c.Initialize(ctx, req)
			}},
		{name: "run, runtime writing reason and sentinels", image: testEnv.imageDevErr, sentinels: true,
			fail: func(ctx context.Context, c *Container, tag string) (factory.Outcome, error) {
				return c.Run(ctx, runReq(fmt.Sprintf(`{"tag":%q}`, tag)))
			}},
		{name: "run, JS action", image: testEnv.runtimeImage, sentinels: true, setup: ptr(initReq(jsFailingRun, false)),
			fail: func(ctx context.Context, c *Container, tag string) (factory.Outcome, error) {
				return c.Run(ctx, runReq(fmt.Sprintf(`{"tag":%q}`, tag)))
			}},
		{name: "run, native action", image: testEnv.runtimeImage, sentinels: true, setup: ptr(initReq(native, true)),
			fail: func(ctx context.Context, c *Container, tag string) (factory.Outcome, error) {
				return c.Run(ctx, runReq(fmt.Sprintf(`{"name":%q,"fail":true}`, tag)))
			}},
		{name: "init, JS action failing while loading", image: testEnv.runtimeImage, sentinels: true,
			fail: func(ctx context.Context, c *Container, tag string) (factory.Outcome, error) {
				code := fmt.Sprintf(`console.log("reason %[1]s"); console.error("reason %[1]s"); throw new Error("load fails in %[1]s");`, tag)
				return c.Initialize(ctx, initReq(code, false))
			},
			extra: func(tag string) string {
				return "stderr: /init: the action code failed while loading: Error: load fails in " + tag
			}},
		{name: "init, native action that cannot start", image: testEnv.runtimeImage, sentinels: true,
			fail: func(ctx context.Context, c *Container, tag string) (factory.Outcome, error) {
				// An ELF header and nothing else: the kernel refuses it,
				// so only the runtime has something to say.
				req := initReq(base64.StdEncoding.EncodeToString([]byte("\x7fELF\x02\x01\x01")), true)
				req.Name = tag
				return c.Initialize(ctx, req)
			},
			extra: func(tag string) string { return fmt.Sprintf("stderr: /init: the native action %q does not start", tag) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := create(t, f, specFor(f, tt.image, false, nil))
			defer c.Destroy(context.Background())
			ctx := testCtx(t)
			if tt.setup != nil {
				expect(t, factory.StatusSuccess)(c.Initialize(ctx, *tt.setup))
			}
			// Drop what the runtime wrote while starting.
			if _, err := c.Logs(ctx, factory.LogRequest{Limit: config.MB}); err != nil {
				t.Fatal(err)
			}
			var slowest time.Duration
			for round := range devErrorRounds {
				tag := fmt.Sprintf("round-%d", round)
				out, err := tt.fail(ctx, c, tag)
				if err != nil || out.Status != factory.StatusDeveloperError {
					t.Fatalf("%s: status %d, result %s, err %v: want a developer error", tag, out.Status, out.Result, err)
				}
				before := c.tap.sentinelsPassed()
				start := time.Now()
				lines, err := c.Logs(ctx, factory.LogRequest{Limit: config.MB})
				if err != nil {
					t.Fatal(err)
				}
				slowest = max(slowest, time.Since(start))
				var got []string
				for _, l := range lines {
					got = append(got, strings.TrimSpace(l[30:]))
				}
				want := []string{"stderr: reason " + tag, "stdout: reason " + tag}
				if tt.extra != nil {
					// The runtime's own line comes last on stderr (the
					// streams interleave in time).
					last := -1
					for i, l := range got {
						if strings.HasPrefix(l, "stderr: ") {
							last = i
						}
					}
					if last < 0 || !strings.HasPrefix(got[last], tt.extra(tag)) {
						t.Fatalf("%s: lines\n%s\nwant the last on stderr to start with %q", tag, strings.Join(lines, "\n"), tt.extra(tag))
					}
					got = slices.Delete(got, last, last+1)
					if tt.name == "init, native action that cannot start" {
						want = nil // the action never ran
					}
				}
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Fatalf("%s: lines\n%s\nwant (in any order)\n%s", tag, strings.Join(lines, "\n"), strings.Join(want, "\n"))
				}
				// With the sentinels written, the call ended at them (and
				// took nothing past them), not at the bound.
				if after := c.tap.sentinelsPassed(); tt.sentinels && after != [2]int{before[0] + 1, before[1] + 1} {
					t.Fatalf("%s: sentinels taken (stdout, stderr) went from %v to %v, want one of each", tag, before, after)
				}
			}
			// The measure behind devErrorLogGrace: with the sentinels
			// written, a call ends at them; without, it takes the bound.
			t.Logf("slowest Logs call after a developer error: %v (bound %v)", slowest, devErrorLogGrace)
		})
	}
}

func ptr[T any](v T) *T { return &v }
