package policy

import (
	"math"
	"testing"
	"time"
)

func mustHybrid(t *testing.T, o Options) *HybridKeepAlive {
	t.Helper()
	k, err := NewHybridKeepAlive(o)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// spread is n idle times, one in each of the bins 0..n-1.
func spread(n int) map[int]uint32 {
	m := map[int]uint32{}
	for i := range n {
		m[i] = 1
	}
	return m
}

// TestHybridWindows uses the paper's defaults: 240 bins of 1 min, head at
// the 5th percentile, tail at the 99th, 10 % margin, CV threshold 2; and
// this package's: at least 10 idle times, out-of-bounds share 0.5, fixed
// keep-alive 4 h. Ranks: the p-th percentile is the idle time of rank
// ceil(p·N/100).
func TestHybridWindows(t *testing.T) {
	k := mustHybrid(t, DefaultOptions())
	fixed := 4 * time.Hour
	cases := []struct {
		name string
		st   *Stats
		want Windows
		cv   float64 // expected CV, compared to 1e-9; 0 when none
	}{
		{"never observed", &Stats{}, Windows{Mode: ModeTooFew, KeepAlive: fixed}, 0},
		// 9 idle times < 10.
		{"too few", histogram(map[int]uint32{3: 9}, 0), Windows{Mode: ModeTooFew, KeepAlive: fixed}, 0},
		// 5 of 10 beyond 4 h: share 0.5 >= 0.5.
		{"out of bounds", histogram(map[int]uint32{3: 5}, 5), Windows{Mode: ModeOutOfBounds, KeepAlive: fixed}, 0},
		// 60 idle times, one in each of bins 0..59: CV =
		// sqrt(240·60 − 60²)/60 = sqrt(10800)/60 = sqrt(3) ≈ 1.732 < 2.
		{"uncertain", histogram(spread(60), 0), Windows{Mode: ModeUncertain, KeepAlive: fixed}, math.Sqrt(3)},
		// 48 in bins 0..47: CV = sqrt(240·48 − 48²)/48 = 96/48 = 2, not
		// below 2, so the histogram decides. Head: rank ceil(2.4) = 3,
		// bin 2 → 2 min; tail: rank ceil(47.52) = 48, bin 47 → upper
		// edge 48 min. PW = 0.9 × 2 min = 108 s; end = 1.1 × 48 min =
		// 52.8 min = 3168 s; KA = 3168 − 108 = 3060 s.
		{"at the threshold", histogram(spread(48), 0),
			Windows{Mode: ModeHistogram, PreWarm: 108 * time.Second, KeepAlive: 3060 * time.Second}, 2},
		// A busy action: 19 idle times in bin 0, one in bin 2. CV =
		// sqrt(240·(19² + 1) − 20²)/20 = sqrt(86480)/20 ≈ 14.704. Head:
		// rank 1, bin 0 → no pre-warm window; tail: rank ceil(19.8) = 20,
		// bin 2 → 3 min; KA = 1.1 × 180 s = 198 s.
		{"head in bin 0", histogram(map[int]uint32{0: 19, 2: 1}, 0),
			Windows{Mode: ModeHistogram, KeepAlive: 198 * time.Second}, math.Sqrt(86480) / 20},
		// A timer every 30 min: 20 idle times in bin 29. CV =
		// sqrt(240·400 − 400)/20 = sqrt(95600)/20. Head = 29 min, tail =
		// 30 min; PW = 0.9 × 29 min = 1566 s; end = 1.1 × 30 min = 1980 s;
		// KA = 1980 − 1566 = 414 s.
		{"periodic", histogram(map[int]uint32{29: 20}, 0),
			Windows{Mode: ModeHistogram, PreWarm: 1566 * time.Second, KeepAlive: 414 * time.Second}, math.Sqrt(95600) / 20},
		// 100 idle times: 5 in bin 3, 94 in bin 10, 1 in bin 40. Head:
		// rank 5, cumulative 5 at bin 3 → 3 min; tail: rank 99,
		// cumulative 99 at bin 10 → 11 min (the one in bin 40 is past the
		// 99th percentile). PW = 162 s; end = 1.1 × 660 s = 726 s; KA =
		// 564 s. CV = sqrt(240·(25 + 8836 + 1) − 100²)/100.
		{"outlier beyond the tail", histogram(map[int]uint32{3: 5, 10: 94, 40: 1}, 0),
			Windows{Mode: ModeHistogram, PreWarm: 162 * time.Second, KeepAlive: 564 * time.Second}, math.Sqrt(240*8862-10000) / 100},
		// 4 of 10 beyond the range (0.4 < 0.5): the 6 in range, all in bin
		// 5, decide. Head rank ceil(0.3) = 1, tail rank ceil(5.94) = 6,
		// both bin 5: PW = 0.9 × 300 s = 270 s; end = 1.1 × 360 s = 396 s;
		// KA = 126 s. CV = sqrt(240·36 − 36)/6.
		{"some out of bounds", histogram(map[int]uint32{5: 6}, 4),
			Windows{Mode: ModeHistogram, PreWarm: 270 * time.Second, KeepAlive: 126 * time.Second}, math.Sqrt(240*36-36) / 6},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := k.Windows(c.st)
			if math.Abs(got.CV-c.cv) > 1e-9 {
				t.Errorf("CV = %v, want %v", got.CV, c.cv)
			}
			got.CV = 0
			if got != c.want {
				t.Errorf("Windows = %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestHybridIdleAndPreWarm(t *testing.T) {
	k := mustHybrid(t, DefaultOptions())
	end := at(0)
	periodic := histogram(map[int]uint32{29: 20}, 0) // PW 1566 s, KA 414 s (TestHybridWindows)
	periodic.LastEnd = end
	busy := histogram(map[int]uint32{0: 19, 2: 1}, 0) // PW 0, KA 198 s
	busy.LastEnd = end
	running := histogram(map[int]uint32{29: 20}, 0)
	running.LastEnd, running.Running = end, 1

	idle := []struct {
		name string
		c    Container
		want Plan
	}{
		// A pre-warm window: unloaded at once, at its last use.
		{"periodic", Container{LastUsed: end, Stats: periodic}, Plan{RemoveAt: end}},
		// No pre-warm window: paused after 10 s, removed 198 s after use.
		{"busy", Container{LastUsed: end, Stats: busy}, Plan{PauseAt: at(10 * time.Second), RemoveAt: at(198 * time.Second)}},
		// Too few idle times: the fixed 4 h.
		{"new", Container{LastUsed: end, Stats: &Stats{}}, Plan{PauseAt: at(10 * time.Second), RemoveAt: at(4 * time.Hour)}},
		{"no stats", Container{LastUsed: end}, Plan{PauseAt: at(10 * time.Second), RemoveAt: at(4 * time.Hour)}},
	}
	for _, c := range idle {
		if got := k.Idle(end, c.c); got != c.want {
			t.Errorf("Idle(%s) = %+v, want %+v", c.name, got, c.want)
		}
	}

	pre := []struct {
		name string
		now  time.Time
		st   *Stats
		want Window
	}{
		// Load at end + 1566 s, unload 414 s later, at end + 1980 s.
		{"periodic", at(time.Minute), periodic, Window{LoadAt: at(1566 * time.Second), UnloadAt: at(1980 * time.Second)}},
		// Still worth asking inside the window...
		{"inside", at(1700 * time.Second), periodic, Window{LoadAt: at(1566 * time.Second), UnloadAt: at(1980 * time.Second)}},
		// ...not once it has passed.
		{"passed", at(1980 * time.Second), periodic, Window{}},
		{"no pre-warm window", at(time.Minute), busy, Window{}},
		{"still running", at(time.Minute), running, Window{}},
		{"never finished", at(time.Minute), &Stats{}, Window{}},
	}
	for _, c := range pre {
		if got := k.PreWarm(c.now, c.st); got != c.want {
			t.Errorf("PreWarm(%s) = %+v, want %+v", c.name, got, c.want)
		}
	}
}

// TestHybridObserve drives the policy through Policy's events and checks
// what the histogram recorded.
func TestHybridObserve(t *testing.T) {
	p := mustPolicy(t, HybridHistogram, DefaultOptions())
	st := &Stats{}
	p.Started(st, at(0), StartCold) // first: no idle time
	if st.Idle.Total() != 0 {
		t.Fatalf("first activation recorded %d idle times, want 0", st.Idle.Total())
	}
	p.Started(st, at(time.Second), StartCold) // the first still runs: idle time 0, bin 0
	p.Finished(st, at(2*time.Second), StartCold, 2*time.Second)
	p.Finished(st, at(3*time.Second), StartCold, 2*time.Second)
	// Last end 3 s; arrival at 93 s: idle 90 s, bin 1.
	p.Started(st, at(93*time.Second), StartWarm)
	p.Finished(st, at(94*time.Second), StartWarm, time.Second)
	// Arrival 4 h 1 min 34 s, 4 h after the last end at 1 min 34 s: the
	// range is [0, 4 h), so out of bounds.
	p.Started(st, at(4*time.Hour+94*time.Second), StartWarm)
	// An arrival before the last end (out of order): idle 0.
	p.Finished(st, at(4*time.Hour+95*time.Second), StartWarm, time.Second)
	p.Started(st, at(4*time.Hour), StartWarm)
	h := st.Idle
	if h.Counts[0] != 2 || h.Counts[1] != 1 || h.OutOfBounds != 1 || h.InRange != 3 || len(h.Counts) != 240 || h.Width != time.Minute {
		t.Errorf("histogram: bin0 %d bin1 %d oob %d inRange %d bins %d width %v; want 2 1 1 3 240 1m0s",
			h.Counts[0], h.Counts[1], h.OutOfBounds, h.InRange, len(h.Counts), h.Width)
	}
	if st.Invocations != 5 || st.Running != 1 {
		t.Errorf("invocations %d running %d, want 5 1", st.Invocations, st.Running)
	}
	// A histogram of another shape (another range) starts again.
	o := DefaultOptions()
	o.Hybrid.Bins = 60
	p2 := mustPolicy(t, HybridHistogram, o)
	p2.Started(st, at(5*time.Hour), StartWarm)
	if len(st.Idle.Counts) != 60 || st.Idle.Total() != 1 {
		t.Errorf("reshaped: %d bins, %d idle times; want 60, 1", len(st.Idle.Counts), st.Idle.Total())
	}
}

func TestHybridSmallKnobs(t *testing.T) {
	// Time compressed 60 times for a real-engine replay: 1 s bins over 4
	// min, fixed keep-alive 4 min. 12 idle times of 10.5 s (bin 10): head
	// 10 s, tail 11 s; PW = 9 s, end = 12.1 s, KA = 3.1 s.
	o := DefaultOptions()
	o.Hybrid.BinWidth, o.Hybrid.FallbackKeepAlive, o.Hybrid.OutOfBoundsKeepAlive = time.Second, 4*time.Minute, 4*time.Minute
	p := mustPolicy(t, HybridHistogram, o)
	st := &Stats{}
	for i := range 13 {
		start := at(time.Duration(i) * 11 * time.Second)
		run(p, st, start, StartWarm, 500*time.Millisecond)
	}
	w := p.KeepAlive.(*HybridKeepAlive).Windows(st)
	if w.Mode != ModeHistogram || w.PreWarm != 9*time.Second || w.KeepAlive != 3100*time.Millisecond {
		t.Errorf("Windows = %+v, want histogram, PW 9s, KA 3.1s", w)
	}
}
