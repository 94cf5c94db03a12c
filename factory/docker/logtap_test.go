package docker

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/pkg/stdcopy"

	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
)

// rawFrame is one frame of an attachment (no timestamps, any piece of the
// output), framed by stdcopy's writer: the engine's own.
func rawFrame(stream byte, payload string) []byte {
	var b bytes.Buffer
	if _, err := stdcopy.NewStdWriter(&b, stdcopy.StdType(stream)).Write([]byte(payload)); err != nil {
		panic(err) // a bytes.Buffer does not fail
	}
	return b.Bytes()
}

func TestDemuxLines(t *testing.T) {
	long := strings.Repeat("x", maxLineBytes+10)
	tests := []struct {
		name    string
		in      [][]byte
		want    []string // "stream: text"
		wantErr string
	}{
		{name: "lines per stream, in order",
			in:   [][]byte{rawFrame(1, "a\nb\n"), rawFrame(2, "e\n"), rawFrame(1, "c\n")},
			want: []string{"0: a", "0: b", "1: e", "0: c"}},
		{name: "a line in pieces across frames, the other stream between",
			in:   [][]byte{rawFrame(1, "hel"), rawFrame(2, "err\n"), rawFrame(1, "lo\r\nnext")},
			want: []string{"1: err", "0: hello", "0: next"}},
		{name: "an empty line", in: [][]byte{rawFrame(1, "\n")}, want: []string{"0: "}},
		{name: "a long line is cut", in: [][]byte{rawFrame(2, long+"\n")},
			want: []string{"1: " + long[:maxLineBytes], "1: " + long[maxLineBytes:]}},
		{name: "unknown stream", in: [][]byte{rawFrame(4, "a\n")}, wantErr: "names stream 4"},
		{name: "the engine's error", in: [][]byte{rawFrame(1, "a\n"), rawFrame(3, "attach failed")}, wantErr: "attachment: the engine reported: attach failed"},
		{name: "truncated header", in: [][]byte{{1, 0, 0}}, wantErr: "truncated frame header"},
		{name: "truncated payload", in: [][]byte{rawFrame(1, "abc")[:10]}, wantErr: "truncated frame payload"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			var in []byte
			for _, b := range tt.in {
				in = append(in, b...)
			}
			err := demuxLines(strings.NewReader(string(in)), func(s int, text string) {
				got = append(got, fmt.Sprintf("%d: %s", s, text))
			})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// pipeTap is a tap fed by the test through a pipe.
type pipeTap struct {
	*logTap
	w *io.PipeWriter
}

func newPipeTap(t *testing.T, maxBytes int64) pipeTap {
	r, w := io.Pipe()
	p := pipeTap{newLogTap(r, maxBytes), w}
	t.Cleanup(func() { _ = w.Close(); p.close() })
	return p
}

// write sends lines ("1:text" for stdout, "2:text" for stderr) and waits
// until the tap holds them.
func (p pipeTap) write(t *testing.T, lines ...string) {
	t.Helper()
	for _, l := range lines {
		stream, text, _ := strings.Cut(l, ":")
		if _, err := p.w.Write(rawFrame(stream[0]-'0', text+"\n")); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTapLogs collects activations from a tap fed line by line.
func TestTapLogs(t *testing.T) {
	type call struct {
		write   []string
		late    []string // written while Logs waits
		noWait  bool
		limit   config.ByteSize
		want    []string // "stream: text"
		missing bool     // ends with the missing-data line
	}
	S := Sentinel
	segments := func(n int) []string {
		var l []string
		for i := range n {
			l = append(l, fmt.Sprintf("1:out%d", i), fmt.Sprintf("2:err%d", i), "2:"+S, "1:"+S)
		}
		return l
	}
	tests := []struct {
		name        string
		maxBytes    int64
		concurrency int
		calls       []call
	}{
		{name: "one activation after another", calls: []call{
			{write: []string{"1:a", "2:b", "1:" + S, "2:" + S, "1:next"}, want: []string{"stdout: a", "stderr: b"}},
			{write: []string{"2:" + S, "1:" + S}, want: []string{"stdout: next"}},
		}},
		{name: "a sentinel still on its way", calls: []call{
			{write: []string{"1:a", "1:" + S}, late: []string{"2:late", "2:" + S}, want: []string{"stdout: a", "stderr: late"}},
		}},
		{name: "the limit truncates", calls: []call{
			{write: []string{"1:abc", "1:def", "1:" + S, "2:" + S}, limit: 4,
				want: []string{"stdout: abc", "stderr: Logs were truncated because the total bytes size exceeds the limit of 4 bytes."}},
		}},
		{name: "without waiting: what has arrived by the grace bound", calls: []call{
			{write: []string{"1:a", "2:crash"}, noWait: true, want: []string{"stdout: a", "stderr: crash"}},
		}},
		{name: "without waiting: the reason and sentinels on their way are waited for", calls: []call{
			{write: []string{"1:a"}, late: []string{"2:reason", "1:" + S, "2:" + S}, noWait: true, want: []string{"stdout: a", "stderr: reason"}},
		}},
		{name: "without waiting: up to both sentinels", calls: []call{
			{write: []string{"2:reason", "1:" + S, "2:" + S, "1:next"}, noWait: true, want: []string{"stderr: reason"}},
			{write: []string{"1:" + S, "2:" + S}, want: []string{"stdout: next"}},
		}},
		{name: "lines past the tap's bound are missing", maxBytes: 5, calls: []call{
			{write: []string{"1:abc", "1:defgh", "1:" + S, "2:" + S}, want: []string{"stdout: abc"}, missing: true},
			{write: []string{"1:ok", "1:" + S, "2:" + S}, want: []string{"stdout: ok"}},
		}},
		{name: "uncollected activations are dropped whole, oldest first", concurrency: 1, calls: []call{
			{write: segments(maxHeldSegments + 1 + 2), want: []string{"stdout: out2", "stderr: err2"}},
		}},
		{name: "a concurrent action's activations wait for their Logs calls", concurrency: 3, calls: []call{
			{write: segments(maxHeldSegments + 3), want: []string{"stdout: out0", "stderr: err0"}},
			{want: []string{"stdout: out1", "stderr: err1"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			maxBytes := tt.maxBytes
			if maxBytes == 0 {
				maxBytes = 1 << 20
			}
			p := newPipeTap(t, maxBytes)
			p.setConcurrency(tt.concurrency)
			c := newContainer(&Factory{}, "id", "name", "addr", p.logTap)
			written := 0
			for i, cl := range tt.calls {
				p.write(t, cl.write...)
				written += len(cl.write)
				waitHeld(t, p.logTap, written)
				written += len(cl.late)
				limit := cl.limit
				if limit == 0 {
					limit = config.MB
				}
				done := make(chan struct{})
				go func() {
					defer close(done)
					p.write(t, cl.late...)
				}()
				lines, err := c.Logs(context.Background(), factory.LogRequest{Limit: limit, WaitForSentinel: !cl.noWait})
				<-done
				if err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
				want := cl.want
				if cl.missing {
					want = append(want, "stderr: "+factory.MsgLogsIncomplete)
				}
				var got []string
				for _, l := range lines {
					got = append(got, strings.TrimSpace(l[30:]))
				}
				if strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Errorf("call %d lines:\n%s\nwant:\n%s", i, strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
			}
		})
	}
}

// waitHeld waits until n lines have reached the tap since it started
// (kept or not), with a deadline.
func waitHeld(t *testing.T, tap *logTap, n int) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		tap.mu.Lock()
		seen, arrived := tap.seen, tap.arrived
		tap.mu.Unlock()
		if seen >= n {
			return
		}
		select {
		case <-arrived:
		case <-deadline:
			t.Fatalf("the tap saw %d of %d lines", seen, n)
		}
	}
}

// TestTapEndsThenEngineLogTakesOver: when the attachment ends before an
// activation's sentinels reach it, Logs finds in the engine's log where the
// tap stood and returns the whole activation from there.
func TestTapEndsThenEngineLogTakesOver(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var clock int
	at := func() time.Time { clock += 10; return t0.Add(time.Duration(clock)) }
	S := Sentinel
	e := &memLogEngine{}
	for _, l := range []string{"1:a", "2:" + S, "1:" + S, "1:b", "2:c", "1:" + S} {
		stream, text, _ := strings.Cut(l, ":")
		e.log = append(e.log, logFrame{stream: streamNames[stream[0]-'1'], time: at(), text: text})
	}
	// The stderr sentinel of the second activation reaches the engine's
	// log after the tap has ended.
	e.late = []logFrame{{stream: "stderr", time: at(), text: S}}
	p := newPipeTap(t, 1<<20)
	c := newContainer(&Factory{eng: e}, "id", "name", "addr", p.logTap)
	p.write(t, "1:a", "2:"+S, "1:"+S, "1:b", "2:c", "1:"+S)
	waitHeld(t, p.logTap, 6)
	req := factory.LogRequest{Limit: config.MB, WaitForSentinel: true}
	if lines, err := c.Logs(context.Background(), req); err != nil || len(lines) != 1 || !strings.HasSuffix(lines[0], "stdout: a") {
		t.Fatalf("first activation from the tap: %q %v", lines, err)
	}
	if len(e.queries) != 0 {
		t.Fatalf("the tap's activation asked the engine: %+v", e.queries)
	}
	_ = p.w.Close() // the attachment ends
	lines, err := c.Logs(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range lines {
		got = append(got, strings.TrimSpace(l[30:]))
	}
	if want := []string{"stdout: b", "stderr: c"}; strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines %q, want %q", got, want)
	}
	if c.tap != nil {
		t.Error("the ended tap is still in use")
	}
}

func TestResyncFindsNoPositionInAShorterLog(t *testing.T) {
	e := &memLogEngine{log: []logFrame{{stream: "stdout", time: time.Unix(1, 0), text: Sentinel}}}
	c := newContainer(&Factory{eng: e}, "id", "name", "addr", nil)
	err := c.resync(context.Background(), [2]int{2, 1})
	if err == nil || !strings.Contains(err.Error(), "lost lines") {
		t.Fatalf("err = %v, want the lost-lines error", err)
	}
}

// TestLogsFromTheTapOnTheEngine runs activations on a container attached at
// creation: their lines come from the tap, without reading the engine's
// log, until the attachment is cut; then the engine's log takes over where
// the tap stood.
func TestLogsFromTheTapOnTheEngine(t *testing.T) {
	needEngine(t)
	f := newTestFactory(t, testConfig(t))
	qe := &logQueryEngine{engine: f.eng}
	f.eng = qe
	c := create(t, f, specFor(f, testEnv.runtimeImage, false, nil))
	defer c.Destroy(context.Background())
	if c.tap == nil {
		t.Fatal("the container was not attached")
	}
	initLineWriter(t, c)
	steps := []struct{ out, err int }{{1, 1}, {0, 0}, {30, 2}, {0, 3}, {2, 0}}
	for i, st := range steps {
		if i == 3 {
			// Cut the attachment: the engine's log takes over.
			_ = c.tap.rc.Close()
		}
		tag := fmt.Sprintf("s%d", i)
		expect(t, factory.StatusSuccess)(c.Run(testCtx(t), runReq(fmt.Sprintf(`{"out":%d,"err":%d,"tag":%q}`, st.out, st.err, tag))))
		lines, err := c.Logs(testCtx(t), factory.LogRequest{Limit: config.MB, WaitForSentinel: true})
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		queries := qe.take()
		if (len(queries) == 0) != (i < 3) {
			t.Errorf("step %d: engine log queries %+v; want none while the tap runs, some after", i, queries)
		}
		var out, errs []string
		for _, l := range lines {
			if _, text, ok := strings.Cut(l, " stdout: "); ok {
				out = append(out, text)
			} else if _, text, ok := strings.Cut(l, " stderr: "); ok {
				errs = append(errs, text)
			} else {
				t.Errorf("step %d: line %q has no stream", i, l)
			}
		}
		if want := numbered("out "+tag, st.out); strings.Join(out, "\n") != strings.Join(want, "\n") {
			t.Errorf("step %d: stdout %q, want %q", i, out, want)
		}
		if want := numbered("err "+tag, st.err); strings.Join(errs, "\n") != strings.Join(want, "\n") {
			t.Errorf("step %d: stderr %q, want %q", i, errs, want)
		}
	}
}

// FuzzDemuxLines feeds arbitrary bytes as an attachment: lines come out
// without newlines, none longer than maxLineBytes, and never more text
// than went in.
func FuzzDemuxLines(f *testing.F) {
	f.Add(rawFrame(1, "hello\n"))
	f.Add(append(rawFrame(2, "par"), rawFrame(2, "tial\r\n")...))
	f.Add(append(rawFrame(1, Sentinel+"\n"), rawFrame(2, "")...))
	f.Add([]byte{3, 0, 0, 0, 0, 0, 0, 1, 'x'})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) >= 8 && binary.BigEndian.Uint32(data[4:8]) > 1<<20 {
			return // the parser allocates what a header declares
		}
		text := 0
		_ = demuxLines(strings.NewReader(string(data)), func(stream int, line string) {
			if stream != 0 && stream != 1 {
				t.Fatalf("line on stream %d", stream)
			}
			if strings.Contains(line, "\n") || len(line) > maxLineBytes {
				t.Fatalf("line of %d bytes with a newline or too long: %q", len(line), line)
			}
			text += len(line)
		})
		if text > len(data) {
			t.Fatalf("%d bytes of lines from %d bytes of input", text, len(data))
		}
	})
}
