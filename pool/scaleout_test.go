package pool

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

func TestHoldForWarm(t *testing.T) {
	const ms = time.Millisecond
	const cold = 300 * ms
	tests := []struct {
		name                       string
		waiting, serving, starting int
		run                        time.Duration
		runKnown                   bool
		sinceArrival, sinceReady   time.Duration
		want                       bool
	}{
		{"no container of the action", 1, 0, 0, 10 * ms, true, 0, time.Hour, false},
		{"short runs: 30 rounds of 10 ms fit a cold start", 30, 1, 0, 10 * ms, true, 0, time.Hour, true},
		{"short runs: 31 rounds do not", 31, 1, 0, 10 * ms, true, 0, time.Hour, false},
		{"spread over slots", 60, 2, 0, 10 * ms, true, 0, time.Hour, true},
		{"long runs start a container", 1, 4, 0, 400 * ms, true, 0, time.Hour, false},
		{"long runs do not wait for a starting container", 1, 1, 1, 400 * ms, true, 0, time.Hour, false},
		{"a run as long as a cold start waits", 1, 1, 0, cold, true, 0, time.Hour, true},
		{"known: not past a cold start since the arrival", 1, 1, 0, 10 * ms, true, cold, time.Hour, false},
		{"known: a container came up since: the wait counts from then", 1, 1, 0, 10 * ms, true, cold, 10 * ms, true},
		{"known: never two cold starts", 1, 1, 0, 10 * ms, true, 2 * cold, 10 * ms, false},
		{"known: no bound while a container starts", 1, 1, 1, 10 * ms, true, 10 * cold, 10 * cold, true},
		{"unknown, one starting: waits however long", 5, 1, 1, 0, false, time.Hour, time.Hour, true},
		{"unknown, all up: a quarter of a cold start", 5, 1, 0, 0, false, time.Hour, cold/4 - ms, true},
		{"unknown, all up: not longer", 5, 1, 0, 0, false, time.Hour, cold / 4, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := holdForWarm(tt.waiting, tt.serving, tt.starting, tt.run, tt.runKnown, cold, tt.sinceArrival, tt.sinceReady); got != tt.want {
				t.Errorf("holdForWarm = %v, want %v", got, tt.want)
			}
		})
	}
}

// A short action whose only container is busy: the next activation waits
// for it rather than starting a second container, and runs warm on it.
func TestShortActionWaitsForItsBusyContainer(t *testing.T) {
	h := newHarness(t, testConfig(1024))
	h.fill("ns", 128, "f")
	f := h.container(0)
	h.do(f, &complete{Run: 10 * time.Millisecond}) // runs of f take 10 ms
	h.run(act("f1", "ns", "f", 128))               // warm: the container is busy again
	h.run(act("f2", "ns", "f", 128))
	h.sync()
	if n := h.numContainers(); n != 1 {
		t.Fatalf("%d containers, want 1: f2 waits for f's container", n)
	}
	h.do(f, &complete{Run: 10 * time.Millisecond})
	h.sync()
	if got := h.placedOrder(); !slices.Equal(got, []string{"f", "f1", "f2"}) || h.numContainers() != 1 {
		t.Fatalf("placements %v on %d containers, want f, f1, f2 on one", got, h.numContainers())
	}
}

// A hold runs out after a cold start's time: a container stuck in a long
// run does not hold its action's queue up.
func TestHoldRunsOut(t *testing.T) {
	h := newHarness(t, testConfig(1024))
	h.fill("ns", 128, "f")
	f := h.container(0)
	h.do(f, &complete{Run: 10 * time.Millisecond})
	h.run(act("stuck", "ns", "f", 128))
	h.run(act("next", "ns", "f", 128))
	h.sync()
	if n := h.numContainers(); n != 1 {
		t.Fatalf("%d containers, want 1 while next holds", n)
	}
	h.clock.Advance(defaultColdStart)
	h.sync()
	if n := h.numContainers(); n != 2 || !slices.Contains(h.placedOrder(), "next") {
		t.Fatalf("%d containers, placements %v: want next on a new container once its hold ran out", n, h.placedOrder())
	}
}

// A burst of an action never seen starts one container and waits for it,
// however slow its start; once the first run tells that runs are short,
// the burst runs on that container.
func TestBurstOfANewActionWaitsForItsFirstRun(t *testing.T) {
	h := newHarness(t, testConfig(4096))
	for i := range 8 {
		h.run(act("b"+string(rune('0'+i)), "ns", "b", 128))
	}
	h.sync()
	h.clock.Advance(2 * defaultColdStart) // a slow start: the hold lasts as long
	h.sync()
	if n := h.numContainers(); n != 1 {
		t.Fatalf("%d containers for a burst of 8 while the first starts, want 1", n)
	}
	c := h.container(0)
	h.do(c, &ready{})
	for range 8 {
		h.do(c, &complete{Run: time.Millisecond})
		h.sync()
	}
	h.sync()
	if n, got := h.numContainers(), h.placedOrder(); n != 1 || len(got) != 8 {
		t.Fatalf("%d containers, placements %v: want all 8 on the first container", n, got)
	}
}

// An action with no finished run yet is taken to be like the others: when
// the others' runs are long, its burst starts containers at once.
func TestNewActionIsGuessedFromTheOthers(t *testing.T) {
	for _, tc := range []struct {
		name       string
		othersRun  time.Duration
		containers int
	}{
		{"others short: the burst waits for its first container", time.Millisecond, 1},
		{"others long: the burst starts containers", time.Second, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, testConfig(4096))
			h.fill("ns", 128, "other")
			h.do(h.container(0), &complete{Run: tc.othersRun})
			for i := range 3 {
				h.run(act(fmt.Sprintf("g%d", i), "ns", "g", 128))
			}
			h.sync()
			if got := h.numContainers() - 1; got != tc.containers {
				t.Fatalf("%d containers for g, want %d", got, tc.containers)
			}
		})
	}
}
