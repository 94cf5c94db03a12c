package e2e

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// burstJS holds its container for a few tens of milliseconds, so that a
// burst needs more containers than the budget allows and has to queue.
const burstJS = `function main(p) { return new Promise(r => setTimeout(() => r({n: p.n}), 40)); }`

// TestBurstIsQueuedNotRefused sends a burst much larger than the memory
// budget can run at once, with the default admission limits: every request
// is answered (200, or 202 with the id), none is refused, every accepted
// activation has exactly one record, and the memory held, in the pool's
// books and in the engine's containers, never exceeds user-memory.
func TestBurstIsQueuedNotRefused(t *testing.T) {
	const (
		clients  = 100
		invokes  = 500
		actions  = 8
		budgetMB = 1024
	)
	d := newDaemon(t, "--user-memory", fmt.Sprintf("%dm", budgetMB))
	d.start()
	for i := range actions {
		d.putAction(fmt.Sprintf("burst%d", i), burstJS, map[string]int{"memory": 128})
	}

	ctx, stopSampling := context.WithCancel(context.Background())
	sampled := make(chan memorySamples, 1)
	go func() { sampled <- d.sampleMemory(ctx) }()

	var next atomic.Int64
	var mu sync.Mutex
	ids := map[string]int{}
	statuses := map[int]int{}
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for {
				n := next.Add(1) - 1
				if n >= invokes {
					return
				}
				path := fmt.Sprintf("/api/v1/namespaces/_/actions/burst%d", n%actions)
				if n%2 == 0 {
					path += "?blocking=true"
				}
				r, err := d.try("POST", path, guestAuth, map[string]any{"n": n})
				mu.Lock()
				if err != nil {
					statuses[-1]++
				} else {
					statuses[r.status]++
					if id := r.header.Get("X-Openwhisk-Activation-Id"); id != "" && (r.status == 200 || r.status == 202) {
						ids[id]++
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if statuses[200]+statuses[202] != invokes || len(ids) != invokes {
		t.Fatalf("answers by status %v, %d distinct ids: want %d answers of 200 or 202, each with its own id", statuses, len(ids), invokes)
	}

	// Each accepted activation is recorded once: the list has each id once.
	waitFor(t, "every record listed", 2*time.Minute, func() bool {
		return len(d.listActivationIDs()) >= invokes
	})
	listed := d.listActivationIDs()
	for id := range ids {
		if listed[id] != 1 {
			t.Errorf("activation %s listed %d times, want once", id, listed[id])
		}
	}
	if len(listed) != invokes {
		t.Errorf("%d activations listed, want %d", len(listed), invokes)
	}

	stopSampling()
	s := <-sampled
	if s.n == 0 || s.engineN == 0 {
		t.Fatalf("memory sampled %d times from the pool and %d from the engine: the sampler did not run", s.n, s.engineN)
	}
	if s.poolPeakMB > budgetMB || s.enginePeakMB > budgetMB {
		t.Errorf("memory peaked at %d MB in the pool's books and %d MB in the engine: budget %d MB", s.poolPeakMB, s.enginePeakMB, budgetMB)
	}
	t.Logf("%d invokes by %d clients: statuses %v; peak memory %d MB (pool, %d samples), %d MB (engine, %d samples)",
		invokes, clients, statuses, s.poolPeakMB, s.n, s.enginePeakMB, s.engineN)
	if code := d.shutdown(); code != 0 {
		t.Errorf("exit code %d", code)
	}
}
