package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/pflag"

	"github.com/stemcell-io/stemcell/bench/workload"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory"
	"github.com/stemcell-io/stemcell/factory/fake"
)

// fakeFlags are the fake factory's latencies, each "FIXED[+JITTER]" (a
// uniform draw from [0, JITTER) on top of FIXED). The defaults follow the
// engine's lifecycle latencies measured on these machines: create and start
// ~200 ms (p90 ~250), pause and unpause ~10 ms, rm -f ~100 ms.
type fakeFlags struct {
	Create  string `json:"create"`
	Init    string `json:"init"`
	Run     string `json:"run"`
	Suspend string `json:"suspend"`
	Resume  string `json:"resume"`
	Destroy string `json:"destroy"`
}

func (f *fakeFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.Create, "fake-create", "190ms+60ms", "fake target: container create latency, FIXED[+JITTER]")
	fs.StringVar(&f.Init, "fake-init", "5ms+5ms", "fake target: /init latency")
	fs.StringVar(&f.Run, "fake-run", "1ms", "fake target: /run overhead on top of the arrival's execution time")
	fs.StringVar(&f.Suspend, "fake-suspend", "10ms", "fake target: pause latency")
	fs.StringVar(&f.Resume, "fake-resume", "10ms", "fake target: unpause latency")
	fs.StringVar(&f.Destroy, "fake-destroy", "90ms+30ms", "fake target: container removal latency")
}

func (f *fakeFlags) latencies() (fake.Latencies, error) {
	var ls fake.Latencies
	for _, x := range []struct {
		flag, text string
		into       *fake.Latency
	}{
		{"fake-create", f.Create, &ls.Create}, {"fake-init", f.Init, &ls.Init}, {"fake-run", f.Run, &ls.Run},
		{"fake-suspend", f.Suspend, &ls.Suspend}, {"fake-resume", f.Resume, &ls.Resume}, {"fake-destroy", f.Destroy, &ls.Destroy},
	} {
		l, err := parseLatency(x.text)
		if err != nil {
			return ls, fmt.Errorf("--%s: %w", x.flag, err)
		}
		*x.into = l
	}
	return ls, nil
}

func parseLatency(text string) (fake.Latency, error) {
	fixed, jitter, hasJitter := strings.Cut(strings.TrimSpace(text), "+")
	var l fake.Latency
	var err error
	if l.Fixed, err = time.ParseDuration(fixed); err != nil || l.Fixed < 0 {
		return l, fmt.Errorf("%q is invalid: want FIXED[+JITTER] durations >= 0, e.g. 250ms+100ms", text)
	}
	if hasJitter {
		if l.Jitter, err = time.ParseDuration(jitter); err != nil || l.Jitter < 0 {
			return l, fmt.Errorf("%q is invalid: want FIXED[+JITTER] durations >= 0, e.g. 250ms+100ms", text)
		}
	}
	return l, nil
}

// okResult is what every fake run answers.
var okResult = json.RawMessage(`{"ok":true}`)

// execRun makes a fake run last the arrival's execution time, which the
// activation carries as exec_ms. The wait is the simulated work itself.
func execRun(_ *fake.Container, req factory.RunRequest) factory.Outcome {
	start := time.Now()
	var p struct {
		ExecMS float64 `json:"exec_ms"`
	}
	if err := json.Unmarshal(req.Params, &p); err != nil {
		return factory.Outcome{Start: start, End: time.Now(), Status: factory.StatusApplicationError,
			Result: json.RawMessage(`{"error":"bench: params must be {\"exec_ms\": N}"}`)}
	}
	if d := time.Duration(p.ExecMS * float64(time.Millisecond)); d > 0 {
		t := time.NewTimer(d)
		<-t.C
	}
	return factory.Outcome{Start: start, End: time.Now(), Status: factory.StatusSuccess, Result: okResult}
}

// newFakeTarget runs the pool in-process on the fake factory. The seed
// makes both sides of a comparison draw the same latencies.
func newFakeTarget(cfg *config.Config, ls fake.Latencies, seed int64, kind string, w *workload.Workload,
	timeout time.Duration, log zerolog.Logger, name string) (*poolTarget, error) {
	fac := fake.New(fake.Options{Latency: ls, Seed: uint64(seed), Run: execRun})
	return newPoolTarget(cfg, fac, func() error { return nil }, kind, w, timeout, log, name)
}
