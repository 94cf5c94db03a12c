package main

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"testing/synctest"

	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/bench/sim"
)

// TestSweepCell is the sweep command's simulating process: it runs the
// cell named by $STEMCELL_SWEEP_CELL inside a synctest bubble and writes
// its figures beside it. Without the variable there is nothing to do.
func TestSweepCell(t *testing.T) {
	path := os.Getenv(cellEnv)
	if path == "" {
		t.Skip(cellEnv + " is not set: this test is the sweep command's simulating process")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c sweepCell
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	res := simulateCell(t, c)
	out, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".result", out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// simulateCell runs c in a bubble of its own.
func simulateCell(t *testing.T, c sweepCell) sim.Result {
	t.Helper()
	var res sim.Result
	synctest.Test(t, func(t *testing.T) {
		spec, err := cellSpec(c)
		if err != nil {
			t.Fatal(err)
		}
		spec.Log = zerolog.Nop()
		if res, err = sim.Run(spec); err != nil {
			t.Fatalf("%s: %v", c.label(), err)
		}
	})
	return res
}

// inProcessRunner simulates cells in this test process, one after the
// other, so the sweep's tests need no binary of their own.
func inProcessRunner(t *testing.T) cellRunner {
	return func(_ context.Context, c sweepCell) (sim.Result, error) {
		return simulateCell(t, c), nil
	}
}
