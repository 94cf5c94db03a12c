package docker

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/docker/docker/pkg/stdcopy"
)

// maxFrameSize bounds one frame of the log stream. The engine splits long
// lines into 16 KiB messages; anything near this bound is a broken stream.
const maxFrameSize = 16 << 20

// readFrames parses the engine's multiplexed stream (readFrame), whose
// payloads are "<RFC3339Nano time> <text>\n", and sends each line until
// the stream ends or done closes. Parsing the headers here, rather than
// splitting into two writers, keeps stdout and stderr in the order they
// were written.
func readFrames(r io.Reader, out chan<- logFrame, done <-chan struct{}) error {
	br := bufio.NewReaderSize(r, 32<<10)
	for {
		stream, payload, err := readFrame(br, "log stream")
		if err != nil {
			return err
		}
		fr, err := parseLogPayload(streamNames[stream], payload)
		if err != nil {
			return err
		}
		select {
		case out <- fr:
		case <-done:
			return context.Canceled
		}
	}
}

// readFrame reads one frame of the engine's multiplexed stream, the
// framing of github.com/docker/docker/pkg/stdcopy (an 8-byte header: the
// stream in byte 0, the big-endian payload size in bytes 4-7; then the
// payload), and returns the stream's index (0 stdout, 1 stderr) and the
// payload. A stream that ends between frames returns io.EOF itself; what
// names the stream in errors.
//
// stdcopy.StdCopy demultiplexes the same framing but cannot be used here:
// it allocates the size a header declares before reading the payload, so
// it has no bound on a frame (a broken header costs up to 4 GiB); it
// returns nil when the stream ends inside a header or a payload, which
// would make a cut stream look complete; and it accepts a stdin frame as
// stdout. Its constants name the streams, and tests check this reader
// against it.
func readFrame(br *bufio.Reader, what string) (int, []byte, error) {
	var hdr [8]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, nil, fmt.Errorf("%s: truncated frame header: %w", what, err)
		}
		return 0, nil, err
	}
	stream := stdcopy.StdType(hdr[0])
	if stream != stdcopy.Stdout && stream != stdcopy.Stderr && stream != stdcopy.Systemerr {
		return 0, nil, fmt.Errorf("%s: frame header names stream %d: must be %d (stdout), %d (stderr) or %d (the engine's error)",
			what, hdr[0], stdcopy.Stdout, stdcopy.Stderr, stdcopy.Systemerr)
	}
	size := binary.BigEndian.Uint32(hdr[4:])
	if size > maxFrameSize {
		return 0, nil, fmt.Errorf("%s: frame of %d bytes: must be at most %d", what, size, maxFrameSize)
	}
	payload := make([]byte, size)
	if _, err := io.ReadFull(br, payload); err != nil {
		return 0, nil, fmt.Errorf("%s: truncated frame payload: %w", what, err)
	}
	if stream == stdcopy.Systemerr {
		// The engine ends a stream it failed to produce with this frame.
		return 0, nil, fmt.Errorf("%s: the engine reported: %s", what, truncateForError(string(payload)))
	}
	return int(stream) - int(stdcopy.Stdout), payload, nil
}

func parseLogPayload(stream string, p []byte) (logFrame, error) {
	s := strings.TrimSuffix(string(p), "\n")
	s = strings.TrimSuffix(s, "\r")
	ts, text, ok := strings.Cut(s, " ")
	t, err := time.Parse(time.RFC3339Nano, ts)
	if !ok && err == nil {
		text = "" // an empty line
	} else if err != nil {
		return logFrame{}, fmt.Errorf("log stream: line %q does not start with an RFC 3339 time: %w", truncateForError(s), err)
	}
	return logFrame{stream: stream, time: t, text: text}, nil
}

func truncateForError(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
