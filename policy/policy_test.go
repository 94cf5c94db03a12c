package policy

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stemcell-io/stemcell/config"
)

func TestNew(t *testing.T) {
	cases := []struct{ name, keepAlive, eviction string }{
		{OpenWhisk, OpenWhisk, OpenWhisk},
		{GreedyDual, GreedyDual, GreedyDual},
		{HybridHistogram, HybridHistogram, OpenWhisk},
		{HybridGreedyDual, HybridHistogram, GreedyDual},
	}
	for _, c := range cases {
		p := mustPolicy(t, c.name, DefaultOptions())
		if p.KeepAlive.Name() != c.keepAlive || p.Eviction.Name() != c.eviction {
			t.Errorf("New(%q) = %s + %s, want %s + %s", c.name, p.KeepAlive.Name(), p.Eviction.Name(), c.keepAlive, c.eviction)
		}
	}
	if want := []string{GreedyDual, HybridGreedyDual, HybridHistogram, OpenWhisk}; !slices.Equal(Names(), want) {
		t.Errorf("Names = %v, want %v", Names(), want)
	}
	p, err := Compose(HybridHistogram, GreedyDual, DefaultOptions())
	if err != nil || p.KeepAlive.Name() != HybridHistogram || p.Eviction.Name() != GreedyDual {
		t.Errorf("Compose = %v, %v", p, err)
	}
}

func TestNewUnknown(t *testing.T) {
	cases := []struct {
		what string
		err  func() error
		want string
	}{
		{"New", func() error { _, err := New("lru", DefaultOptions()); return err },
			`policy: policy "lru": unknown policy: must be one of greedy-dual, hybrid-greedy-dual, hybrid-histogram, openwhisk`},
		{"NewKeepAlive", func() error { _, err := NewKeepAlive("ttl", DefaultOptions()); return err },
			`policy: keep-alive policy "ttl": unknown policy: must be one of greedy-dual, hybrid-histogram, openwhisk`},
		{"NewEviction", func() error { _, err := NewEviction(HybridHistogram, DefaultOptions()); return err },
			`policy: eviction policy "hybrid-histogram": unknown policy: must be one of greedy-dual, openwhisk`},
	}
	for _, c := range cases {
		err := c.err()
		if !errors.Is(err, ErrUnknown) || err.Error() != c.want {
			t.Errorf("%s: error %v, want %s", c.what, err, c.want)
		}
	}
	// Compose reports both names at once.
	_, err := Compose("a", "b", DefaultOptions())
	if err == nil || !strings.Contains(err.Error(), `"a"`) || !strings.Contains(err.Error(), `"b"`) {
		t.Errorf("Compose(a, b): %v, want both names", err)
	}
}

func TestOptionsValidate(t *testing.T) {
	if err := DefaultOptions().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	cases := []struct {
		name   string
		mutate func(*Options)
		policy string // constructed with New, which must fail the same way
		want   string
	}{
		{"pause grace", func(o *Options) { o.PauseGrace = -time.Second }, OpenWhisk, "pause-grace: -1s is invalid: must be >= 0"},
		{"idle", func(o *Options) { o.OpenWhisk.IdleContainer = 0 }, OpenWhisk, "openwhisk.idle-container: 0s is invalid: must be > 0"},
		{"cost", func(o *Options) { o.GreedyDual.DefaultCost = 0 }, GreedyDual, "greedy-dual.default-cost: 0s is invalid: must be > 0"},
		{"gd ttl", func(o *Options) { o.GreedyDual.KeepAlive = -1 }, GreedyDual, "greedy-dual.keep-alive: -1ns is invalid"},
		{"bin width", func(o *Options) { o.Hybrid.BinWidth = 0 }, HybridHistogram, "hybrid-histogram.bin-width: 0s is invalid: must be > 0"},
		{"bins", func(o *Options) { o.Hybrid.Bins = 0 }, HybridHistogram, "hybrid-histogram.bins: 0 is invalid: must be >= 1"},
		{"head", func(o *Options) { o.Hybrid.HeadPercentile = 0 }, HybridHistogram, "hybrid-histogram.head-percentile: 0 is invalid"},
		{"tail below head", func(o *Options) { o.Hybrid.TailPercentile = 5 }, HybridHistogram, "hybrid-histogram.tail-percentile: 5 is invalid: must be in (head-percentile 5, 100]"},
		{"tail NaN", func(o *Options) { o.Hybrid.TailPercentile = math.NaN() }, HybridHistogram, "hybrid-histogram.tail-percentile: NaN is invalid"},
		{"margin", func(o *Options) { o.Hybrid.Margin = 1 }, HybridHistogram, "hybrid-histogram.margin: 1 is invalid: must be in [0, 1)"},
		{"cv", func(o *Options) { o.Hybrid.CVThreshold = math.Inf(1) }, HybridHistogram, "hybrid-histogram.cv-threshold: +Inf is invalid"},
		{"min", func(o *Options) { o.Hybrid.MinObservations = 0 }, HybridHistogram, "hybrid-histogram.min-observations: 0 is invalid"},
		{"oob share", func(o *Options) { o.Hybrid.MaxOutOfBounds = 0 }, HybridHistogram, "hybrid-histogram.max-out-of-bounds: 0 is invalid: must be in (0, 1]"},
		{"fallback", func(o *Options) { o.Hybrid.FallbackKeepAlive = 0 }, HybridHistogram, "hybrid-histogram.fallback-keep-alive: 0s is invalid"},
		{"oob keep", func(o *Options) { o.Hybrid.OutOfBoundsKeepAlive = -time.Minute }, HybridHistogram, "hybrid-histogram.out-of-bounds-keep-alive: -1m0s is invalid"},
	}
	for _, c := range cases {
		o := DefaultOptions()
		c.mutate(&o)
		err := o.Validate()
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Validate = %v, want %q", c.name, err, c.want)
		}
		if _, errNew := New(c.policy, o); errNew == nil || !strings.Contains(errNew.Error(), c.want) {
			t.Errorf("%s: New(%s) = %v, want %q", c.name, c.policy, errNew, c.want)
		}
	}
	// A policy checks only its own knobs: openwhisk does not care about
	// the histogram.
	o := DefaultOptions()
	o.Hybrid.Bins = 0
	if _, err := New(OpenWhisk, o); err != nil {
		t.Errorf("New(openwhisk) with a bad hybrid knob: %v", err)
	}
}

func TestFromConfig(t *testing.T) {
	cfg := config.Default()
	cfg.ContainerProxy.Timeouts.PauseGrace = 50 * time.Millisecond
	cfg.ContainerProxy.Timeouts.IdleContainer = 3 * time.Minute
	o := FromConfig(cfg)
	if o.PauseGrace != 50*time.Millisecond || o.OpenWhisk.IdleContainer != 3*time.Minute {
		t.Errorf("FromConfig: grace %v idle %v", o.PauseGrace, o.OpenWhisk.IdleContainer)
	}
	if FromConfig(nil) != DefaultOptions() {
		t.Errorf("FromConfig(nil) = %+v, want the defaults", FromConfig(nil))
	}
	d := DefaultOptions()
	if d.PauseGrace != 10*time.Second || d.OpenWhisk.IdleContainer != 10*time.Minute || d.Hybrid.Range() != 4*time.Hour {
		t.Errorf("DefaultOptions: grace %v idle %v range %v; want 10s 10m 4h", d.PauseGrace, d.OpenWhisk.IdleContainer, d.Hybrid.Range())
	}
}

func TestStatsMeasure(t *testing.T) {
	p := mustPolicy(t, OpenWhisk, DefaultOptions())
	st := &Stats{}
	if _, ok := st.ColdCost(); ok {
		t.Fatal("ColdCost with nothing measured: ok")
	}
	run(p, st, at(0), StartCold, 1200*time.Millisecond)
	run(p, st, at(time.Minute), StartCold, 1000*time.Millisecond)
	run(p, st, at(2*time.Minute), StartPrewarmed, 700*time.Millisecond) // measured in neither
	if _, ok := st.ColdCost(); ok {
		t.Fatal("ColdCost with no warm run: ok")
	}
	run(p, st, at(3*time.Minute), StartWarm, 100*time.Millisecond)
	run(p, st, at(4*time.Minute), StartWarm, 300*time.Millisecond)
	p.Started(st, at(5*time.Minute), StartCold)
	p.Finished(st, at(5*time.Minute), StartCold, 0) // failed before running: not measured
	// Cold (1200 + 1000) / 2 = 1100 ms, warm (100 + 300) / 2 = 200 ms.
	if cost, ok := st.ColdCost(); !ok || cost != 900*time.Millisecond {
		t.Errorf("ColdCost = %v, %v; want 900ms", cost, ok)
	}
	// Started cold 3 times, prewarmed once, warm twice.
	if st.Starts != [NumStarts]uint64{StartWarm: 2, StartPrewarmed: 1, StartCold: 3} {
		t.Errorf("Starts = %v, want warm 2, prewarmed 1, cold 3", st.Starts)
	}
	if st.Invocations != 6 || st.Frequency != 6 || st.Running != 0 || st.LastEnd != at(5*time.Minute) {
		t.Errorf("stats %+v", st)
	}
	// A Finished without its Started does not drive Running below 0.
	p.Finished(st, at(time.Hour), StartWarm, time.Second)
	if st.Running != 0 {
		t.Errorf("Running = %d, want 0", st.Running)
	}
	// Removing the last container restarts the frequency, not the count.
	p.Removed(Container{Stats: st}, false, true)
	if st.Frequency != 0 || st.Invocations != 6 {
		t.Errorf("after the last removal: frequency %d invocations %d; want 0, 6", st.Frequency, st.Invocations)
	}
	p.Removed(Container{StemCell: true}, true, true) // no stats: nothing to do, no panic
}

func TestNames(t *testing.T) {
	for s, want := range map[Start]string{StartWarm: "warm", StartPrewarmed: "prewarmed", StartCold: "cold", 9: "start?"} {
		if s.String() != want {
			t.Errorf("Start(%d) = %q, want %q", s, s.String(), want)
		}
	}
	for m, want := range map[Mode]string{ModeTooFew: "too-few", ModeOutOfBounds: "out-of-bounds", ModeUncertain: "uncertain", ModeHistogram: "histogram", 9: "mode?"} {
		if m.String() != want {
			t.Errorf("Mode(%d) = %q, want %q", m, m.String(), want)
		}
	}
}
