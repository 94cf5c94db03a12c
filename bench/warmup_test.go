package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stemcell-io/stemcell/bench/report"
	"github.com/stemcell-io/stemcell/bench/workload"
)

func TestAfterWarmup(t *testing.T) {
	ms := time.Millisecond
	w := &workload.Workload{Arrivals: []workload.Arrival{{At: 0, Exec: 10 * ms}, {At: 500 * ms, Exec: 20 * ms}, {At: 1000 * ms, Exec: 30 * ms}, {At: 1500 * ms, Exec: 40 * ms}}}
	samples := []report.Sample{{Arrived: 0}, {Arrived: 500 * ms}, {Arrived: 1000 * ms}, {Arrived: 1500 * ms}}
	for _, tt := range []struct {
		warmup    time.Duration
		wantN     int
		wantFirst time.Duration // exec of the first kept sample
		wantWall  time.Duration
	}{
		{0, 4, 10 * ms, 2 * time.Second},
		{500 * ms, 3, 20 * ms, 1500 * ms},
		{1001 * ms, 1, 40 * ms, 999 * ms},
	} {
		kept, execs, wall := afterWarmup(samples, w, 2*time.Second, tt.warmup)
		if len(kept) != tt.wantN || len(execs) != tt.wantN || execs[0] != tt.wantFirst || wall != tt.wantWall {
			t.Errorf("warm-up %s: %d samples, execs %v, wall %s; want %d, first exec %s, wall %s",
				tt.warmup, len(kept), execs, wall, tt.wantN, tt.wantFirst, tt.wantWall)
		}
		for _, s := range kept {
			if s.Arrived < tt.warmup {
				t.Errorf("warm-up %s kept a sample that arrived at %s", tt.warmup, s.Arrived)
			}
		}
	}
}

func TestWarmupMustLeaveArrivals(t *testing.T) {
	var stdout, stderr strings.Builder
	args := []string{"--workload", "constant", "--functions", "2", "--rate", "10", "--duration", "1s", "--warmup", "5s"}
	err := execute(context.Background(), args, &stdout, &stderr, false)
	if err == nil || !strings.Contains(err.Error(), "--warmup 5s is invalid") {
		t.Fatalf("error %v, want one naming --warmup", err)
	}
}
