package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
)

// A stem cell removed from outside the daemon (`docker rm -f`) leaves
// /v1/pool within 2 s and is replaced by a new one.
func TestStemCellRemovedOutsideIsReplaced(t *testing.T) {
	d := newDaemon(t, "--user-memory", "1g")
	d.start()
	prewarmed := func() int {
		r := d.do("GET", "/v1/pool", "", nil)
		return int(r.object(t)["prewarmed"].(map[string]any)["count"].(float64))
	}
	// The prewarm scheduler may queue its stock just after "ready": wait
	// for a stem cell, then for the rest to be made.
	waitFor(t, "a stem cell", time.Minute, func() bool { return prewarmed() > 0 })
	d.settle()
	stemCells := func() map[string]bool {
		ids := map[string]bool{}
		for _, c := range d.containers() {
			for _, n := range c.Names {
				if strings.Contains(n, "_prewarm_") {
					ids[c.ID] = true
				}
			}
		}
		return ids
	}
	before, n := stemCells(), prewarmed()
	if n == 0 || len(before) != n {
		t.Fatalf("%d stem cells in /v1/pool, %d in the engine: want the same, more than 0", n, len(before))
	}
	var victim string
	for id := range before {
		victim = id
		break
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := engine.ContainerRemove(ctx, victim, container.RemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	removed := time.Now()
	// Gone: /v1/pool counts one stem cell fewer, or already counts the
	// replacement (a stem cell the engine did not hold before).
	replacement := func(ids map[string]bool) bool {
		for id := range ids {
			if !before[id] {
				return true
			}
		}
		return false
	}
	waitFor(t, "the removed stem cell to leave /v1/pool", 2*time.Second, func() bool {
		return prewarmed() < n || replacement(stemCells())
	})
	t.Logf("gone from /v1/pool %v after docker rm -f", time.Since(removed).Round(time.Millisecond))
	waitFor(t, "the stem cell to be replaced", 30*time.Second, func() bool {
		ids := stemCells()
		return !ids[victim] && replacement(ids) && prewarmed() == n
	})
	if code := d.shutdown(); code != 0 {
		t.Errorf("exit code %d", code)
	}
	if left := d.containers(); len(left) != 0 {
		t.Errorf("%d containers left after shutdown", len(left))
	}
}
