package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
)

// memorySamples is the peak memory seen while a test ran: in the pool's
// books (/v1/pool: everything but free) and in the engine (the sum of the
// memory limits of the daemon's containers).
type memorySamples struct {
	n, engineN               int
	poolPeakMB, enginePeakMB int64
}

// sampleMemory samples until ctx ends. The engine is read by inspecting
// each container: its list does not carry the memory limit.
func (d *daemon) sampleMemory(ctx context.Context) memorySamples {
	var s memorySamples
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if r, err := d.try("GET", "/v1/pool", "", nil); err == nil && r.status == 200 {
			var p struct{ TotalMB, FreeMB int64 }
			if json.Unmarshal(r.body, &p) == nil {
				s.n++
				s.poolPeakMB = max(s.poolPeakMB, p.TotalMB-p.FreeMB)
			}
		}
		if mb, ok := d.engineMemoryMB(ctx); ok {
			s.engineN++
			s.enginePeakMB = max(s.enginePeakMB, mb)
		}
		select {
		case <-ctx.Done():
			return s
		case <-tick.C:
		}
	}
}

// engineMemoryMB sums HostConfig.Memory over the daemon's containers that
// exist now; ok is false when the engine could not be listed. It runs off
// the test's goroutine, so it reports errors instead of failing the test.
func (d *daemon) engineMemoryMB(ctx context.Context) (int64, bool) {
	list, err := engine.ContainerList(ctx, container.ListOptions{All: true,
		Filters: filters.NewArgs(filters.Arg("name", "^/?"+regexp.QuoteMeta(d.name)+"_"))})
	if err != nil {
		return 0, false
	}
	var sum int64
	for _, c := range list {
		info, err := engine.ContainerInspect(ctx, c.ID)
		if err != nil {
			continue // removed between the list and the inspect
		}
		sum += info.HostConfig.Memory
	}
	return sum >> 20, true
}

// listActivationIDs counts, per id, the records the activation list serves.
func (d *daemon) listActivationIDs() map[string]int {
	d.t.Helper()
	out := map[string]int{}
	for skip := 0; ; skip += 200 {
		r := d.do("GET", fmt.Sprintf("/api/v1/namespaces/_/activations?limit=200&skip=%d", skip), guestAuth, nil)
		var page []struct {
			ActivationID string `json:"activationId"`
		}
		if r.status != 200 || json.Unmarshal(r.body, &page) != nil {
			d.t.Fatalf("list activations: %v", r)
		}
		for _, a := range page {
			out[a.ActivationID]++
		}
		if len(page) < 200 {
			return out
		}
	}
}
