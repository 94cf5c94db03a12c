package docker

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/pkg/stdcopy"
)

// orderedWriter records, for stdcopy.StdCopy, each payload with its stream
// in the order StdCopy delivers them.
type orderedWriter struct {
	stream int
	got    *[]string
}

func (w orderedWriter) Write(p []byte) (int, error) {
	*w.got = append(*w.got, string(rune('0'+w.stream))+":"+string(p))
	return len(p), nil
}

// TestReadFrameAgreesWithStdCopy checks the hand-written reader against
// stdcopy, the engine's own framing, on well-formed streams written by
// stdcopy's writer: the same payloads, streams and order.
func TestReadFrameAgreesWithStdCopy(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	for round := range 50 {
		var stream bytes.Buffer
		writers := [2]io.Writer{stdcopy.NewStdWriter(&stream, stdcopy.Stdout), stdcopy.NewStdWriter(&stream, stdcopy.Stderr)}
		for range rng.IntN(20) {
			// Sizes cross the readers' 32 KiB buffers.
			payload := strings.Repeat(string(rune('a'+rng.IntN(26))), rng.IntN(40<<10))
			if _, err := writers[rng.IntN(2)].Write([]byte(payload)); err != nil {
				t.Fatal(err)
			}
		}
		var want, got []string
		if _, err := stdcopy.StdCopy(orderedWriter{0, &want}, orderedWriter{1, &want}, bytes.NewReader(stream.Bytes())); err != nil {
			t.Fatalf("round %d: stdcopy: %v", round, err)
		}
		br := bufio.NewReaderSize(bytes.NewReader(stream.Bytes()), 32<<10)
		for {
			i, payload, err := readFrame(br, "test stream")
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("round %d: readFrame: %v", round, err)
			}
			_, _ = orderedWriter{i, &got}.Write(payload)
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("round %d (seed %d): readFrame and stdcopy disagree:\n%d payloads vs %d", round, seed, len(got), len(want))
		}
	}
}

// TestReadFrameRefusesWhatStdCopyAccepts documents why the reader is not
// stdcopy.StdCopy: on these streams StdCopy reports success.
func TestReadFrameRefusesWhatStdCopyAccepts(t *testing.T) {
	tests := []struct {
		name    string
		stream  []byte
		wantErr string
	}{
		{name: "cut payload", stream: rawFrame(1, "hello")[:10], wantErr: "truncated frame payload"},
		{name: "cut header", stream: append(rawFrame(2, "x"), 1, 0, 0), wantErr: "truncated frame header"},
		{name: "stdin frame", stream: rawFrame(0, "x"), wantErr: "names stream 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := stdcopy.StdCopy(io.Discard, io.Discard, bytes.NewReader(tt.stream)); err != nil {
				t.Fatalf("stdcopy now refuses this stream (%v): reconsider using it", err)
			}
			br := bufio.NewReader(bytes.NewReader(tt.stream))
			var err error
			for err == nil {
				_, _, err = readFrame(br, "test stream")
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
