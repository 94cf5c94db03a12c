package runtime

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
)

// forwarder copies a native child's output stream to the runtime's, line by
// line, and places the sentinel after an activation's output.
//
// Knowing when the child's output of an activation has all been copied is
// the hard part: the child writes it before its result line, but the copy
// may lag. The runtime holds a write end of the same pipe, so after the
// result arrives it writes a marker line into it. The pipe keeps order, so
// when the copier reaches the marker, everything the child wrote before has
// passed; the copier writes the sentinel in the marker's place.
type forwarder struct {
	r, w   *os.File
	out    *lineWriter
	marker []byte
	marks  chan struct{} // one value per marker copied
	done   chan struct{} // closed when the copier stops
}

func newForwarder(r, w *os.File, out *lineWriter, marker string) *forwarder {
	f := &forwarder{r: r, w: w, out: out, marker: []byte(marker), marks: make(chan struct{}, 1), done: make(chan struct{})}
	go f.copy()
	return f
}

func (f *forwarder) copy() {
	defer close(f.done)
	br := bufio.NewReaderSize(f.r, 64<<10)
	for {
		// ReadSlice hands out overlong lines in pieces rather than holding
		// an unbounded line in memory.
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			f.forward(line)
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return
		}
	}
}

func (f *forwarder) forward(line []byte) {
	if !bytes.HasSuffix(line, f.marker) {
		f.out.write(line)
		return
	}
	// The child left a line unfinished; finish it so the sentinel stays a
	// line of its own.
	if rest := line[:len(line)-len(f.marker)]; len(rest) > 0 {
		f.out.write(append(bytes.Clone(rest), '\n'))
	}
	f.out.writeLine(Sentinel)
	// Nobody waits for a mark whose sentinel() gave up; never block on it.
	select {
	case f.marks <- struct{}{}:
	default:
	}
}

// sentinel ends the current activation's output: it returns once the
// sentinel is written after everything the child wrote so far, or when ctx
// ends (the sentinel then follows whenever the copier catches up).
func (f *forwarder) sentinel(ctx context.Context) {
	if _, err := f.w.Write(f.marker); err != nil {
		// The pipe is closed: the runtime is shutting down.
		f.out.writeLine(Sentinel)
		return
	}
	select {
	case <-f.marks:
	case <-f.done:
	case <-ctx.Done():
	}
}

// close stops the copier once the child is gone: closing the last write end
// lets it read to EOF, so output the child wrote last is still copied.
func (f *forwarder) close() {
	_ = f.w.Close()
	<-f.done
	_ = f.r.Close()
}
