package docker

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
)

const jsHello = `function main(params) {
  console.log("hi " + params.name);
  console.error("to stderr");
  return {greeting: "hello " + params.name};
}`

func initReq(code string, binary bool) factory.InitRequest {
	return factory.InitRequest{Name: "hello", Main: "main", Code: code, Binary: binary, Timeout: 30 * time.Second, MaxConcurrency: 1}
}

func runReq(params string) factory.RunRequest {
	return factory.RunRequest{
		Params: json.RawMessage(params), Namespace: "guest", ActionName: "hello", ActionVersion: "0.0.1",
		ActivationID: "act-" + randomSuffix(), TransactionID: "tid", Deadline: time.Now().Add(time.Minute),
		Timeout: 30 * time.Second, MaxPayload: config.MB, Truncation: config.MB,
	}
}

// resultOf decodes an outcome's result into a map, failing on a status
// other than want.
func resultOf(t *testing.T, out factory.Outcome, err error, want factory.Status) map[string]any {
	t.Helper()
	if err != nil {
		t.Fatalf("err = %v", err)
	}
	var m map[string]any
	if len(out.Result) == 0 && out.Status == want {
		return m // a successful /init has no result
	}
	if jerr := json.Unmarshal(out.Result, &m); jerr != nil {
		t.Fatalf("result %s: %v", out.Result, jerr)
	}
	if out.Status != want {
		t.Fatalf("status = %d (result %s), want %d", out.Status, out.Result, want)
	}
	return m
}

func TestActionsInitAndRun(t *testing.T) {
	needEngine(t)
	f := newTestFactory(t, testConfig(t))
	tests := []struct {
		name   string
		init   factory.InitRequest
		params string
		want   map[string]any
	}{
		{name: "javascript", init: initReq(jsHello, false), params: `{"name":"js"}`,
			want: map[string]any{"greeting": "hello js"}},
		{name: "native", init: initReq(base64.StdEncoding.EncodeToString(testEnv.native), true), params: `{"name":"go"}`,
			want: map[string]any{"greeting": "hello go", "native": true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := create(t, f, specFor(f, testEnv.runtimeImage, false, nil))
			defer c.Destroy(context.Background())
			expect(t, factory.StatusSuccess)(c.Initialize(testCtx(t), tt.init))
			for i := range 2 { // a warm second run too
				got := expect(t, factory.StatusSuccess)(c.Run(testCtx(t), runReq(tt.params)))
				if fmt.Sprint(got) != fmt.Sprint(tt.want) {
					t.Fatalf("run %d: result = %v, want %v", i, got, tt.want)
				}
			}
		})
	}
}

// expect takes an /init or /run answer directly: expect(t, s)(c.Run(...)).
func expect(t *testing.T, want factory.Status) func(factory.Outcome, error) map[string]any {
	return func(out factory.Outcome, err error) map[string]any {
		t.Helper()
		return resultOf(t, out, err, want)
	}
}

func TestSuspendResume(t *testing.T) {
	needEngine(t)
	f := newTestFactory(t, testConfig(t))
	c := create(t, f, specFor(f, testEnv.runtimeImage, false, nil))
	defer c.Destroy(context.Background())
	expect(t, factory.StatusSuccess)(c.Initialize(testCtx(t), initReq(jsHello, false)))
	if err := c.Suspend(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	info, err := testEnv.eng.Inspect(testCtx(t), c.ID())
	if err != nil || !info.Paused {
		t.Fatalf("after Suspend: paused = %v, err %v", info.Paused, err)
	}
	if err := c.Resume(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if info, err = testEnv.eng.Inspect(testCtx(t), c.ID()); err != nil || info.Paused || !info.Running {
		t.Fatalf("after Resume: paused %v running %v, err %v", info.Paused, info.Running, err)
	}
	got := expect(t, factory.StatusSuccess)(c.Run(testCtx(t), runReq(`{"name":"again"}`)))
	if got["greeting"] != "hello again" {
		t.Fatalf("result = %v", got)
	}
}

func TestActionFailures(t *testing.T) {
	needEngine(t)
	f := newTestFactory(t, testConfig(t))
	tests := []struct {
		name       string
		code       string
		run        func(r *factory.RunRequest)
		wantStatus factory.Status
		wantError  string // prefix of the result's error field
		timedOut   bool
	}{
		// Typed arrays, written through, fill the 128 MB in a few steps: a
		// container starved of CPU by a loaded host (its shares follow its
		// memory) must still run out of memory well before its time limit.
		{name: "out of memory",
			code:       `function main() { var a = []; for (;;) { a.push(new Float64Array(4e6).fill(1.5)); } }`,
			run:        func(r *factory.RunRequest) { r.Timeout = 50 * time.Second },
			wantStatus: factory.StatusDeveloperError, wantError: "The action exhausted its memory and was aborted."},
		{name: "time limit",
			code:       `function main() { for (;;) {} }`,
			run:        func(r *factory.RunRequest) { r.Timeout = 500 * time.Millisecond },
			wantStatus: factory.StatusDeveloperError, wantError: "The action exceeded its time limits of 500 milliseconds.", timedOut: true},
		// As in Node, a Promise nothing will settle waits for the time limit.
		{name: "promise never settles",
			code:       `function main() { return new Promise(function () {}); }`,
			run:        func(r *factory.RunRequest) { r.Timeout = 500 * time.Millisecond },
			wantStatus: factory.StatusDeveloperError, wantError: "The action exceeded its time limits of 500 milliseconds.", timedOut: true},
		{name: "thrown error",
			code:       `function main() { throw new Error("boom"); }`,
			wantStatus: factory.StatusDeveloperError, wantError: "An error has occurred: Error: boom"},
		{name: "oversized result",
			code:       `function main() { return {big: "x".repeat(4096)}; }`,
			run:        func(r *factory.RunRequest) { r.MaxPayload, r.Truncation = 1024, 64 },
			wantStatus: factory.StatusApplicationError, wantError: "The action produced a response that exceeded the allowed length: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := create(t, f, specFor(f, testEnv.runtimeImage, false, nil))
			defer c.Destroy(context.Background())
			expect(t, factory.StatusSuccess)(c.Initialize(testCtx(t), initReq(tt.code, false)))
			req := runReq(`{}`)
			if tt.run != nil {
				tt.run(&req)
			}
			out, err := c.Run(testCtx(t), req)
			res := resultOf(t, out, err, tt.wantStatus)
			msg, _ := res["error"].(string)
			if !strings.HasPrefix(msg, tt.wantError) {
				t.Fatalf("error = %q, want prefix %q", msg, tt.wantError)
			}
			if out.TimedOut != tt.timedOut {
				t.Errorf("timed out = %v, want %v", out.TimedOut, tt.timedOut)
			}
		})
	}
}

func TestRuntimeAnswering503IsAHealthError(t *testing.T) {
	needEngine(t)
	f := newTestFactory(t, testConfig(t))
	c := create(t, f, specFor(f, testEnv.image503, false, nil))
	defer c.Destroy(context.Background())
	if _, err := c.Initialize(testCtx(t), initReq(jsHello, false)); !errors.Is(err, factory.ErrHealth) {
		t.Fatalf("init: err = %v, want ErrHealth", err)
	}
	if _, err := c.Run(testCtx(t), runReq(`{}`)); !errors.Is(err, factory.ErrHealth) {
		t.Fatalf("run: err = %v, want ErrHealth", err)
	}
}

func TestLogs(t *testing.T) {
	needEngine(t)
	f := newTestFactory(t, testConfig(t))
	c := create(t, f, specFor(f, testEnv.runtimeImage, false, nil))
	defer c.Destroy(context.Background())
	code := `function main(p) {
  for (var i = 0; i < p.n; i++) { console.log("line " + i + " " + "x".repeat(90)); }
  console.error("err " + p.tag);
  return {ok: true};
}`
	expect(t, factory.StatusSuccess)(c.Initialize(testCtx(t), initReq(code, false)))

	// Drop whatever the runtime wrote while starting and initializing.
	if _, err := c.Logs(testCtx(t), factory.LogRequest{Limit: config.MB}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		n         int
		limit     config.ByteSize
		wantLines int
		truncated bool
	}{
		{name: "all lines", n: 3, limit: config.MB, wantLines: 4},
		{name: "next activation only", n: 1, limit: config.MB, wantLines: 2},
		// 97-byte stdout lines: ten fit in 1000 bytes with or without the
		// 13-byte stderr line, depending on when the engine read it.
		{name: "truncated", n: 50, limit: 1000, wantLines: -1, truncated: true},
		{name: "after truncation the position is past the activation", n: 2, limit: config.MB, wantLines: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expect(t, factory.StatusSuccess)(c.Run(testCtx(t), runReq(fmt.Sprintf(`{"n":%d,"tag":%q}`, tt.n, tt.name))))
			lines, err := c.Logs(testCtx(t), factory.LogRequest{Limit: tt.limit, WaitForSentinel: true})
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantLines >= 0 && len(lines) != tt.wantLines {
				t.Fatalf("got %d lines, want %d:\n%s", len(lines), tt.wantLines, strings.Join(lines, "\n"))
			}
			total := 0
			for i, l := range lines {
				if strings.Contains(l, Sentinel) {
					t.Errorf("line %d carries the sentinel: %q", i, l)
				}
				if strings.Contains(l, "There was an issue") {
					t.Errorf("line %d: %q", i, l)
				}
				if _, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(l[:30])); err != nil || l[30] != ' ' {
					t.Errorf("line %d %q does not start with a time padded to 30: %v", i, l, err)
				}
				if i < len(lines)-1 || !tt.truncated {
					_, text, _ := strings.Cut(l[31:], ": ")
					total += len(text)
				}
			}
			if tt.truncated {
				want := fmt.Sprintf("stderr: Logs were truncated because the total bytes size exceeds the limit of %d bytes.", tt.limit)
				if last := lines[len(lines)-1]; !strings.HasSuffix(last, want) {
					t.Errorf("last line %q, want suffix %q", last, want)
				}
				if total > int(tt.limit) {
					t.Errorf("kept %d bytes, limit %d", total, tt.limit)
				}
			}
			// Order holds within a stream; across the two pipes it is
			// whatever order the engine read them in.
			var stdout []string
			sawStderr := false
			for _, l := range lines {
				if _, text, ok := strings.Cut(l, " stdout: "); ok {
					stdout = append(stdout, text)
				}
				sawStderr = sawStderr || strings.HasSuffix(l, " stderr: err "+tt.name)
			}
			for i, text := range stdout {
				if !strings.HasPrefix(text, fmt.Sprintf("line %d ", i)) {
					t.Errorf("stdout line %d = %q, want this activation's line %d", i, text, i)
				}
			}
			if tt.truncated && len(stdout) != 10 {
				t.Errorf("%d stdout lines kept, want 10", len(stdout))
			}
			if !tt.truncated && (!sawStderr || len(stdout) != tt.n) {
				t.Errorf("stderr line seen %v, %d stdout lines, want %d and the stderr line", sawStderr, len(stdout), tt.n)
			}
		})
	}
}
