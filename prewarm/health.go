package prewarm

import (
	"context"
	"net"
	"sync"
	"time"
)

// HealthVerdict folds one TCP check into a stem cell's count of consecutive
// failures and says whether it must go: after maxFails failures in a row
// (at least one). A success clears the count.
func HealthVerdict(fails int, checkErr error, maxFails int) (newFails int, remove bool) {
	if checkErr == nil {
		return 0, false
	}
	fails++
	return fails, fails >= max(maxFails, 1)
}

// DialFunc checks that something accepts TCP connections at addr.
type DialFunc func(ctx context.Context, addr string) error

func netDial(ctx context.Context, addr string) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return conn.Close()
}

type healthTarget struct {
	ref  uint64
	addr string
}

type healthResult struct {
	ref uint64
	err error
}

// healthRound is the answer of one round of checks, posted to the actor.
type healthRound struct {
	gen     uint64
	results []healthResult
}

// probeAll dials every target at once, each bounded by timeout, and returns
// when all have answered or ctx is cancelled. It runs off the actor.
func probeAll(ctx context.Context, dial DialFunc, targets []healthTarget, timeout time.Duration) []healthResult {
	results := make([]healthResult, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			results[i] = healthResult{ref: t.ref, err: dial(dctx, t.addr)}
		}()
	}
	wg.Wait()
	return results
}
