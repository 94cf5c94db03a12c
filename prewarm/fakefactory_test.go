package prewarm

import (
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
	"github.com/stemcell-io/stemcell/factory/fake"
)

// These tests put the real factory actor, over the in-memory fake factory,
// behind the scheduler: creations complete on the factory actor's
// goroutines, so they wait on the pool's log instead of settling.

func TestFakeFactoryInitialStock(t *testing.T) {
	f := fake.New(fake.Options{})
	h := newHarness(t, testConfig(config.StemCell{InitialCount: 3, Memory: 256 * config.MB}),
		testOpts{factory: actors.NewFactoryProps(f, zerolog.Nop())})
	h.waitFor("3 stem cells", func() bool { return len(poolMsgs[*actors.StemCellReady](h)) == 3 })
	h.settle()
	live := f.Live()
	if len(live) != 3 {
		t.Fatalf("%d live containers in the factory, want 3", len(live))
	}
	names := map[string]bool{}
	for _, c := range live {
		sp := c.Spec()
		names[sp.Name] = true
		if sp.Action != nil || sp.Kind != "js:goja" || sp.Memory != 256*config.MB {
			t.Errorf("container %s spec %+v is not a 256 MB js:goja stem cell", c.ID(), sp)
		}
	}
	if len(names) != 3 {
		t.Errorf("container names %v are not unique", names)
	}
	if got := h.state().Ready[nodeKey]; got != 3 {
		t.Errorf("%d ready, want 3", got)
	}
}

func TestFakeFactoryRetryLimit(t *testing.T) {
	f := fake.New(fake.Options{Faults: fake.Always(fake.OpCreate, fake.FaultError)})
	cfg := testConfig(config.StemCell{InitialCount: 2, Memory: 256 * config.MB})
	cfg.ContainerPool.PrewarmMaxRetryLimit = 3
	cfg.ContainerPool.PrewarmExpirationCheckIntervalVariance = nil
	h := newHarness(t, cfg, testOpts{factory: actors.NewFactoryProps(f, zerolog.Nop())})
	h.waitFor("3 failed attempts", func() bool { return len(poolMsgs[*actors.ReleaseMemory](h)) == 3 })
	h.settle()
	h.advance(59*time.Second, time.Second)
	if got := f.Calls(fake.OpCreate); got != 3 {
		t.Fatalf("%d create calls before the first check, want 3", got)
	}
	h.clock.Advance(time.Second) // the check resets the counter
	h.waitFor("3 more attempts", func() bool { return len(poolMsgs[*actors.ReleaseMemory](h)) == 6 })
	h.settle()
	if got := f.Calls(fake.OpCreate); got != 6 {
		t.Errorf("%d create calls after the check, want 6", got)
	}
}
