package report

import (
	"bytes"
	"os"
	"testing"
	"time"
)

func TestPlotsWritePNGs(t *testing.T) {
	samples := []Sample{
		{Function: 0, Arrived: 0, Latency: 300 * time.Millisecond, StartKind: "cold", Status: "success"},
		{Function: 0, Arrived: time.Second, Latency: 5 * time.Millisecond, StartKind: "warm", Status: "success"},
		{Function: 1, Arrived: 2 * time.Second, Latency: 20 * time.Millisecond, StartKind: "prewarmed", Status: "success"},
	}
	mem := []MemoryPoint{{At: 0, InUseMB: 256}, {At: time.Second, InUseMB: 512, IdleMB: 256}}
	s := Summarize(samples, mem, 3*time.Second, 0)
	paths, err := Plots(t.TempDir(), "run-", samples, mem, s)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 3 {
		t.Fatalf("wrote %d plots, want 3", len(paths))
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, []byte("\x89PNG")) {
			t.Errorf("%s is not a PNG", p)
		}
	}
}

func TestPlotsOfAnEmptyRun(t *testing.T) {
	if _, err := Plots(t.TempDir(), "", nil, nil, Summary{}); err != nil {
		t.Fatalf("an empty run must still plot: %v", err)
	}
}
