package e2e

import (
	"syscall"
	"testing"
	"time"
)

// TestSIGTERMWhileCreatingStemCells stops the daemon right after it is
// ready, while its stem cells are being created (docker.parallel-runs 1
// spreads the two creations out, so the signal finds them in flight). The
// shutdown stops the factory's creations and waits for those in flight,
// which remove whatever the engine still makes, before the cleanup lists
// what to remove: nothing outlives the daemon, and it exits in bounded
// time.
func TestSIGTERMWhileCreatingStemCells(t *testing.T) {
	const rounds = 3
	const exitBound = time.Minute
	inFlight := 0
	for i := range rounds {
		d := newDaemon(t, "--user-memory", "1024m", "--set", "docker.parallel-runs=1")
		d.start()
		r := d.do("GET", "/v1/pool", "", nil)
		if r.status != 200 {
			t.Fatalf("round %d: /v1/pool %s", i, r)
		}
		starting := r.object(t)["starting"].(map[string]any)["count"].(float64)
		signalled := time.Now()
		if code := d.stop(syscall.SIGTERM); code != 0 {
			t.Errorf("round %d: exit code %d", i, code)
		}
		if took := time.Since(signalled); took > exitBound {
			t.Errorf("round %d: the daemon took %v to exit after SIGTERM, want at most %v", i, took, exitBound)
		}
		if left := d.containers(); len(left) != 0 {
			t.Errorf("round %d: %d containers outlived the daemon (%d creations were in flight at the signal): %v", i, len(left), int(starting), left[0].Names)
		}
		if starting > 0 {
			inFlight++
		}
	}
	if inFlight == 0 {
		t.Fatalf("in none of %d rounds was a stem cell being created at the signal: the test showed nothing", rounds)
	}
	t.Logf("%d of %d rounds had stem cells being created at the signal", inFlight, rounds)
}
