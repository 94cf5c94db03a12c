package pool

import (
	"testing"
)

// TestRandomReplayIsDeterministic runs seeds of the randomized tests more
// than once: every step must pick the same action and every activation
// land where it landed the first time, or a printed seed would not replay
// the run that failed.
func TestRandomReplayIsDeterministic(t *testing.T) {
	const runs, steps = 3, 400
	tests := []struct {
		name  string
		run   func(t *testing.T, seed uint64, steps int) []string
		seeds []uint64
	}{
		{"engine", randomRun, []uint64{7}},
		// Seed 1 turns prewarm promotion off: many more containers.
		{"fake factory", randomFakeRun, []uint64{7, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			forEachSeed(t, withFresh(tc.seeds), func(t *testing.T, seed uint64) {
				first := tc.run(t, seed, steps)
				for i := 1; i < runs; i++ {
					again := tc.run(t, seed, steps)
					if d := firstDifference(first, again); d >= 0 {
						t.Fatalf("seed %d: run %d departs from run 0 at trace line %d: %q, then %q", seed, i, d, at(first, d), at(again, d))
					}
				}
			})
		})
	}
}

// firstDifference is the first index where a and b differ, or -1.
func firstDifference(a, b []string) int {
	for i := range max(len(a), len(b)) {
		if at(a, i) != at(b, i) {
			return i
		}
	}
	return -1
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "<end>"
}
