package docker

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
)

// logQueryEngine records the log queries the factory makes.
type logQueryEngine struct {
	engine
	mu      sync.Mutex
	queries []logQuery
}

func (e *logQueryEngine) Logs(ctx context.Context, id string, q logQuery) (io.ReadCloser, error) {
	e.mu.Lock()
	e.queries = append(e.queries, q)
	e.mu.Unlock()
	return e.engine.Logs(ctx, id, q)
}

func (e *logQueryEngine) take() []logQuery {
	e.mu.Lock()
	defer e.mu.Unlock()
	q := e.queries
	e.queries = nil
	return q
}

// TestLogsTailRead runs activations of changing log sizes on one container
// and checks that every Logs call returns exactly that activation's lines,
// whether the tail read sufficed, missed (and the full read took over), or
// was not tried.
func TestLogsTailRead(t *testing.T) {
	needEngine(t)
	f := newTestFactory(t, testConfig(t))
	f.noTap = true // the engine reads are under test
	qe := &logQueryEngine{engine: f.eng}
	f.eng = qe
	c := create(t, f, specFor(f, testEnv.runtimeImage, false, nil))
	defer c.Destroy(context.Background())
	initLineWriter(t, c)
	type step struct {
		out, err int
		tail     bool // the first query is a tail read
		mayMiss  bool // the window is too small for the activation, unless the engine lags
	}
	var steps []step
	// A log not longer than the window is read whole: 2 lines a call, a
	// window of 12, tried from the eighth call on.
	for i := range 40 {
		steps = append(steps, step{tail: i >= 7})
	}
	steps = append(steps,
		step{out: 3, tail: true},                 // window 12 holds 5 new + 4 old
		step{out: 40, tail: true, mayMiss: true}, // window 18 < 42 new lines
		step{out: 40, tail: true},                // window 92 reaches the stderr line before the previous 40
		step{err: 5, tail: true},
		step{out: 2, err: 2, tail: true},
		step{tail: true},
		step{out: 300, tail: true, mayMiss: true}, // window 2*2+8 < 302 new lines ...
		step{out: 1},                              // ... and 2*302+8 > maxTailWindow: not tried
		step{tail: true},
	)
	unexpected := 0
	for i, st := range steps {
		tag := fmt.Sprintf("s%d", i)
		expect(t, factory.StatusSuccess)(c.Run(testCtx(t), runReq(fmt.Sprintf(`{"out":%d,"err":%d,"tag":%q}`, st.out, st.err, tag))))
		misses := c.logTailMisses
		lines, err := c.Logs(testCtx(t), factory.LogRequest{Limit: config.MB, WaitForSentinel: true})
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		qs := qe.take()
		if len(qs) == 0 || (qs[0].Tail > 0) != st.tail {
			t.Errorf("step %d %+v: queries %+v, want a tail read first: %v", i, st, qs, st.tail)
		}
		// The engine copies the two streams independently, so a stream's
		// older line can land in the file before or after many lines of the
		// other: a window sized for the usual order may miss now and then,
		// and the full read then gives the same lines.
		if got := c.logTailMisses - misses; got != 0 && !st.mayMiss {
			unexpected++
		}
		var out, errs []string
		for _, l := range lines {
			switch {
			case strings.Contains(l, " stdout: "):
				_, text, _ := strings.Cut(l, " stdout: ")
				out = append(out, text)
			case strings.Contains(l, " stderr: "):
				_, text, _ := strings.Cut(l, " stderr: ")
				errs = append(errs, text)
			default:
				t.Errorf("step %d: line %q has no stream", i, l)
			}
		}
		if want := numbered("out "+tag, st.out); strings.Join(out, "\n") != strings.Join(want, "\n") {
			t.Errorf("step %d %+v: stdout %q, want %q", i, st, out, want)
		}
		if want := numbered("err "+tag, st.err); strings.Join(errs, "\n") != strings.Join(want, "\n") {
			t.Errorf("step %d %+v: stderr %q, want %q", i, st, errs, want)
		}
	}
	if unexpected > 3 {
		t.Errorf("%d tail reads missed where the window should hold the activation", unexpected)
	}
}

func numbered(prefix string, n int) []string {
	var l []string
	for i := range n {
		l = append(l, fmt.Sprintf("%s %d", prefix, i))
	}
	return l
}

func TestTailWindow(t *testing.T) {
	both := logPosition{seen: [2]bool{true, true}}
	tests := []struct {
		name   string
		sizes  logSizes
		pos    logPosition
		want   int
		wantOK bool
	}{
		{name: "a stream without a position", sizes: logSizes{total: 1000, lastCall: 2}, pos: logPosition{seen: [2]bool{true, false}}},
		{name: "quiet action", sizes: logSizes{total: 1000, lastCall: 2}, pos: both, want: 12, wantOK: true},
		{name: "log not longer than the window", sizes: logSizes{total: 12, lastCall: 2}, pos: both, want: 12},
		{name: "largest window", sizes: logSizes{total: 10000, lastCall: (maxTailWindow - 8) / 2}, pos: both, want: maxTailWindow, wantOK: true},
		{name: "past the largest window", sizes: logSizes{total: 10000, lastCall: (maxTailWindow-8)/2 + 1}, pos: both, want: maxTailWindow + 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.sizes.tailWindow(tt.pos)
			if ok != tt.wantOK || (ok && got != tt.want) {
				t.Errorf("tailWindow = %d, %v; want %d, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestTailCoverage(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	pos := logPosition{last: [2]time.Time{t0.Add(10), t0.Add(20)}, atLast: [2]int{1, 1}, seen: [2]bool{true, true}}
	fr := func(s string, d int) logFrame { return logFrame{stream: s, time: t0.Add(time.Duration(d))} }
	tests := []struct {
		name   string
		frames []logFrame
		want   bool
	}{
		{name: "both streams start before the position", frames: []logFrame{fr("stdout", 9), fr("stderr", 19), fr("stdout", 30)}, want: true},
		{name: "only later lines decide nothing", frames: []logFrame{fr("stdout", 9), fr("stderr", 19), fr("stdout", 5), fr("stderr", 40)}, want: true},
		{name: "a stream missing from the window", frames: []logFrame{fr("stdout", 9), fr("stdout", 30)}},
		{name: "a stream starting at its position", frames: []logFrame{fr("stdout", 9), fr("stderr", 20)}},
		{name: "a stream starting after its position", frames: []logFrame{fr("stdout", 11), fr("stderr", 19)}},
		{name: "empty window"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cov := tailCoverage{pos: pos}
			for _, f := range tt.frames {
				if !cov.check(f) {
					break
				}
			}
			if got := cov.covered(); got != tt.want {
				t.Errorf("covered = %v, want %v", got, tt.want)
			}
		})
	}
}

// memLogEngine serves a log held in memory, in the order the engine would
// have written it, with the engine's Tail, Since (inclusive) and Follow.
// Lines in late reach the log after the next query has read it, as lines
// still in the engine's copier do: a followed read gets them, a plain one
// does not.
type memLogEngine struct {
	engine
	mu      sync.Mutex
	log     []logFrame
	late    []logFrame
	queries []logQuery
}

func (e *memLogEngine) Logs(ctx context.Context, _ string, q logQuery) (io.ReadCloser, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.queries = append(e.queries, q)
	sel := e.log
	if q.Tail > 0 && len(sel) > q.Tail {
		sel = sel[len(sel)-q.Tail:]
	}
	var buf bytes.Buffer
	for _, f := range sel {
		if q.Since.IsZero() || !f.time.Before(q.Since) {
			buf.Write(frame(byte(streamIndex(f.stream)+1), f.time, f.text))
		}
	}
	late := e.late
	e.log = append(e.log, late...)
	e.late = nil
	if !q.Follow {
		return io.NopCloser(&buf), nil
	}
	for _, f := range late { // a followed log delivers them as they come
		if q.Since.IsZero() || !f.time.Before(q.Since) {
			buf.Write(frame(byte(streamIndex(f.stream)+1), f.time, f.text))
		}
	}
	return struct {
		io.Reader
		io.Closer
	}{io.MultiReader(&buf, ctxReader{ctx}), io.NopCloser(nil)}, nil
}

// ctxReader blocks until ctx ends, as a followed log with nothing new does.
type ctxReader struct{ ctx context.Context }

func (r ctxReader) Read([]byte) (int, error) {
	<-r.ctx.Done()
	return 0, r.ctx.Err()
}

// TestLogsReadPlan drives Logs over logs built line by line: which queries
// it makes and that it returns exactly the new activation's lines.
func TestLogsReadPlan(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var clock int
	at := func() time.Time { clock += 10; return t0.Add(time.Duration(clock)) }
	out := func(text string) logFrame { return logFrame{stream: "stdout", time: at(), text: text} }
	errl := func(text string) logFrame { return logFrame{stream: "stderr", time: at(), text: text} }
	quiet := func() []logFrame { return []logFrame{out(Sentinel), errl(Sentinel)} }
	var c *Container
	// collect takes an activation's lines as the pool would, and forgets
	// the queries and misses it caused.
	collect := func(e *memLogEngine) {
		if _, err := c.Logs(context.Background(), factory.LogRequest{Limit: config.MB, WaitForSentinel: true}); err != nil {
			t.Fatal(err)
		}
		e.queries = nil
		c.logTailMisses = 0
	}
	type plan struct{ tail, since, follow int }
	tests := []struct {
		name      string
		write     func(e *memLogEngine)
		want      []string // stream: text
		wantPlan  plan
		wantMiss  bool
		noSentinl bool
	}{
		{name: "the window holds the activation: one read",
			write: func(e *memLogEngine) { e.log = append(e.log, out("a"), errl("b"), out(Sentinel), errl(Sentinel)) },
			want:  []string{"stdout: a", "stderr: b"}, wantPlan: plan{tail: 1, follow: 1}},
		{name: "more lines than the window: the full read",
			write: func(e *memLogEngine) {
				for i := range 20 {
					e.log = append(e.log, out(fmt.Sprint(i)))
				}
				e.log = append(e.log, quiet()...)
			},
			want:     numberedStream("stdout", 20),
			wantPlan: plan{tail: 1, since: 1, follow: 2}, wantMiss: true},
		{name: "a sentinel still in the copier: followed",
			write: func(e *memLogEngine) {
				e.log = append(e.log, out("a"), out(Sentinel))
				e.late = append(e.late, errl("late"), errl(Sentinel))
			},
			want: []string{"stdout: a", "stderr: late"}, wantPlan: plan{tail: 1, follow: 1}},
		{name: "stderr's older line written before the other stream's lines: the full read",
			write: func(e *memLogEngine) {
				// An activation whose stderr sentinel the engine wrote
				// before its stdout lines (the copiers run apart), then a
				// quiet one: stderr's last line before the position lies
				// outside a window sized from the quiet activation.
				e.log = append(e.log, errl(Sentinel))
				for i := range 20 {
					e.log = append(e.log, out(fmt.Sprint(i)))
				}
				e.log = append(e.log, out(Sentinel))
				collect(e)
				e.log = append(e.log, quiet()...)
				collect(e)
				e.log = append(e.log, out("new"), out(Sentinel), errl(Sentinel))
			},
			want:     []string{"stdout: new"},
			wantPlan: plan{tail: 1, since: 1, follow: 2}, wantMiss: true},
		{name: "a new line stamped at a stream's position is not proof: the full read",
			write: func(e *memLogEngine) {
				prev := e.log[len(e.log)-1] // stderr sentinel at the position
				e.log = append(e.log, logFrame{stream: "stderr", time: prev.time, text: "same stamp"})
				for i := range 10 {
					e.log = append(e.log, out(fmt.Sprint(i)))
				}
				e.log = append(e.log, out(Sentinel), errl(Sentinel))
			},
			want:     append([]string{"stderr: same stamp"}, numberedStream("stdout", 10)...),
			wantPlan: plan{tail: 1, since: 1, follow: 2}, wantMiss: true},
		{name: "a sentinel that never comes: one followed read, then the missing-data line",
			write: func(e *memLogEngine) { e.log = append(e.log, out("a"), out(Sentinel)) },
			want:  []string{"stdout: a", "stderr: " + factory.MsgLogsIncomplete}, wantPlan: plan{tail: 1, follow: 1}},
		{name: "without waiting for sentinels: a read to the end, then a brief follow for them",
			write:     func(e *memLogEngine) { e.log = append(e.log, out("a"), errl("crash")) },
			noSentinl: true,
			want:      []string{"stdout: a", "stderr: crash"}, wantPlan: plan{tail: 1, since: 1, follow: 1}},
		{name: "without waiting for sentinels: the reason and sentinels still in the copier are followed",
			write: func(e *memLogEngine) {
				e.log = append(e.log, out("a"))
				e.late = append(e.late, errl("reason"), out(Sentinel), errl(Sentinel))
			},
			noSentinl: true,
			want:      []string{"stdout: a", "stderr: reason"}, wantPlan: plan{tail: 1, since: 1, follow: 1}},
		{name: "without waiting for sentinels: both arrived, no follow",
			write:     func(e *memLogEngine) { e.log = append(e.log, errl("reason"), out(Sentinel), errl(Sentinel)) },
			noSentinl: true,
			want:      []string{"stderr: reason"}, wantPlan: plan{tail: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &memLogEngine{}
			c = newContainer(&Factory{eng: e}, "id", "name", "addr", nil)
			for range 20 {
				e.log = append(e.log, quiet()...)
				collect(e)
			}
			tt.write(e)
			lines, err := c.Logs(context.Background(), factory.LogRequest{Limit: config.MB, WaitForSentinel: !tt.noSentinl})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, l := range lines {
				got = append(got, strings.TrimSpace(l[30:]))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			var p plan
			for _, q := range e.queries {
				if q.Tail > 0 {
					p.tail++
				} else {
					p.since++
				}
				if q.Follow {
					p.follow++
				}
			}
			if p != tt.wantPlan {
				t.Errorf("queries %+v: plan %+v, want %+v", e.queries, p, tt.wantPlan)
			}
			if (c.logTailMisses == 1) != tt.wantMiss {
				t.Errorf("tail misses %d, want a miss: %v", c.logTailMisses, tt.wantMiss)
			}
		})
	}
}

func numberedStream(stream string, n int) []string {
	var l []string
	for i := range n {
		l = append(l, fmt.Sprintf("%s: %d", stream, i))
	}
	return l
}

// initLineWriter initializes c with an action that writes p.out lines
// "out <p.tag> <i>" to stdout and p.err lines "err <p.tag> <i>" to stderr,
// and takes the logs of the initialization.
func initLineWriter(t *testing.T, c *Container) {
	t.Helper()
	code := `function main(p) {
  for (var i = 0; i < p.out; i++) { console.log("out " + p.tag + " " + i); }
  for (var i = 0; i < p.err; i++) { console.error("err " + p.tag + " " + i); }
  return {ok: true};
}`
	expect(t, factory.StatusSuccess)(c.Initialize(testCtx(t), initReq(code, false)))
	if _, err := c.Logs(testCtx(t), factory.LogRequest{Limit: config.MB}); err != nil {
		t.Fatal(err)
	}
}
