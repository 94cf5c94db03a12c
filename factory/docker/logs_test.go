package docker

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// frame is one frame of the engine's log stream, framed by stdcopy's
// writer: the engine's own.
func frame(stream byte, ts time.Time, text string) []byte {
	return rawFrame(stream, ts.UTC().Format("2006-01-02T15:04:05.000000000Z07:00")+" "+text+"\n")
}

func TestReadFrames(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	tests := []struct {
		name    string
		stream  []byte
		want    []logFrame
		wantErr string
	}{
		{name: "order kept across streams",
			stream: bytes.Join([][]byte{frame(1, t0, "out1"), frame(2, t0.Add(1), "err1"), frame(1, t0.Add(2), "")}, nil),
			want:   []logFrame{{"stdout", t0, "out1"}, {"stderr", t0.Add(1), "err1"}, {"stdout", t0.Add(2), ""}}},
		{name: "stdin stream byte", stream: frame(0, t0, "x"), wantErr: "names stream 0: must be 1 (stdout), 2 (stderr) or 3"},
		{name: "unknown stream byte", stream: frame(4, t0, "x"), wantErr: "names stream 4: must be 1 (stdout), 2 (stderr) or 3"},
		{name: "the engine's error", stream: append(frame(1, t0, "out1"), rawFrame(3, "reading the log: file gone")...),
			wantErr: "log stream: the engine reported: reading the log: file gone"},
		{name: "cut payload", stream: frame(1, t0, "hello")[:12], wantErr: "truncated frame payload"},
		{name: "cut header", stream: []byte{1, 0, 0}, wantErr: "truncated frame header"},
		{name: "huge frame", stream: []byte{1, 0, 0, 0, 255, 255, 255, 255}, wantErr: "must be at most"},
		{name: "no timestamp", stream: func() []byte {
			b := []byte{1, 0, 0, 0, 0, 0, 0, 6}
			return append(b, "hello\n"...)
		}(), wantErr: "does not start with an RFC 3339 time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := make(chan logFrame, 16)
			err := readFrames(bytes.NewReader(tt.stream), out, nil)
			close(out)
			var got []logFrame
			for f := range out {
				got = append(got, f)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if !errors.Is(err, io.EOF) {
				t.Fatalf("err = %v, want EOF", err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i].stream != tt.want[i].stream || !got[i].time.Equal(tt.want[i].time) || got[i].text != tt.want[i].text {
					t.Errorf("frame %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestLogCollector(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	now := t0.Add(time.Hour)
	fr := func(s string, d int, text string) logFrame {
		return logFrame{stream: s, time: t0.Add(time.Duration(d)), text: text}
	}
	// at builds a position: stdout last seen at d0 (n0 lines there), stderr at d1 (n1); n = 0 means unseen.
	at := func(d0, n0, d1, n1 int) logPosition {
		var p logPosition
		if n0 > 0 {
			p.seen[0], p.last[0], p.atLast[0] = true, t0.Add(time.Duration(d0)), n0
		}
		if n1 > 0 {
			p.seen[1], p.last[1], p.atLast[1] = true, t0.Add(time.Duration(d1)), n1
		}
		return p
	}
	tests := []struct {
		name       string
		limit      int64
		pos        logPosition
		frames     []logFrame
		incomplete bool
		wantLines  []string
		wantDone   bool
		wantPos    logPosition
	}{
		{name: "sentinels stripped and complete", limit: 100,
			frames:    []logFrame{fr("stdout", 1, "a"), fr("stderr", 2, "b"), fr("stdout", 3, Sentinel), fr("stderr", 4, Sentinel)},
			wantLines: []string{formatLogLine(t0.Add(1), "stdout", "a"), formatLogLine(t0.Add(2), "stderr", "b")},
			wantDone:  true, wantPos: at(3, 1, 4, 1)},
		{name: "one sentinel is not complete", limit: 100,
			frames:    []logFrame{fr("stdout", 1, "a"), fr("stdout", 3, Sentinel)},
			wantLines: []string{formatLogLine(t0.Add(1), "stdout", "a")}, wantPos: at(3, 1, 0, 0)},
		{name: "truncated at the limit", limit: 5,
			frames: []logFrame{fr("stdout", 1, "abc"), fr("stdout", 2, "def"), fr("stdout", 3, "g")},
			wantLines: []string{formatLogLine(t0.Add(1), "stdout", "abc"),
				formatLogLine(now, "stderr", "Logs were truncated because the total bytes size exceeds the limit of 5 bytes.")},
			wantPos: at(3, 1, 0, 0)},
		{name: "lines already seen at the last time are skipped", limit: 100, pos: at(2, 1, 2, 1),
			frames:    []logFrame{fr("stdout", 1, "old"), fr("stdout", 2, "seen1"), fr("stderr", 2, "seen2"), fr("stdout", 2, "new-same-time"), fr("stdout", 5, "new")},
			wantLines: []string{formatLogLine(t0.Add(2), "stdout", "new-same-time"), formatLogLine(t0.Add(5), "stdout", "new")},
			wantPos:   at(5, 1, 2, 1)},
		{name: "a stream stamped earlier but logged later is kept", limit: 100, pos: at(1, 1, 1, 1),
			frames:    []logFrame{fr("stdout", 5, "out"), fr("stderr", 3, "err"), fr("stdout", 6, Sentinel), fr("stderr", 4, Sentinel)},
			wantLines: []string{formatLogLine(t0.Add(5), "stdout", "out"), formatLogLine(t0.Add(3), "stderr", "err")},
			wantDone:  true, wantPos: at(6, 1, 4, 1)},
		{name: "incomplete adds the warning", limit: 100, incomplete: true,
			frames:    []logFrame{fr("stdout", 1, "a")},
			wantLines: []string{formatLogLine(t0.Add(1), "stdout", "a"), formatLogLine(now, "stderr", "There was an issue while collecting your logs. Data might be missing.")},
			wantPos:   at(1, 1, 0, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := logCollector{limit: tt.limit, pos: tt.pos}
			done := false
			for _, f := range tt.frames {
				done = c.add(f)
			}
			c.incomplete = tt.incomplete
			got := c.result(now)
			if done != tt.wantDone {
				t.Errorf("done = %v, want %v", done, tt.wantDone)
			}
			if strings.Join(got, "\n") != strings.Join(tt.wantLines, "\n") {
				t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.wantLines, "\n"))
			}
			if c.pos != tt.wantPos {
				t.Errorf("pos = %+v, want %+v", c.pos, tt.wantPos)
			}
		})
	}
}

func TestLogPositionSince(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		pos  logPosition
		want time.Time
	}{
		{name: "nothing read", want: time.Time{}},
		{name: "both streams: the earlier", pos: logPosition{last: [2]time.Time{t0.Add(5), t0.Add(3)}, seen: [2]bool{true, true}}, want: t0.Add(3)},
		{name: "stdout only: less the skew", pos: logPosition{last: [2]time.Time{t0, {}}, seen: [2]bool{true, false}}, want: t0.Add(-sinceSkew)},
		{name: "stderr only: less the skew", pos: logPosition{last: [2]time.Time{{}, t0}, seen: [2]bool{false, true}}, want: t0.Add(-sinceSkew)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.pos.since(); !got.Equal(tt.want) {
				t.Errorf("since = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFormatLogLine(t *testing.T) {
	got := formatLogLine(time.Date(2026, 1, 2, 3, 4, 5, 120000000, time.UTC), "stdout", "hi")
	want := "2026-01-02T03:04:05.12Z        stdout: hi"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
