package workload

import (
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

func within(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol*want {
		t.Errorf("%s = %.4g, want %.4g ± %.0f%%", what, got, want, tol*100)
	}
}

func TestSimpleGeneratorsKeepRateAndMix(t *testing.T) {
	u := Uniform{Seed: 7, Rate: 500, Duration: 60 * time.Second, Functions: 4, MemoryMB: 256, Exec: 20 * time.Millisecond}
	cases := []struct {
		name    string
		gen     func() (*Workload, error)
		want    float64 // expected arrivals
		rateTol float64
	}{
		{"constant", func() (*Workload, error) { return Constant(u) }, 30000, 0.001},
		{"poisson", func() (*Workload, error) { return Poisson(u) }, 30000, 0.03},
		{"onoff", func() (*Workload, error) {
			return Bursts(OnOff{Uniform: u, On: 2 * time.Second, Off: 3 * time.Second})
		}, 30000 * 2.0 / 5.0, 0.03},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w, err := c.gen()
			if err != nil {
				t.Fatal(err)
			}
			within(t, "arrivals", float64(len(w.Arrivals)), c.want, c.rateTol)
			for i, n := range w.Counts() {
				within(t, w.Functions[i].Name+" share", float64(n), c.want/4, 0.05)
			}
			if !sort.SliceIsSorted(w.Arrivals, func(i, j int) bool { return w.Arrivals[i].At < w.Arrivals[j].At }) {
				t.Error("arrivals are not in time order")
			}
			again, _ := c.gen()
			if !reflect.DeepEqual(w, again) {
				t.Error("the same seed gave a different workload")
			}
		})
	}
}

func TestBurstsAreSilentWhenOff(t *testing.T) {
	w, err := Bursts(OnOff{Uniform: Uniform{Seed: 3, Rate: 1000, Duration: 10 * time.Second, Functions: 1}, On: time.Second, Off: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range w.Arrivals {
		if (a.At/time.Second)%2 == 1 {
			t.Fatalf("arrival at %s falls in an off period", a.At)
		}
	}
}

func TestPoissonGapsAreExponential(t *testing.T) {
	w, _ := Poisson(Uniform{Seed: 11, Rate: 100, Duration: 200 * time.Second, Functions: 1})
	var sum, sq float64
	prev := time.Duration(0)
	for _, a := range w.Arrivals {
		g := (a.At - prev).Seconds()
		sum += g
		sq += g * g
		prev = a.At
	}
	n := float64(len(w.Arrivals))
	mean := sum / n
	cv := math.Sqrt(sq/n-mean*mean) / mean
	within(t, "mean gap", mean, 0.01, 0.03)
	within(t, "coefficient of variation", cv, 1, 0.05) // 1 for an exponential
}

func TestAzureShape(t *testing.T) {
	a := DefaultAzure()
	a.Seed, a.Functions, a.Rate, a.Duration = 42, 2000, 500, 120*time.Second
	w, err := GenerateAzure(a)
	if err != nil {
		t.Fatal(err)
	}
	within(t, "arrivals", float64(len(w.Arrivals)), a.Rate*a.Duration.Seconds(), 0.03)

	counts := w.Counts()
	sorted := append([]int(nil), counts...)
	sort.Sort(sort.Reverse(sort.IntSlice(sorted)))
	top := 0
	for _, c := range sorted[:len(sorted)/5] {
		top += c
	}
	if share := float64(top) / float64(len(w.Arrivals)); share < 0.9 {
		t.Errorf("top 20%% of functions carry %.2f of invocations, want >= 0.9 (heavy tail)", share)
	}
	rare := 0
	for _, c := range counts {
		if c <= 2 {
			rare++
		}
	}
	if frac := float64(rare) / float64(len(counts)); frac < 0.3 {
		t.Errorf("%.2f of functions were invoked at most twice, want >= 0.3 (most functions rare)", frac)
	}
	lo, hi := math.Inf(1), 0.0
	for _, f := range w.Functions {
		lo, hi = math.Min(lo, f.Rate), math.Max(hi, f.Rate)
	}
	if hi/lo < 1e4 {
		t.Errorf("per-function rates span %.3g×, want orders of magnitude (>= 1e4)", hi/lo)
	}
	mem := map[int]int{}
	for _, f := range w.Functions {
		mem[f.MemoryMB]++
		if f.ExecMedian < a.ExecMin || f.ExecMedian > a.ExecMax {
			t.Fatalf("exec median %s outside [%s, %s]", f.ExecMedian, a.ExecMin, a.ExecMax)
		}
	}
	for i, m := range a.MemoryMB {
		within(t, "functions with memory "+strconv.Itoa(m), float64(mem[m]), a.MemoryWeights[i]*float64(a.Functions), 0.1)
	}

	// Daily-like swing: the first half of the "day" (sin > 0) is busier.
	var first, second int
	for _, x := range w.Arrivals {
		if x.At < a.Duration/2 {
			first++
		} else {
			second++
		}
	}
	// E[first]/E[second] = (1 + 2s/π) / (1 - 2s/π) for swing s.
	k := 2 * a.Swing / math.Pi
	within(t, "busy/quiet half ratio", float64(first)/float64(second), (1+k)/(1-k), 0.05)

	again, _ := GenerateAzure(a)
	if !reflect.DeepEqual(w, again) {
		t.Error("the same seed gave a different workload")
	}
	a.Seed++
	other, _ := GenerateAzure(a)
	if reflect.DeepEqual(w.Arrivals[:100], other.Arrivals[:100]) {
		t.Error("another seed gave the same arrivals")
	}
}

func TestReplaySpreadsCountsWithinMinutes(t *testing.T) {
	trace := "HashOwner,HashApp,HashFunction,Trigger,1,2,3\n" +
		"o1,a1,fA,http,3,0,5\n" +
		"o1,a1,fB,timer,1,1,1\n"
	w, err := ReadTrace(strings.NewReader(trace), Replay{Seed: 5, Minute: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if w.Duration != 3*time.Second || len(w.Functions) != 2 || w.Functions[0].Name != "fA" {
		t.Fatalf("got duration %s, functions %+v", w.Duration, w.Functions)
	}
	perMinute := map[[2]int]int{}
	for _, a := range w.Arrivals {
		perMinute[[2]int{a.Function, int(a.At / time.Second)}]++
	}
	want := map[[2]int]int{{0, 0}: 3, {0, 2}: 5, {1, 0}: 1, {1, 1}: 1, {1, 2}: 1}
	if !reflect.DeepEqual(perMinute, want) {
		t.Errorf("arrivals per (function, minute) = %v, want %v", perMinute, want)
	}
	// Spread, not bunched at the minute start.
	distinct := map[time.Duration]bool{}
	for _, a := range w.Arrivals {
		distinct[a.At] = true
	}
	if len(distinct) != len(w.Arrivals) {
		t.Errorf("%d arrivals share %d instants; want them spread", len(w.Arrivals), len(distinct))
	}
}

func TestReplayRejectsBadInput(t *testing.T) {
	cases := map[string]string{
		"no header":      "",
		"wrong header":   "a,b,c,d,1\n",
		"negative count": "HashOwner,HashApp,HashFunction,Trigger,1\no,a,f,http,-1\n",
		"not a number":   "HashOwner,HashApp,HashFunction,Trigger,1\no,a,f,http,x\n",
		"short row":      "HashOwner,HashApp,HashFunction,Trigger,1,2\no,a,f,http,1\n",
	}
	for name, in := range cases {
		if _, err := ReadTrace(strings.NewReader(in), Replay{}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestGeneratorsRejectBadParameters(t *testing.T) {
	if _, err := Poisson(Uniform{Rate: 0, Duration: time.Second, Functions: 1}); err == nil {
		t.Error("rate 0 accepted")
	}
	if _, err := Constant(Uniform{Rate: 1, Duration: time.Second}); err == nil {
		t.Error("0 functions accepted")
	}
	a := DefaultAzure()
	a.Swing = 1
	if _, err := GenerateAzure(a); err == nil {
		t.Error("swing 1 accepted")
	}
}

// TestAzureStreamIsTheWorkload checks that the stream gives, one at a time,
// exactly the arrivals GenerateAzure holds, and stops at the end.
func TestAzureStreamIsTheWorkload(t *testing.T) {
	a := DefaultAzure()
	a.Seed, a.Functions, a.Rate, a.Duration = 5, 50, 40, 30*time.Second
	w, err := GenerateAzure(a)
	if err != nil {
		t.Fatal(err)
	}
	st, err := NewAzureStream(a)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(st.Functions, w.Functions) {
		t.Fatal("the stream's functions differ from the workload's")
	}
	var got []Arrival
	for x, ok := st.Next(); ok; x, ok = st.Next() {
		got = append(got, x)
	}
	if len(got) < 500 || !reflect.DeepEqual(got, w.Arrivals) {
		t.Fatalf("the stream gave %d arrivals, the workload holds %d, or they differ", len(got), len(w.Arrivals))
	}
	if _, ok := st.Next(); ok {
		t.Fatal("the stream gave an arrival after its end")
	}
}

// TestAzureTimers checks the timer-triggered share: about that share of
// the functions fire every period of theirs within the jitter, the others
// keep the Poisson rate, and the stream stays in time order.
func TestAzureTimers(t *testing.T) {
	a := DefaultAzure()
	a.Seed, a.Functions, a.Rate, a.Duration, a.Swing = 9, 200, 5, 3*time.Hour, 0
	a.TimerShare = 0.3
	st, err := NewAzureStream(a)
	if err != nil {
		t.Fatal(err)
	}
	periodOf := map[int]time.Duration{}
	for i, f := range st.Functions {
		if f.Period > 0 {
			periodOf[i] = f.Period
		}
	}
	within(t, "timer functions", float64(len(periodOf)), 60, 0.25)
	last := map[int]time.Duration{}
	var prev time.Duration
	poisson := 0
	for x, ok := st.Next(); ok; x, ok = st.Next() {
		if x.At < prev {
			t.Fatalf("arrival at %s after one at %s", x.At, prev)
		}
		prev = x.At
		p, timer := periodOf[x.Function]
		if !timer {
			poisson++
			continue
		}
		if l, seen := last[x.Function]; seen {
			if gap := x.At - l; gap < p-time.Second || gap > p+time.Second {
				t.Fatalf("function %d (period %s) fired %s after its previous firing", x.Function, p, gap)
			}
		}
		last[x.Function] = x.At
	}
	within(t, "Poisson arrivals", float64(poisson), a.Rate*a.Duration.Seconds(), 0.05)
	a.TimerShare = 1.5
	if _, err := NewAzureStream(a); err == nil {
		t.Fatal("a timer share of 1.5 was accepted")
	}
}
