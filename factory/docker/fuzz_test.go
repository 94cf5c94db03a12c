package docker

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
	"time"
)

// FuzzReadFrames feeds arbitrary bytes as the engine's log stream: the
// parser must return an error or frames, never panic or hang.
func FuzzReadFrames(f *testing.F) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	f.Add(frame(1, t0, "hello"))
	f.Add(append(frame(2, t0, Sentinel), frame(1, t0, "")...))
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{2, 0, 0, 0, 255, 255, 255, 255})
	f.Fuzz(func(t *testing.T, data []byte) {
		// Cap the declared payload size so a fuzzed header cannot ask for
		// gigabytes; the parser itself allocates what the header says.
		if len(data) >= 8 && binary.BigEndian.Uint32(data[4:8]) > 1<<20 {
			return
		}
		out := make(chan logFrame, 1)
		done := make(chan struct{})
		errc := make(chan error, 1)
		go func() { errc <- readFrames(bytes.NewReader(data), out, done) }()
		for {
			select {
			case fr := <-out:
				if fr.stream != "stdout" && fr.stream != "stderr" {
					t.Fatalf("frame on stream %q", fr.stream)
				}
				if strings.HasSuffix(fr.text, "\n") {
					t.Fatalf("frame text keeps its newline: %q", fr.text)
				}
			case <-errc:
				close(done)
				return
			}
		}
	})
}

// FuzzApplyExtraArgs checks that any flag/value either maps or is rejected
// with an error naming the configuration key.
func FuzzApplyExtraArgs(f *testing.F) {
	for flag := range ExtraArgFlags {
		f.Add(flag, "x=y")
	}
	f.Add("ulimit", "nofile=1:2")
	f.Add("privileged", "")
	f.Fuzz(func(t *testing.T, flag, value string) {
		s := createSpec{Labels: map[string]string{}}
		err := applyExtraArgs(&s, map[string][]string{flag: {value}})
		if err != nil && !strings.Contains(err.Error(), extraArgKey+"."+flag) {
			t.Fatalf("error %q does not name %s.%s", err, extraArgKey, flag)
		}
	})
}
