package docker

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"sync"
	"time"
)

// A logTap holds a container's output as the engine's attachment delivers
// it, so that collecting an activation's logs needs no engine call: the
// runtime writes its sentinels before it answers /run, and they reach the
// attachment tens of microseconds later, where a read of the engine's log
// costs an HTTP round trip and, for "since", a decode of the whole log.
//
// The engine's copy to an attachment is synchronous (a reader that stalls
// stalls the container's output), so the tap reads all the time and
// bounds what it holds instead: at most maxBytes of lines (later lines
// are dropped and the activation is reported incomplete), and at most
// maxHeld activations nobody collected (an action whose log limit is 0 is
// never collected): older ones are dropped whole. maxHeld leaves room for
// every activation of a concurrent action to finish before its Logs call
// runs.
//
// Lines are stamped when they arrive, strictly increasing, in the order
// the engine multiplexed them.
type logTap struct {
	rc       io.ReadCloser
	maxBytes int64
	done     chan struct{} // closed when the reader has returned

	mu      sync.Mutex
	frames  []logFrame
	bytes   int64
	held    [2]int // sentinels held, per stream
	passed  [2]int // sentinels taken or dropped, per stream
	seen    int    // lines that arrived, kept or not
	maxHeld int
	lost    bool          // lines were dropped since the last take
	ended   error         // why the attachment ended; nil while it runs
	arrived chan struct{} // closed (and replaced) when frames arrive or the attachment ends
	last    time.Time
}

// maxHeldSegments bounds the activations a tap keeps that nobody collected,
// beyond the action's concurrency.
const maxHeldSegments = 4

// maxLineBytes splits an unterminated line, as the engine does.
const maxLineBytes = 16 << 10

func newLogTap(rc io.ReadCloser, maxBytes int64) *logTap {
	t := &logTap{rc: rc, maxBytes: maxBytes, maxHeld: maxHeldSegments, done: make(chan struct{}), arrived: make(chan struct{})}
	go t.read()
	return t
}

// setConcurrency makes room for the activations of an action that runs
// up to n at once.
func (t *logTap) setConcurrency(n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.maxHeld = maxHeldSegments + max(n, 1)
}

// close ends the attachment and waits for the reader.
func (t *logTap) close() {
	_ = t.rc.Close()
	<-t.done
}

func (t *logTap) read() {
	defer close(t.done)
	err := demuxLines(t.rc, t.add)
	if err == nil {
		err = io.EOF
	}
	t.mu.Lock()
	t.ended = err
	close(t.arrived)
	t.mu.Unlock()
}

// demuxLines splits the engine's multiplexed stream (readFrame) into lines
// per stream. A line's pieces may span frames; a line longer than
// maxLineBytes is cut. What is left unterminated when the stream ends is
// a last line.
func demuxLines(r io.Reader, line func(stream int, text string)) error {
	br := bufio.NewReaderSize(r, 32<<10)
	var partial [2][]byte
	defer func() {
		for i, p := range partial {
			if len(p) > 0 {
				line(i, string(p))
			}
		}
	}()
	for {
		i, payload, err := readFrame(br, "attachment")
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		for len(payload) > 0 {
			nl := bytes.IndexByte(payload, '\n')
			chunk := payload
			if nl >= 0 {
				chunk = payload[:nl]
			}
			partial[i] = append(partial[i], chunk...)
			for len(partial[i]) > maxLineBytes {
				line(i, string(partial[i][:maxLineBytes]))
				partial[i] = append(partial[i][:0], partial[i][maxLineBytes:]...)
			}
			if nl < 0 {
				break
			}
			payload = payload[nl+1:]
			line(i, string(bytes.TrimSuffix(partial[i], []byte("\r"))))
			partial[i] = partial[i][:0]
		}
	}
}

var streamNames = [2]string{"stdout", "stderr"}

func (t *logTap) add(stream int, text string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	if !now.After(t.last) {
		now = t.last.Add(time.Nanosecond)
	}
	t.last = now
	t.seen++
	sentinel := strings.Contains(text, Sentinel)
	if !sentinel && t.bytes+int64(len(text)) > t.maxBytes {
		t.lost = true
		t.notify()
		return
	}
	t.frames = append(t.frames, logFrame{stream: streamNames[stream], time: now, text: text})
	t.bytes += int64(len(text))
	if sentinel {
		t.held[stream]++
		if min(t.held[0], t.held[1]) > t.maxHeld {
			t.dropOldestSegment()
		}
	}
	t.notify()
}

func (t *logTap) notify() {
	close(t.arrived)
	t.arrived = make(chan struct{})
}

// dropOldestSegment removes, on each stream, the lines up to and including
// its first sentinel.
func (t *logTap) dropOldestSegment() {
	var passed [2]bool
	kept := t.frames[:0]
	for _, fr := range t.frames {
		i := streamIndex(fr.stream)
		if passed[i] {
			kept = append(kept, fr)
			continue
		}
		t.bytes -= int64(len(fr.text))
		if strings.Contains(fr.text, Sentinel) {
			passed[i] = true
			t.held[i]--
			t.passed[i]++
		}
	}
	clear(t.frames[len(kept):])
	t.frames = kept
}

// take removes and returns the first frame held. Without one it returns
// a channel that is closed when there may be one, and why the attachment
// ended, if it did.
func (t *logTap) take() (fr logFrame, ok, lost bool, arrived <-chan struct{}, ended error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	lost, t.lost = t.lost, false
	if len(t.frames) == 0 {
		return logFrame{}, false, lost, t.arrived, t.ended
	}
	fr = t.frames[0]
	t.frames[0] = logFrame{}
	t.frames = t.frames[1:]
	t.bytes -= int64(len(fr.text))
	if strings.Contains(fr.text, Sentinel) {
		t.held[streamIndex(fr.stream)]--
		t.passed[streamIndex(fr.stream)]++
	}
	return fr, true, lost, nil, nil
}

// sentinelsPassed is how many sentinels of each stream have left the tap:
// where its reader stands in the engine's log.
func (t *logTap) sentinelsPassed() [2]int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.passed
}
