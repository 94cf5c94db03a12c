package runtime

import (
	"io"
	"sync"
)

// Sentinel is the last line of every activation's output on stdout and on
// stderr: the invoker's log collector reads each stream up to it.
const Sentinel = "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX"

// lineWriter writes whole lines to one stream under a lock, so that
// concurrent activations and the native child's forwarder never interleave
// inside a line (the log collector splits on newlines).
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func newLineWriter(w io.Writer) *lineWriter { return &lineWriter{w: w} }

// writeLine writes s followed by a newline in one Write call. Write errors
// are dropped: a closed log stream must not fail the activation.
func (l *lineWriter) writeLine(s string) {
	buf := make([]byte, 0, len(s)+1)
	buf = append(buf, s...)
	buf = append(buf, '\n')
	l.write(buf)
}

// write writes b as is; the caller has framed it into lines.
func (l *lineWriter) write(b []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = l.w.Write(b)
}

// writeSentinels ends an activation's output on both streams.
func writeSentinels(stdout, stderr *lineWriter) {
	stdout.writeLine(Sentinel)
	stderr.writeLine(Sentinel)
}
