package prewarm

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/stemcell-io/stemcell/actors"
	"github.com/stemcell-io/stemcell/config"
)

func TestInitialStockIsCreated(t *testing.T) {
	cfg := testConfig(
		config.StemCell{InitialCount: 3, Memory: 256 * config.MB},
		config.StemCell{InitialCount: 1, Memory: 512 * config.MB,
			Reactive: &config.ReactiveConfig{MinCount: 0, MaxCount: 2, TTL: time.Minute, Threshold: 1, Increment: 1}},
	)
	h := newHarness(t, cfg, testOpts{})

	reserves := poolMsgs[*actors.ReserveMemory](h)
	readies := poolMsgs[*actors.StemCellReady](h)
	if len(reserves) != 4 || len(readies) != 4 {
		t.Fatalf("got %d reservations and %d stem cells, want 4 and 4", len(reserves), len(readies))
	}
	byMem := map[config.ByteSize]int{}
	for _, r := range readies {
		byMem[r.Memory]++
		if r.Kind != "js:goja" || r.Container == nil || !r.Created.Equal(t0) {
			t.Errorf("stem cell %+v: want kind js:goja, a container, created at t0", r)
		}
		switch r.Memory {
		case 256 * config.MB:
			if !r.Expires.IsZero() {
				t.Errorf("fixed stem cell %d expires at %v, want never", r.Ref, r.Expires)
			}
		case 512 * config.MB:
			if want := t0.Add(time.Minute); !r.Expires.Equal(want) {
				t.Errorf("reactive stem cell %d expires at %v, want %v", r.Ref, r.Expires, want)
			}
		}
	}
	if byMem[256*config.MB] != 3 || byMem[512*config.MB] != 1 {
		t.Errorf("stock by memory %v, want 3 of 256 MB and 1 of 512 MB", byMem)
	}
	h.mu.Lock()
	creates := append([]event(nil), h.creates...)
	h.mu.Unlock()
	for _, e := range creates {
		sp := e.msg.(*actors.CreateContainer).Spec
		if !strings.HasPrefix(sp.Name, "t-prewarm_") || !strings.Contains(sp.Name, "_prewarm_jsgoja") ||
			sp.Image.Name != "action-runtime" || sp.UserProvided || sp.Kind != "js:goja" ||
			sp.Action != nil || sp.CPUShares != cfg.ContainerPool.CPUShare(sp.Memory) {
			t.Errorf("spec %+v is not a stem cell spec", sp)
		}
	}
	if got := metricValue(t, h, "stemcell_prewarm_stock_containers", "memory_mb", "256", "state", stateReady); got != 3 {
		t.Errorf("ready gauge for 256 MB = %v, want 3", got)
	}
}

func TestBackfill(t *testing.T) {
	fixed := config.StemCell{InitialCount: 2, Memory: 256 * config.MB}
	reactive := config.StemCell{InitialCount: 3, Memory: 256 * config.MB,
		Reactive: &config.ReactiveConfig{MinCount: 2, MaxCount: 4, TTL: time.Hour, Threshold: 1, Increment: 1}}
	tests := []struct {
		name      string
		cell      config.StemCell
		event     func(ref uint64) any
		wantReady int // after the event
		wantNew   int // creations caused by the event
	}{
		{"taken is replaced", fixed,
			func(ref uint64) any {
				return &actors.StemCellTaken{Ref: ref, Kind: "js:goja", Memory: 256 * config.MB}
			}, 2, 1},
		{"removed with replace is replaced", fixed,
			func(ref uint64) any { return &actors.StemCellRemoved{Ref: ref, Replace: true} }, 2, 1},
		{"removed without replace is not", fixed,
			func(ref uint64) any { return &actors.StemCellRemoved{Ref: ref} }, 1, 0},
		{"reactive taken refills to the minimum only", reactive,
			func(ref uint64) any {
				return &actors.StemCellTaken{Ref: ref, Kind: "js:goja", Memory: 256 * config.MB}
			}, 2, 0},
		{"unknown ref changes nothing", fixed,
			func(uint64) any {
				return &actors.StemCellTaken{Ref: 1 << 62, Kind: "js:goja", Memory: 256 * config.MB}
			}, 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, testConfig(tt.cell), testOpts{})
			readies := poolMsgs[*actors.StemCellReady](h)
			if len(readies) != tt.cell.InitialCount {
				t.Fatalf("%d stem cells at start, want %d", len(readies), tt.cell.InitialCount)
			}
			before := h.createCount()
			h.sys.Root.Send(h.sched, tt.event(readies[0].Ref))
			h.settle()
			if got := h.createCount() - before; got != tt.wantNew {
				t.Errorf("%d creations after the event, want %d", got, tt.wantNew)
			}
			if got := h.state().Ready[nodeKey]; got != tt.wantReady {
				t.Errorf("%d ready after the event, want %d", got, tt.wantReady)
			}
		})
	}
}

// TestThrottle checks invariant 6 on the actor: with max-concurrent 2,
// creation-delay 5 s and 10 stem cells missing, creations in flight (memory
// asked and not yet ready or released) never exceed 2, and rounds are at
// least 5 s apart, whether creation is faster or slower than the delay.
func TestThrottle(t *testing.T) {
	for _, hold := range []time.Duration{0, time.Second, 7 * time.Second, 12 * time.Second} {
		t.Run("creation takes "+hold.String(), func(t *testing.T) {
			cfg := testConfig(config.StemCell{InitialCount: 10, Memory: 256 * config.MB})
			cfg.ContainerPool.PrewarmContainerCreationConfig = &config.PrewarmContainerCreationConfig{
				MaxConcurrent: 2, CreationDelay: 5 * time.Second,
			}
			h := newHarness(t, cfg, testOpts{mode: factoryHold})
			if got := metricValue(t, h, "stemcell_prewarm_throttle_queue_length"); got != 8 {
				t.Errorf("throttle queue length %v at start, want 8 (10 missing, 2 started)", got)
			}
			if got := metricValue(t, h, "stemcell_prewarm_stock_megabytes", "state", stateCreating); got != 512 {
				t.Errorf("creating stock %v MB at start, want 512 (2 x 256 MB)", got)
			}
			started := map[uint64]time.Time{}
			for step := 0; step < 120 && len(poolMsgs[*actors.StemCellReady](h)) < 10; step++ {
				now := h.clock.Now()
				for _, ref := range h.heldRefs() {
					if _, ok := started[ref]; !ok {
						started[ref] = now
					}
					if !now.Before(started[ref].Add(hold)) {
						h.complete(ref)
					}
				}
				h.advance(time.Second, time.Second)
			}
			if got := len(poolMsgs[*actors.StemCellReady](h)); got != 10 {
				t.Fatalf("%d of 10 stem cells ready after 2 minutes", got)
			}
			checkThrottle(t, h, 2, 5*time.Second)
		})
	}
}

// checkThrottle replays the pool's log: in flight is reservations minus
// stem cells ready or released; a round is a distinct time reservations
// arrived at.
func checkThrottle(t *testing.T, h *harness, maxConcurrent int, delay time.Duration) {
	t.Helper()
	h.mu.Lock()
	log := append([]event(nil), h.poolLog...)
	h.mu.Unlock()
	inFlight, peak := 0, 0
	var rounds []time.Time
	for _, e := range log {
		switch e.msg.(type) {
		case *actors.ReserveMemory:
			inFlight++
			if len(rounds) == 0 || !rounds[len(rounds)-1].Equal(e.at) {
				rounds = append(rounds, e.at)
			}
		case *actors.StemCellReady, *actors.ReleaseMemory:
			inFlight--
		}
		peak = max(peak, inFlight)
		if inFlight > maxConcurrent {
			t.Errorf("at %v: %d creations in flight > max-concurrent %d", e.at.Sub(t0), inFlight, maxConcurrent)
		}
	}
	if peak != maxConcurrent {
		t.Errorf("peak in flight %d, want the throttle used fully (%d)", peak, maxConcurrent)
	}
	for i := 1; i < len(rounds); i++ {
		if gap := rounds[i].Sub(rounds[i-1]); gap < delay {
			t.Errorf("rounds at %v and %v are %v apart < %v", rounds[i-1].Sub(t0), rounds[i].Sub(t0), gap, delay)
		}
	}
	t.Logf("%d rounds at %v", len(rounds), func() (out []time.Duration) {
		for _, r := range rounds {
			out = append(out, r.Sub(t0))
		}
		return
	}())
}

// TestCheckDelays checks that the expiry checks come after the init delay,
// then after interval + uniform[0, variance), a new draw each time.
func TestCheckDelays(t *testing.T) {
	cfg := testConfig(config.StemCell{InitialCount: 1, Memory: 256 * config.MB})
	cfg.ContainerPool.PrewarmExpirationCheckInitDelay = 30 * time.Second
	interval, variance := time.Minute, 10*time.Second
	cfg.ContainerPool.PrewarmExpirationCheckInterval = interval
	cfg.ContainerPool.PrewarmExpirationCheckIntervalVariance = &variance
	h := newHarness(t, cfg, testOpts{})
	next := h.state().NextCheck
	if want := t0.Add(30 * time.Second); !next.Equal(want) {
		t.Fatalf("first check at %v, want after the init delay at %v", next.Sub(t0), want.Sub(t0))
	}
	seen := map[time.Duration]bool{}
	for i := range 8 {
		h.clock.Advance(next.Sub(h.clock.Now()))
		h.settle()
		at := h.clock.Now()
		next = h.state().NextCheck
		d := next.Sub(at)
		if d < interval || d >= interval+variance {
			t.Errorf("check %d: next delay %v outside [%v, %v)", i, d, interval, interval+variance)
		}
		seen[d] = true
	}
	if len(seen) < 6 {
		t.Errorf("only %d distinct delays over 8 checks: the jitter is not drawn anew", len(seen))
	}
}

// TestExpiry: expired stem cells go oldest first, at most the limit per
// check, whatever the minimum; the same check's backfill brings the stock
// back up to the minimum.
func TestExpiry(t *testing.T) {
	tests := []struct {
		name        string
		minCount    int
		wantRemoved []int // per check
		wantReady   []int // after each check
	}{
		{"minimum 0: the stock drains", 0, []int{2, 2, 1}, []int{3, 1, 0}},
		// The third check removes the last original and the replacement
		// made by the second check, which has expired too.
		{"minimum 2: the stock is recycled", 2, []int{2, 2, 2}, []int{3, 2, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(config.StemCell{InitialCount: 5, Memory: 256 * config.MB,
				Reactive: &config.ReactiveConfig{MinCount: tt.minCount, MaxCount: 5, TTL: 30 * time.Second, Threshold: 1, Increment: 1}})
			cfg.ContainerPool.PrewarmExpirationLimit = 2
			cfg.ContainerPool.PrewarmExpirationCheckIntervalVariance = nil
			h := newHarness(t, cfg, testOpts{mode: factoryHold})
			held := h.heldRefs()
			if len(held) != 5 {
				t.Fatalf("%d creations at start, want 5", len(held))
			}
			// Finish them one second apart in an order unlike the refs', so
			// the oldest deadline is not the smallest ref.
			order := []uint64{held[3], held[0], held[4], held[2], held[1]}
			for _, ref := range order {
				h.complete(ref)
				h.advance(time.Second, time.Second)
			}
			h.mode.Store(int32(factoryOK)) // replacements come at once
			var removed []uint64
			for check := 0; check < 3; check++ {
				h.clock.Advance(h.state().NextCheck.Sub(h.clock.Now()))
				h.settle()
				rm := poolMsgs[*actors.RemoveStemCell](h)
				newly := rm[len(removed):]
				if len(newly) != tt.wantRemoved[check] {
					t.Fatalf("check %d removed %d, want %d (limit 2)", check, len(newly), tt.wantRemoved[check])
				}
				for _, r := range newly {
					if r.Reason != "expired" {
						t.Errorf("removal reason %q, want expired", r.Reason)
					}
					removed = append(removed, r.Ref)
					h.sys.Root.Send(h.sched, &actors.StemCellRemoved{Ref: r.Ref})
				}
				h.settle()
				if got := h.state().Ready[nodeKey]; got != tt.wantReady[check] {
					t.Errorf("check %d: %d ready, want %d", check, got, tt.wantReady[check])
				}
			}
			if want := order; !equalRefs(removed[:5], want) {
				t.Errorf("removal order %v, want oldest first %v", removed[:5], want)
			}
			if got, want := metricValue(t, h, "stemcell_prewarm_expiries_total"), float64(len(removed)); got != want {
				t.Errorf("expiries counter %v, want %v", got, want)
			}
		})
	}
}

func equalRefs(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestReactiveSizing: threshold 1, increment 1, max 4: the check after 2
// cold starts brings the stock to 2, after 5 to 4 (capped), after none (and
// the TTL) back to the minimum.
func TestReactiveSizing(t *testing.T) {
	cfg := testConfig(config.StemCell{InitialCount: 1, Memory: 256 * config.MB,
		Reactive: &config.ReactiveConfig{MinCount: 1, MaxCount: 4, TTL: 90 * time.Second, Threshold: 1, Increment: 1}})
	cfg.ContainerPool.PrewarmExpirationCheckIntervalVariance = nil
	h := newHarness(t, cfg, testOpts{})
	cold := func(n int, kind string, mem config.ByteSize) {
		for range n {
			h.sys.Root.Send(h.sched, &actors.ColdStart{Kind: kind, Memory: mem})
		}
	}
	check := func() {
		h.clock.Advance(h.state().NextCheck.Sub(h.clock.Now()))
		h.settle()
	}
	steps := []struct {
		name  string
		cold  int
		other int // cold starts of another memory, which must not count
		want  int
	}{
		{"2 cold starts give 2", 2, 3, 2},
		{"5 cold starts give 4", 5, 0, 4},
		// The counts reset at each check: 1 gives the minimum, 1. The stem
		// cell made at the first check expires; the 3 made at the second
		// stay until their TTL runs out.
		{"1 cold start: only the expired one goes", 1, 0, 3},
		{"none and all expired gives the minimum", 0, 0, 1},
	}
	for _, st := range steps {
		cold(st.cold, "js:goja", 256*config.MB)
		cold(st.other, "js:goja", 512*config.MB)
		check()
		// Removals the check asked for complete at once.
		for _, r := range poolMsgs[*actors.RemoveStemCell](h) {
			h.sys.Root.Send(h.sched, &actors.StemCellRemoved{Ref: r.Ref})
		}
		h.settle()
		if got := h.state().Ready[nodeKey]; got != st.want {
			t.Errorf("%s: %d ready, want %d", st.name, got, st.want)
		}
	}
	if got := metricValue(t, h, "stemcell_prewarm_cold_starts_total", "memory_mb", "256"); got != 8 {
		t.Errorf("cold starts counter %v, want 8 (one per cold start)", got)
	}
}

// TestRetryLimit: with a factory that always fails and a retry limit of 3,
// exactly 3 attempts happen before the next check, which allows 3 more.
func TestRetryLimit(t *testing.T) {
	tests := []struct {
		name    string
		initial int
		thr     *config.PrewarmContainerCreationConfig
	}{
		{"one at a time", 1, nil},
		{"two at once", 2, nil},
		{"ten missing behind a throttle of 2", 10, &config.PrewarmContainerCreationConfig{MaxConcurrent: 2, CreationDelay: 5 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(config.StemCell{InitialCount: tt.initial, Memory: 256 * config.MB})
			cfg.ContainerPool.PrewarmMaxRetryLimit = 3
			cfg.ContainerPool.PrewarmContainerCreationConfig = tt.thr
			cfg.ContainerPool.PrewarmExpirationCheckIntervalVariance = nil
			h := newHarness(t, cfg, testOpts{mode: factoryFail})
			h.advance(59*time.Second, time.Second) // the first check is at 1 min
			if got := h.createCount(); got != 3 {
				t.Fatalf("%d attempts before the first check, want 3", got)
			}
			if got := len(poolMsgs[*actors.ReleaseMemory](h)); got != 3 {
				t.Errorf("%d reservations released, want one per failure (3)", got)
			}
			if got := metricValue(t, h, "stemcell_prewarm_retry_stopped"); got != 1 {
				t.Errorf("retry-stopped gauge %v, want 1", got)
			}
			h.advance(time.Minute, time.Second) // the check, then 59 s more
			if got := h.createCount(); got != 6 {
				t.Errorf("%d attempts after the first check, want 6", got)
			}
			if got := metricValue(t, h, "stemcell_prewarm_creation_failures_total"); got != 6 {
				t.Errorf("failures counter %v, want 6", got)
			}
			// A success resets the counter and the stock fills up.
			h.mode.Store(int32(factoryOK))
			h.advance(2*time.Minute, time.Second)
			if got := h.state().Ready[nodeKey]; got != tt.initial {
				t.Errorf("%d ready once the factory works, want %d", got, tt.initial)
			}
		})
	}
}

// TestRefusedMemory: a refused reservation creates nothing, is logged once
// per round, and is retried on the next round or on a capacity change.
func TestRefusedMemory(t *testing.T) {
	tests := []struct {
		name string
		thr  *config.PrewarmContainerCreationConfig
		// wantAsks after 12 s of refusals: unthrottled, one round at start;
		// throttled (2 per 5 s), rounds at 0, 5 and 10 s.
		wantAsks, wantLogs int
	}{
		{"unthrottled", nil, 3, 1},
		{"throttled", &config.PrewarmContainerCreationConfig{MaxConcurrent: 2, CreationDelay: 5 * time.Second}, 6, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(config.StemCell{InitialCount: 3, Memory: 256 * config.MB})
			cfg.ContainerPool.PrewarmContainerCreationConfig = tt.thr
			h := newHarness(t, cfg, testOpts{refuse: true})
			h.advance(12*time.Second, time.Second)
			if got := h.createCount(); got != 0 {
				t.Fatalf("%d containers created with the memory refused", got)
			}
			if got := len(poolMsgs[*actors.ReserveMemory](h)); got != tt.wantAsks {
				t.Errorf("%d reservations asked, want %d", got, tt.wantAsks)
			}
			if got := strings.Count(h.logs.String(), "pool refused the memory"); got != tt.wantLogs {
				t.Errorf("refusal logged %d times, want once per round (%d)", got, tt.wantLogs)
			}
			if st := h.state(); st.Queued+st.InFlight != 3 {
				t.Errorf("queued %d + in flight %d, want the 3 missing still counted", st.Queued, st.InFlight)
			}
			h.grant.Store(true)
			h.sys.Root.Send(h.sched, &actors.CapacityChanged{})
			h.advance(15*time.Second, time.Second)
			if got := h.state().Ready[nodeKey]; got != 3 {
				t.Errorf("%d ready after capacity came back, want 3", got)
			}
		})
	}
}

// TestUnhealthyIsReplaced: the first stem cell refuses TCP connections;
// after max-fails (3) checks it is removed as unhealthy and, once the pool
// confirms, replaced. The healthy one stays.
func TestUnhealthyIsReplaced(t *testing.T) {
	var mu sync.Mutex
	dials := map[string]int{}
	dial := func(ctx context.Context, addr string) error {
		mu.Lock()
		dials[addr]++
		mu.Unlock()
		if addr == "10.0.0.1:8080" {
			return errors.New("connection refused")
		}
		return nil
	}
	cfg := testConfig(config.StemCell{InitialCount: 2, Memory: 256 * config.MB})
	cfg.ContainerProxy.ActionHealthCheck = config.ActionHealthCheck{Enabled: true, CheckPeriod: 3 * time.Second, MaxFails: 3}
	h := newHarness(t, cfg, testOpts{dial: dial})
	readies := poolMsgs[*actors.StemCellReady](h)
	if len(readies) != 2 {
		t.Fatalf("%d stem cells at start, want 2", len(readies))
	}
	var bad uint64
	for _, r := range readies {
		if r.Container.Addr() == "10.0.0.1:8080" {
			bad = r.Ref
		}
	}
	for round := 1; round <= 3; round++ {
		h.clock.Advance(3 * time.Second)
		h.waitForHealthRounds(uint64(round))
		removals := poolMsgs[*actors.RemoveStemCell](h)
		if round < 3 && len(removals) != 0 {
			t.Fatalf("removal after %d failed checks, want it after 3", round)
		}
		if round == 3 && (len(removals) != 1 || removals[0].Ref != bad || removals[0].Reason != "unhealthy") {
			t.Fatalf("after 3 failed checks removals are %+v, want one of ref %d, unhealthy", removals, bad)
		}
	}
	mu.Lock()
	if dials["10.0.0.1:8080"] != 3 || dials["10.0.0.2:8080"] != 3 {
		t.Errorf("dials %v, want 3 to each stem cell", dials)
	}
	mu.Unlock()
	// A removal it asked for is replaced even without Replace.
	h.sys.Root.Send(h.sched, &actors.StemCellRemoved{Ref: bad})
	h.settle()
	if got := len(poolMsgs[*actors.StemCellReady](h)); got != 3 {
		t.Errorf("%d stem cells made in all, want 3 (a replacement)", got)
	}
	if got := h.state().Ready[nodeKey]; got != 2 {
		t.Errorf("%d ready, want 2", got)
	}
	if got := metricValue(t, h, "stemcell_prewarm_unhealthy_total"); got != 1 {
		t.Errorf("unhealthy counter %v, want 1", got)
	}
}

// TestStopCancelsTimers: once stopped, no timer of the scheduler is left.
func TestStopCancelsTimers(t *testing.T) {
	cfg := testConfig(config.StemCell{InitialCount: 4, Memory: 256 * config.MB})
	cfg.ContainerPool.PrewarmContainerCreationConfig = &config.PrewarmContainerCreationConfig{MaxConcurrent: 1, CreationDelay: 5 * time.Second}
	cfg.ContainerProxy.ActionHealthCheck.Enabled = true
	h := newHarness(t, cfg, testOpts{})
	if got := h.clock.Pending(); got != 3 {
		t.Fatalf("%d timers pending, want 3 (check, round, health)", got)
	}
	if err := h.sys.Root.StopFuture(h.sched).Wait(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if got := h.clock.Pending(); got != 0 {
		t.Errorf("%d timers pending after stop, want 0", got)
	}
	before := len(poolMsgs[*actors.ReserveMemory](h))
	h.clock.Advance(time.Hour)
	h.touch(h.pool)
	if got := len(poolMsgs[*actors.ReserveMemory](h)); got != before {
		t.Errorf("%d reservations after stop, want none", got-before)
	}
}

// TestNoConfigCreatesNothing: a scheduler without a factory logs and stays
// idle rather than crash its parent.
func TestNoFactoryCreatesNothing(t *testing.T) {
	h := newHarness(t, testConfig(config.StemCell{InitialCount: 2, Memory: 256 * config.MB}), testOpts{})
	pid := h.sys.Root.Spawn(Props(Options{Config: testConfig(config.StemCell{InitialCount: 2, Memory: 256 * config.MB}),
		Pool: h.pool, Clock: h.clock, Log: zerolog.New(h.logs)}))
	h.touch(pid)
	h.touch(h.pool)
	if got := len(poolMsgs[*actors.ReserveMemory](h)); got != 2 {
		t.Errorf("%d reservations, want only the 2 of the working scheduler", got)
	}
	if !strings.Contains(h.logs.String(), "needs a config and a factory") {
		t.Errorf("no error logged for the missing factory")
	}
	if err := h.sys.Root.StopFuture(pid).Wait(); err != nil {
		t.Fatalf("stop: %v", err)
	}
}

// TestRestartCancelsTimers: a crash restarts the scheduler; the old
// instance's timers must not survive next to the new instance's.
func TestRestartCancelsTimers(t *testing.T) {
	cfg := testConfig(config.StemCell{InitialCount: 1, Memory: 256 * config.MB})
	cfg.ContainerProxy.ActionHealthCheck.Enabled = true
	h := newHarness(t, cfg, testOpts{})
	if got := h.clock.Pending(); got != 2 {
		t.Fatalf("%d timers pending, want 2 (check, health)", got)
	}
	// A nil message makes the handler panic; the default supervisor restarts.
	h.sys.Root.Send(h.sched, (*actors.ReserveMemoryReply)(nil))
	h.settle()
	if got := h.clock.Pending(); got != 2 {
		t.Errorf("%d timers pending after a restart, want 2", got)
	}
}
