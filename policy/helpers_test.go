package policy

import (
	"testing"
	"time"

	"github.com/stemcell-io/stemcell/config"
)

// t0 is an arbitrary instant the cases count from.
var t0 = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

const mb = config.MB

func mustPolicy(t testing.TB, name string, o Options) *Policy {
	t.Helper()
	p, err := New(name, o)
	if err != nil {
		t.Fatalf("New(%q): %v", name, err)
	}
	return p
}

// histogram builds Stats whose idle-time histogram has the default shape
// (240 bins of 1 min) with counts[bin] = n and oob out-of-bounds times.
func histogram(counts map[int]uint32, oob uint64) *Stats {
	st := &Stats{}
	st.Idle.shape(time.Minute, 240)
	for bin, n := range counts {
		st.Idle.Counts[bin] = n
		st.Idle.InRange += uint64(n)
		st.Idle.SumSquares += uint64(n) * uint64(n)
	}
	st.Idle.OutOfBounds = oob
	return st
}
